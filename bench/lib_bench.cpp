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
// Every figure runs this protocol: fixed, or the same suite negotiated.
constexpr const char* kProtocol = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
constexpr const char* kSuite = "ChaChaPoly_BLAKE2b";

void ok(const gw::Status& s, const char* what) {
  if (!s) fail(std::string(what) + ": " + s.message);
}

// Both sides' options: fresh identities that trust each other.
struct Sides {
  gw::HandshakeOptions initiator, responder;
};

Sides make_sides(const std::string& protocol, gw::Transport transport) {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  Sides s;
  s.initiator.identity = a;
  s.responder.identity = b;
  s.responder.role = gw::Role::responder;
  s.initiator.trust.add_key(b.public_key());
  s.responder.trust.add_key(a.public_key());
  for (gw::HandshakeOptions* o : {&s.initiator, &s.responder}) {
    o->protocol = protocol;
    // Negotiated mode settles on kProtocol's suite too: the default order
    // would pick AESGCM on a CPU that runs it.
    if (protocol.empty()) o->suites = {kSuite};
    o->transport = transport;
  }
  return s;
}

// One complete handshake through the API, both sides, messages through `scratch`.
void connect(const Sides& sides, std::vector<std::uint8_t>& scratch, gw::Channel& initiator,
             gw::Channel& responder) {
  gw::Handshake hi, hr;
  ok(gw::Handshake::create(sides.initiator, hi), "create initiator");
  ok(gw::Handshake::create(sides.responder, hr), "create responder");
  while (hi.next() != gw::Handshake::Next::done || hr.next() != gw::Handshake::Next::done) {
    gw::Handshake& writer = hi.next() == gw::Handshake::Next::write ? hi : hr;
    gw::Handshake& reader = &writer == &hi ? hr : hi;
    ok(writer.write(scratch), "write");
    ok(reader.read(scratch), "read");
  }
  ok(hi.finish(initiator), "finish initiator");
  ok(hr.finish(responder), "finish responder");
  if (initiator.protocol() != kProtocol) fail("ran " + initiator.protocol() + ", not " + kProtocol);
}

class ApiHandshake {
 public:
  explicit ApiHandshake(const std::string& protocol)
      : sides_(make_sides(protocol, gw::Transport::stream)) {}

  int run_once() {
    gw::Channel ci, cr;
    connect(sides_, message_, ci, cr);
    return 1;
  }

 private:
  Sides sides_;
  std::vector<std::uint8_t> message_;
};

// Seal on one channel, open on its peer: a round trip a message.
class ChannelBench {
 public:
  ChannelBench(gw::Transport transport, std::size_t size) : plaintext_(size) {
    randombytes_buf(plaintext_.data(), plaintext_.size());
    std::vector<std::uint8_t> scratch;
    connect(make_sides(kProtocol, transport), scratch, sender_, receiver_);
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

// libsodium's AEAD on one buffer of the same size, in place.
class RawAead {
 public:
  explicit RawAead(std::size_t size)
      : size_(size), buf_(size + crypto_aead_chacha20poly1305_ietf_ABYTES) {
    randombytes_buf(buf_.data(), size_);
  }

  int run_batch() {
    for (int i = 0; i < kAeadBatch; ++i)
      aead_.round_trip(buf_.data(), size_);
    return kAeadBatch;
  }

 private:
  std::size_t size_;
  std::vector<std::uint8_t> buf_;
  gw::bench::RawChaChaPoly aead_;
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

  gw::bench::NoiseHandshakeBench core(kProtocol);
  struct Mode {
    const char* name;
    const char* protocol;  // empty: negotiated
    const char* metric;
  };
  for (const Mode& mode : {Mode{"fixed", kProtocol, "lib_handshake_fixed_ratio"},
                           Mode{"negotiated", "", "lib_handshake_negotiated_ratio"}}) {
    ApiHandshake api(mode.protocol);
    auto a = [&] { return api.run_once(); };
    auto r = [&] { return core.run_once(); };
    const Series s = compare(opt, a, r);
    const std::string what = std::string("handshakes/s, ") + mode.name + " XX ChaChaPoly_BLAKE2b";
    report(what.c_str(), "/s", 1.0, s, mode.metric);
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
