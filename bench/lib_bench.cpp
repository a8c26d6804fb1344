// SPDX-License-Identifier: MIT
// lib-bench: what libgw's API (include/gw/gw.hpp) costs on top of what it is
// made of. Prints figures; it is not a test.
//
//  1. Complete handshakes per second through gw::Handshake, both sides in this
//     process, in fixed mode (Noise_XX_25519_ChaChaPoly_BLAKE2b) and in
//     negotiated mode (the same suite, no retry), against the Noise core's
//     HandshakeState running the same protocol with no API around it.
//  2. Seal+open throughput of 1420- and 16384-byte messages through
//     gw::Channel, over a stream and over datagrams, against libsodium's
//     ChaCha20-Poly1305 called directly on a buffer in place.
//
// Rates are per second of this thread's CPU time, so the load of a shared
// machine changes them less. Every figure is measured several times, API and
// reference interleaved; medians are reported, and a ratio is the median of
// the ratios of adjacent measurements.
//
// Output: human-readable lines, then `RESULT name=<metric> value=<number>`.
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <sodium.h>

#include "bench_common.hpp"
#include "gw/crypto/sodium.hpp"
#include "gw/gw.hpp"

namespace {

using gw::bench::fail;
using gw::bench::Timing;

constexpr int kAeadBatch = 32;

void ok(const gw::Status& s, const char* what) {
  if (!s) fail(std::string(what) + ": " + s.message);
}

// One handshake through the API, both sides, then a channel each.
class ApiHandshake {
 public:
  explicit ApiHandshake(std::string protocol)
      : a_(gw::Identity::generate()), b_(gw::Identity::generate()) {
    initiator_.protocol = responder_.protocol = std::move(protocol);
    initiator_.identity = a_;
    responder_.identity = b_;
    responder_.role = gw::Role::responder;
    initiator_.trust.add_key(b_.public_key());
    responder_.trust.add_key(a_.public_key());
  }

  int run_once() {
    gw::Handshake hi, hr;
    ok(gw::Handshake::create(initiator_, hi), "create initiator");
    ok(gw::Handshake::create(responder_, hr), "create responder");
    while (hi.next() != gw::Handshake::Next::done || hr.next() != gw::Handshake::Next::done) {
      gw::Handshake& writer = hi.next() == gw::Handshake::Next::write ? hi : hr;
      gw::Handshake& reader = &writer == &hi ? hr : hi;
      ok(writer.write(message_), "write");
      ok(reader.read(message_), "read");
    }
    gw::Channel ci, cr;
    ok(hi.finish(ci), "finish initiator");
    ok(hr.finish(cr), "finish responder");
    return 1;
  }

 private:
  gw::Identity a_, b_;
  gw::HandshakeOptions initiator_, responder_;
  std::vector<std::uint8_t> message_;
};

// Seal on one channel, open on its peer: a round trip a message.
class ChannelBench {
 public:
  ChannelBench(gw::Transport transport, std::size_t size) : plaintext_(size) {
    randombytes_buf(plaintext_.data(), plaintext_.size());
    const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
    gw::HandshakeOptions io, ro;
    io.identity = a;
    ro.identity = b;
    ro.role = gw::Role::responder;
    io.trust.add_key(b.public_key());
    ro.trust.add_key(a.public_key());
    io.transport = ro.transport = transport;
    gw::Handshake hi, hr;
    ok(gw::Handshake::create(io, hi), "create initiator");
    ok(gw::Handshake::create(ro, hr), "create responder");
    std::vector<std::uint8_t> m;
    while (hi.next() != gw::Handshake::Next::done || hr.next() != gw::Handshake::Next::done) {
      gw::Handshake& writer = hi.next() == gw::Handshake::Next::write ? hi : hr;
      gw::Handshake& reader = &writer == &hi ? hr : hi;
      ok(writer.write(m), "write");
      ok(reader.read(m), "read");
    }
    ok(hi.finish(sender_), "finish initiator");
    ok(hr.finish(receiver_), "finish responder");
  }

  int run_batch() {
    for (int i = 0; i < kAeadBatch; ++i) {
      ok(sender_.seal(plaintext_, sealed_), "seal");
      ok(receiver_.open(sealed_, opened_), "open");
    }
    return kAeadBatch;
  }

 private:
  gw::Channel sender_, receiver_;
  std::vector<std::uint8_t> plaintext_, sealed_, opened_;
};

// libsodium's AEAD on one buffer, in place, with a counter nonce.
class RawAead {
 public:
  explicit RawAead(std::size_t size)
      : size_(size), buf_(size + crypto_aead_chacha20poly1305_ietf_ABYTES) {
    crypto_aead_chacha20poly1305_ietf_keygen(key_.data());
    randombytes_buf(buf_.data(), size_);
  }
  ~RawAead() { sodium_memzero(key_.data(), key_.size()); }
  RawAead(const RawAead&) = delete;
  RawAead& operator=(const RawAead&) = delete;

  int run_batch() {
    for (int i = 0; i < kAeadBatch; ++i) {
      std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
      const std::uint64_t n = counter_++;
      for (std::size_t j = 0; j < 8; ++j)
        nonce[4 + j] = static_cast<std::uint8_t>(n >> (8 * j));
      unsigned long long clen = 0, mlen = 0;
      crypto_aead_chacha20poly1305_ietf_encrypt(buf_.data(), &clen, buf_.data(), size_, nullptr, 0,
                                                nullptr, nonce.data(), key_.data());
      if (crypto_aead_chacha20poly1305_ietf_decrypt(buf_.data(), &mlen, nullptr, buf_.data(), clen,
                                                    nullptr, 0, nonce.data(), key_.data()) != 0) {
        fail("raw decrypt");
      }
    }
    return kAeadBatch;
  }

 private:
  std::size_t size_;
  std::vector<std::uint8_t> buf_;
  std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_KEYBYTES> key_{};
  std::uint64_t counter_ = 0;
};

struct Series {
  std::vector<double> api, reference;
};

// Measures `api` and `reference` alternately, `runs` times each.
template <class A, class R>
Series compare(const gw::bench::Options& opt, A& api, R& reference) {
  Series s;
  gw::bench::measure(Timing::thread_cpu, gw::bench::kWarmupSeconds, [&] { return api(); });
  gw::bench::measure(Timing::thread_cpu, gw::bench::kWarmupSeconds, [&] { return reference(); });
  for (int r = 0; r < opt.runs; ++r) {
    s.api.push_back(gw::bench::measure(Timing::thread_cpu, opt.seconds, [&] { return api(); }));
    s.reference.push_back(
        gw::bench::measure(Timing::thread_cpu, opt.seconds, [&] { return reference(); }));
  }
  return s;
}

void report(const char* what, const char* unit, double scale, const Series& s, const char* metric) {
  std::vector<double> api = s.api, ref = s.reference;
  for (double& v : api)
    v *= scale;
  for (double& v : ref)
    v *= scale;
  std::printf("%-46s %10.1f %s (libgw)", what, gw::bench::median(api), unit);
  gw::bench::print_spread(api);
  std::printf("\n%-46s %10.1f %s (reference)", "", gw::bench::median(ref), unit);
  gw::bench::print_spread(ref);
  const double ratio = gw::bench::paired_ratio(s.api, s.reference);
  std::printf("\n%-46s %10.3f\n", "  ratio libgw / reference", ratio);
  gw::bench::result(metric, ratio);
}

}  // namespace

int main(int argc, char** argv) {
  const gw::bench::Harness harness{"lib-bench", "libgw and its reference measured alternately"};
  const gw::bench::Options opt = harness.parse(argc, argv);
  gw::crypto::ensure_sodium();
  std::printf("lib-bench: %d runs of %.3g s per figure; rates per second of CPU time\n\n", opt.runs,
              opt.seconds);

  gw::bench::NoiseHandshakeBench core("Noise_XX_25519_ChaChaPoly_BLAKE2b");
  for (const char* mode : {"fixed", "negotiated"}) {
    ApiHandshake api(std::string(mode) == "fixed" ? "Noise_XX_25519_ChaChaPoly_BLAKE2b" : "");
    auto a = [&] { return api.run_once(); };
    auto r = [&] { return core.run_once(); };
    const Series s = compare(opt, a, r);
    const std::string what = std::string("handshakes/s, ") + mode + " XX ChaChaPoly_BLAKE2b";
    report(what.c_str(), "/s", 1.0, s,
           std::string(mode) == "fixed" ? "lib_handshake_fixed_ratio"
                                        : "lib_handshake_negotiated_ratio");
  }

  for (const std::size_t size : {std::size_t{1420}, std::size_t{16384}}) {
    for (const gw::Transport t : {gw::Transport::stream, gw::Transport::datagram}) {
      ChannelBench api(t, size);
      RawAead raw(size);
      auto a = [&] { return api.run_batch(); };
      auto r = [&] { return raw.run_batch(); };
      const Series s = compare(opt, a, r);
      const char* tname = t == gw::Transport::stream ? "stream" : "datagram";
      const std::string what =
          "seal+open MB/s, " + std::to_string(size) + " B, " + tname + " ChaChaPoly";
      const std::string metric = "lib_seal_open_" + std::to_string(size) + "_" + tname + "_ratio";
      report(what.c_str(), "MB/s", static_cast<double>(size) / 1e6, s, metric.c_str());
    }
  }
  return 0;
}
