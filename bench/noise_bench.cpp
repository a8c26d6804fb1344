// SPDX-License-Identifier: MIT
// noise-bench: how close gw's Noise layer comes to the libsodium primitives
// beneath it. Prints figures; it is not a test.
//
//  1. Complete Noise_XX_25519_ChaChaPoly_BLAKE2b handshakes per second, both
//     sides in this process (3 messages with empty payloads, then split).
//  2. The X25519 bound: crypto_scalarmult operations per second divided by the
//     X25519 operations one handshake needs (DH on both sides plus ephemeral
//     key generations), and the ratio handshakes / bound.
//  3. Transport encrypt+decrypt throughput of 1420-byte messages through
//     gw::noise::CipherState against libsodium's AEAD called directly, for
//     ChaChaPoly and (where the CPU has it) AESGCM.
//
// Every figure is measured several times, gw and raw interleaved, each run
// lasting a fixed wall-time window; medians are reported. A ratio is the
// median of the per-run ratios of adjacent gw and raw measurements, which
// share whatever load the machine had at that moment.
//
// Output: human-readable lines, then `RESULT name=<metric> value=<number>`.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "bench_common.hpp"
#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/aead.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/sodium.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/noise/cipher_state.hpp"
#include "gw/noise/error.hpp"
#include "gw/noise/handshake_state.hpp"
#include "gw/noise/protocol.hpp"
#include "gw/noise/transport_state.hpp"

namespace {

using gw::Bytes;
using gw::bench::check;
using gw::bench::fail;
using gw::bench::kWarmupSeconds;
using gw::bench::measure;
using gw::bench::median;
using gw::bench::paired_ratio;
using gw::bench::parse_or_die;
using gw::bench::print_spread;
using gw::bench::result;
using gw::bench::Timing;  // noise-bench: rates per second of wall time
using gw::crypto::CipherAlg;
using gw::noise::Error;

constexpr std::string_view kHandshakeProtocol = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
constexpr std::string_view kAesProtocol = "Noise_XX_25519_AESGCM_SHA256";
constexpr std::size_t kMsgLen = 1420;  // a transport payload that fits a 1500-byte MTU
constexpr std::size_t kTagLen = gw::noise_spec::kTagLen;
constexpr int kAeadBatch = 32;       // AEAD round trips between two clock reads
constexpr int kScalarmultBatch = 4;  // crypto_scalarmult calls between two clock reads

// --- Handshakes ---

class HandshakeBench {
 public:
  explicit HandshakeBench(const gw::noise::Protocol& protocol)
      : protocol_(protocol),
        rng_(gw::crypto::system_rng()),
        initiator_static_(gw::crypto::KeyPair::generate(rng_)),
        responder_static_(gw::crypto::KeyPair::generate(rng_)) {}

  // One complete handshake, both sides; the transport states are left in
  // `initiator` and `responder`.
  void run(gw::noise::TransportState& initiator, gw::noise::TransportState& responder) {
    gw::bench::noise_handshake(protocol_, rng_, initiator_static_, responder_static_, initiator,
                               responder);
  }

  int run_once() {
    gw::noise::TransportState a, b;
    run(a, b);
    return 1;
  }

  // X25519 operations of one handshake: DH counted by gw, plus one key
  // generation per "e" token. Also checks that both sides agree.
  int x25519_per_handshake() {
    const std::uint64_t dh_before = gw::crypto::dh_operations_on_this_thread();
    gw::noise::TransportState a, b;
    run(a, b);
    const std::uint64_t dh = gw::crypto::dh_operations_on_this_thread() - dh_before;

    const Bytes ha = a.handshake_hash(), hb = b.handshake_hash();
    if (!std::equal(ha.begin(), ha.end(), hb.begin(), hb.end())) fail("handshake hashes differ");
    std::array<std::uint8_t, 32 + kTagLen> buf{};
    std::size_t w = 0;
    check(a.send.encrypt_with_ad({}, Bytes(buf.data(), 32), buf, w), "transport encrypt");
    check(b.receive.decrypt_with_ad({}, Bytes(buf.data(), w), buf, w), "transport decrypt");

    std::uint64_t keygens = 0;
    const auto& pattern = protocol_.pattern;
    for (std::size_t i = 0; i < pattern.message_count; ++i) {
      const auto tokens = pattern.messages[i].view();
      keygens +=
          static_cast<std::uint64_t>(std::count(tokens.begin(), tokens.end(), gw::noise::Token::e));
    }
    return static_cast<int>(dh + keygens);
  }

 private:
  gw::noise::Protocol protocol_;
  gw::crypto::Rng& rng_;
  gw::crypto::KeyPair initiator_static_;
  gw::crypto::KeyPair responder_static_;
};

class ScalarmultBench {
 public:
  ScalarmultBench() {
    randombytes_buf(scalar_.data(), scalar_.size());
    randombytes_buf(point_.data(), point_.size());
    if (crypto_scalarmult_base(point_.data(), point_.data()) != 0) fail("scalarmult_base");
  }

  int run_batch() {
    for (int i = 0; i < kScalarmultBatch; ++i) {
      if (crypto_scalarmult(out_.data(), scalar_.data(), point_.data()) != 0) fail("scalarmult");
    }
    return kScalarmultBatch;
  }

 private:
  std::array<std::uint8_t, crypto_scalarmult_SCALARBYTES> scalar_{};
  std::array<std::uint8_t, crypto_scalarmult_BYTES> point_{};
  std::array<std::uint8_t, crypto_scalarmult_BYTES> out_{};
};

// --- Transport ---

// Cache-line aligned in both benchmarks, so neither gains from a luckier address.
struct alignas(64) MessageBuffer : std::array<std::uint8_t, kMsgLen + kTagLen> {};

// encrypt_with_ad on one CipherState, decrypt_with_ad on a second one with
// the same key, in place, empty ad.
class GwTransportBench {
 public:
  GwTransportBench(CipherAlg alg, const gw::crypto::AeadKeyBytes& key) : enc_(alg), dec_(alg) {
    enc_.initialize_key(key);
    dec_.initialize_key(key);
    randombytes_buf(buf_.data(), kMsgLen);
  }

  int run_batch() {
    for (int i = 0; i < kAeadBatch; ++i) {
      std::size_t w = 0;
      if (enc_.encrypt_with_ad({}, Bytes(buf_.data(), kMsgLen), buf_, w) != Error::ok ||
          w != kMsgLen + kTagLen) {
        fail("gw encrypt");
      }
      if (dec_.decrypt_with_ad({}, Bytes(buf_.data(), w), buf_, w) != Error::ok || w != kMsgLen) {
        fail("gw decrypt");
      }
    }
    return kAeadBatch;
  }

 private:
  gw::noise::CipherState enc_;
  gw::noise::CipherState dec_;
  MessageBuffer buf_{};
};

// libsodium's AEAD called directly on a buffer of the same size, with a
// counter nonce encoded as Noise encodes it.
class RawTransportBench {
 public:
  RawTransportBench(CipherAlg alg, const gw::crypto::AeadKeyBytes& key) : alg_(alg), key_(key) {
    if (alg_ == CipherAlg::aesgcm) crypto_aead_aes256gcm_beforenm(&aes_, key_.data());
    randombytes_buf(buf_.data(), kMsgLen);
  }
  ~RawTransportBench() { sodium_memzero(&aes_, sizeof aes_); }
  RawTransportBench(const RawTransportBench&) = delete;
  RawTransportBench& operator=(const RawTransportBench&) = delete;

  int run_batch() {
    for (int i = 0; i < kAeadBatch; ++i) {
      const gw::crypto::Nonce nonce = next_nonce();
      unsigned long long clen = 0, mlen = 0;
      if (alg_ == CipherAlg::chachapoly) {
        crypto_aead_chacha20poly1305_ietf_encrypt(buf_.data(), &clen, buf_.data(), kMsgLen, nullptr,
                                                  0, nullptr, nonce.data(), key_.data());
        if (crypto_aead_chacha20poly1305_ietf_decrypt(buf_.data(), &mlen, nullptr, buf_.data(),
                                                      clen, nullptr, 0, nonce.data(),
                                                      key_.data()) != 0) {
          fail("raw decrypt");
        }
      } else {
        crypto_aead_aes256gcm_encrypt_afternm(buf_.data(), &clen, buf_.data(), kMsgLen, nullptr, 0,
                                              nullptr, nonce.data(), &aes_);
        if (crypto_aead_aes256gcm_decrypt_afternm(buf_.data(), &mlen, nullptr, buf_.data(), clen,
                                                  nullptr, 0, nonce.data(), &aes_) != 0) {
          fail("raw decrypt");
        }
      }
      if (mlen != kMsgLen) fail("raw decrypt length");
    }
    return kAeadBatch;
  }

 private:
  gw::crypto::Nonce next_nonce() noexcept {
    gw::crypto::Nonce nonce{};
    const std::uint64_t n = n_++;
    for (std::size_t i = 0; i < 8; ++i) {
      const auto byte = static_cast<std::uint8_t>(n >> (8 * i));
      nonce[alg_ == CipherAlg::chachapoly ? 4 + i : 11 - i] = byte;
    }
    return nonce;
  }

  CipherAlg alg_;
  gw::crypto::AeadKeyBytes key_;
  crypto_aead_aes256gcm_state aes_{};
  std::uint64_t n_ = 0;
  MessageBuffer buf_{};
};

// Interleaved raw/gw measurements of one transport cipher.
struct TransportSeries {
  const char* name;
  GwTransportBench gw;
  RawTransportBench raw;
  std::vector<double> gw_mbps{};
  std::vector<double> raw_mbps{};

  TransportSeries(const char* series_name, CipherAlg alg, const gw::crypto::AeadKeyBytes& key)
      : name(series_name), gw(alg, key), raw(alg, key) {}

  static double to_mbps(double round_trips_per_s) {
    return round_trips_per_s * static_cast<double>(kMsgLen) / 1e6;
  }

  void warm_up() {
    (void)measure(Timing::wall, kWarmupSeconds, [this] { return raw.run_batch(); });
    (void)measure(Timing::wall, kWarmupSeconds, [this] { return gw.run_batch(); });
  }

  void run(double window) {
    raw_mbps.push_back(to_mbps(measure(Timing::wall, window, [this] { return raw.run_batch(); })));
    gw_mbps.push_back(to_mbps(measure(Timing::wall, window, [this] { return gw.run_batch(); })));
  }
};

}  // namespace

int main(int argc, char** argv) {
  const gw::bench::Options opt =
      gw::bench::Harness{"noise-bench", "interleaved gw/raw"}.parse(argc, argv);
  gw::crypto::ensure_sodium();

  const gw::noise::Protocol hs_protocol = parse_or_die(kHandshakeProtocol);
  HandshakeBench handshakes(hs_protocol);
  ScalarmultBench scalarmult;
  const int x25519_ops = handshakes.x25519_per_handshake();

  gw::crypto::AeadKeyBytes key;
  gw::crypto::system_rng().fill(key.bytes());
  std::vector<std::unique_ptr<TransportSeries>> transports;
  transports.push_back(std::make_unique<TransportSeries>("chachapoly", hs_protocol.cipher, key));
  const bool aes = gw::crypto::aes256gcm_available();
  if (aes) {
    transports.push_back(
        std::make_unique<TransportSeries>("aesgcm", parse_or_die(kAesProtocol).cipher, key));
  }

  std::printf("noise-bench: %d runs of %.3g s per measurement, gw and raw interleaved; medians\n",
              opt.runs, opt.seconds);
  std::printf("handshake: %.*s, both sides in one process, 3 messages, empty payloads, split\n",
              static_cast<int>(kHandshakeProtocol.size()), kHandshakeProtocol.data());
  std::printf("transport: %zu-byte messages, encrypt + decrypt in place, empty ad\n", kMsgLen);
  if (!aes) std::printf("aesgcm: not available on this CPU, skipped\n");
  std::fflush(stdout);

  (void)measure(Timing::wall, kWarmupSeconds, [&] { return scalarmult.run_batch(); });
  (void)measure(Timing::wall, kWarmupSeconds, [&] { return handshakes.run_once(); });
  for (auto& t : transports) {
    t->warm_up();
  }

  std::vector<double> scalarmult_rates, bound_rates, handshake_rates;
  for (int run = 0; run < opt.runs; ++run) {
    const double sm = measure(Timing::wall, opt.seconds, [&] { return scalarmult.run_batch(); });
    scalarmult_rates.push_back(sm);
    bound_rates.push_back(sm / x25519_ops);
    handshake_rates.push_back(
        measure(Timing::wall, opt.seconds, [&] { return handshakes.run_once(); }));
    for (auto& t : transports) {
      t->run(opt.seconds);
    }
  }

  const double hs = median(handshake_rates);
  const double sm = median(scalarmult_rates);
  const double bound = median(bound_rates);
  const double hs_ratio = paired_ratio(handshake_rates, bound_rates);

  std::printf("\n%-22s %12.1f /s", "handshakes", hs);
  print_spread(handshake_rates);
  std::printf("\n%-22s %12.1f /s", "crypto_scalarmult", sm);
  print_spread(scalarmult_rates);
  std::printf("\n%-22s %12.1f /s  (crypto_scalarmult / %d: DH + ephemeral keygens)\n",
              "x25519 bound", bound, x25519_ops);
  std::printf("%-22s %12.3f     (goal >= 0.90)\n", "handshake / bound", hs_ratio);
  for (const auto& series : transports) {
    const TransportSeries& t = *series;
    const double g = median(t.gw_mbps), r = median(t.raw_mbps);
    std::printf("%-11s gw  %10.1f MB/s", t.name, g);
    print_spread(t.gw_mbps);
    std::printf("\n%-11s raw %10.1f MB/s", t.name, r);
    print_spread(t.raw_mbps);
    std::printf("\n%-22s %12.3f     (goal >= 0.95)\n", (std::string(t.name) + " gw / raw").c_str(),
                paired_ratio(t.gw_mbps, t.raw_mbps));
  }
  std::printf("(MB/s = 10^6 plaintext bytes each encrypted and decrypted per second)\n\n");

  result("handshakes_per_s", hs);
  result("x25519_ops_per_s", sm);
  result("x25519_ops_per_handshake", x25519_ops);
  result("x25519_bound_per_s", bound);
  result("handshake_ratio", hs_ratio);
  for (const auto& series : transports) {
    const TransportSeries& t = *series;
    const std::string prefix(t.name);
    result((prefix + "_gw_MBps").c_str(), median(t.gw_mbps));
    result((prefix + "_raw_MBps").c_str(), median(t.raw_mbps));
    result((prefix + "_ratio").c_str(), paired_ratio(t.gw_mbps, t.raw_mbps));
  }
  return 0;
}
