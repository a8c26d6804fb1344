// SPDX-License-Identifier: MIT
// The harness noise-bench and engine-bench share: command-line options
// (--runs, --seconds, --quick and an optional program-specific flag), errors
// that end the program, the measurement loop, medians and the output helpers.
// Header-only; every program includes it once.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <sodium.h>

#include "gw/crypto/random.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/noise/error.hpp"
#include "gw/noise/handshake_state.hpp"
#include "gw/noise/protocol.hpp"
#include "gw/noise/transport_state.hpp"

namespace gw::bench {

constexpr int kDefaultRuns = 7;
constexpr double kDefaultSeconds = 0.3;
constexpr int kQuickRuns = 3;
constexpr double kQuickSeconds = 0.1;
constexpr double kWarmupSeconds = 0.05;  // one untimed measurement of each figure first

// The program's name, as error messages begin; Harness::parse sets it.
inline std::string_view program_name = "bench";

[[noreturn]] inline void fail(std::string_view what) {
  std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(program_name.size()), program_name.data(),
               static_cast<int>(what.size()), what.data());
  std::exit(1);
}

inline void check(gw::noise::Error err, std::string_view what) {
  if (err != gw::noise::Error::ok) {
    std::fprintf(stderr, "%.*s: %.*s: %s\n", static_cast<int>(program_name.size()),
                 program_name.data(), static_cast<int>(what.size()), what.data(),
                 gw::noise::to_string(err));
    std::exit(1);
  }
}

template <class T>
bool parse_number(std::string_view text, T& value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end;
}

struct Options {
  int runs = kDefaultRuns;
  double seconds = kDefaultSeconds;
  bool extra = false;  // the program's extra flag was given
};

// What a program tells the harness about itself.
struct Harness {
  std::string_view name;          // "noise-bench": usage line, error messages
  std::string_view runs_help;     // how the runs of --runs are arranged
  std::string_view extra_flag{};  // an optional flag without a value, e.g. "--wall"
  std::string_view extra_help{};  // its usage lines, each ending in '\n'

  void usage(std::FILE* to) const {
    std::fprintf(to, "usage: %.*s [--runs N] [--seconds S] [--quick]",
                 static_cast<int>(name.size()), name.data());
    if (!extra_flag.empty()) {
      std::fprintf(to, " [%.*s]", static_cast<int>(extra_flag.size()), extra_flag.data());
    }
    std::fprintf(to,
                 "\n"
                 "  --runs N     measurements of each figure, %.*s (default %d)\n"
                 "  --seconds S  wall time of one measurement (default %.3g)\n"
                 "  --quick      %d runs of %.3g s (about 2 s in all); --runs/--seconds override\n"
                 "%.*s",
                 static_cast<int>(runs_help.size()), runs_help.data(), kDefaultRuns,
                 kDefaultSeconds, kQuickRuns, kQuickSeconds, static_cast<int>(extra_help.size()),
                 extra_help.data());
  }

  // Reads the command line; prints usage and exits on --help or a bad one.
  Options parse(int argc, char** argv) const {
    program_name = name;
    Options opt;
    std::optional<int> runs;
    std::optional<double> seconds;
    for (int i = 1; i < argc; ++i) {
      const std::string_view arg = argv[i];
      const bool has_value = i + 1 < argc;
      if (!extra_flag.empty() && arg == extra_flag) {
        opt.extra = true;
      } else if (arg == "--quick") {
        opt.runs = kQuickRuns;
        opt.seconds = kQuickSeconds;
      } else if (arg == "--runs" && has_value) {
        int v = 0;
        if (!parse_number(argv[++i], v) || v < 1) fail("--runs needs an integer >= 1");
        runs = v;
      } else if (arg == "--seconds" && has_value) {
        double v = 0;
        if (!parse_number(argv[++i], v) || !(v > 0.0 && v <= 60.0)) {
          fail("--seconds needs a number in (0, 60]");
        }
        seconds = v;
      } else if (arg == "--help" || arg == "-h") {
        usage(stdout);
        std::exit(0);
      } else {
        usage(stderr);
        std::exit(2);
      }
    }
    if (runs) opt.runs = *runs;
    if (seconds) opt.seconds = *seconds;
    return opt;
  }
};

// What a rate is per second of.
enum class Timing {
  wall,        // steady_clock
  thread_cpu,  // this thread's CPU time: on a shared machine a rate per CPU
               // second does not depend on how much of the wall time the
               // scheduler gave us
};

inline double thread_cpu_seconds() {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) fail("clock_gettime");
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Calls `batch` (which performs some operations and returns how many) until
// `window` seconds of wall time have passed; returns operations per second of
// wall time or of this thread's CPU time, as `timing` says.
template <class Batch>
double measure(Timing timing, double window, Batch&& batch) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const double cpu_start = timing == Timing::thread_cpu ? thread_cpu_seconds() : 0.0;
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(window));
  std::uint64_t ops = 0;
  auto now = start;
  do {
    ops += static_cast<std::uint64_t>(batch());
    now = Clock::now();
  } while (now < deadline);
  const double elapsed = timing == Timing::wall ? std::chrono::duration<double>(now - start).count()
                                                : thread_cpu_seconds() - cpu_start;
  return static_cast<double>(ops) / elapsed;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 == 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2.0;
}

// Median of a[i] / b[i]: each pair was measured back to back.
inline double paired_ratio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> r;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    r.push_back(a[i] / b[i]);
  }
  return median(std::move(r));
}

inline gw::noise::Protocol parse_or_die(std::string_view name) {
  gw::noise::ParseResult parsed = gw::noise::parse_protocol(name);
  if (!parsed) fail(parsed.message);
  return *parsed.protocol;
}

// `RESULT name=<metric> value=<number>`, the line scripts read.
inline void result(const char* metric, double value) {
  std::printf("RESULT name=%s value=%.6g\n", metric, value);
}

// " [min .. max]" of a series of measurements.
inline void print_spread(const std::vector<double>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  std::printf(" [%.6g .. %.6g]", *lo, *hi);
}

// One complete Noise handshake between two HandshakeStates with empty
// payloads and prologue: the figure both benchmarks compare against. The
// transport states are left in `initiator` and `responder`.
inline void noise_handshake(const noise::Protocol& protocol, crypto::Rng& rng,
                            const crypto::KeyPair& initiator_static,
                            const crypto::KeyPair& responder_static,
                            noise::TransportState& initiator, noise::TransportState& responder) {
  using noise::HandshakeState;
  using noise::Role;
  HandshakeState init(protocol, Role::initiator, rng);
  HandshakeState resp(protocol, Role::responder, rng);
  check(init.set_local_static(initiator_static), "initiator set_local_static");
  check(resp.set_local_static(responder_static), "responder set_local_static");
  check(init.start(), "initiator start");
  check(resp.start(), "responder start");
  std::array<std::uint8_t, 256> message{};
  std::array<std::uint8_t, 16> payload{};
  for (;;) {
    const auto action = init.action();
    if (action != HandshakeState::Action::write_message &&
        action != HandshakeState::Action::read_message) {
      break;
    }
    const bool init_writes = action == HandshakeState::Action::write_message;
    HandshakeState& writer = init_writes ? init : resp;
    HandshakeState& reader = init_writes ? resp : init;
    std::size_t len = 0, payload_len = 0;
    check(writer.write_message({}, message, len), "write_message");
    check(reader.read_message({message.data(), len}, payload, payload_len), "read_message");
  }
  check(init.split(initiator), "initiator split");
  check(resp.split(responder), "responder split");
}

// noise_handshake() as a benchmark body: fresh static keys once, then one
// complete handshake a call.
class NoiseHandshakeBench {
 public:
  explicit NoiseHandshakeBench(std::string_view protocol)
      : protocol_(parse_or_die(protocol)),
        rng_(crypto::system_rng()),
        initiator_static_(crypto::KeyPair::generate(rng_)),
        responder_static_(crypto::KeyPair::generate(rng_)) {}

  [[gnu::noinline]] int run_once() {
    noise::TransportState a, b;
    noise_handshake(protocol_, rng_, initiator_static_, responder_static_, a, b);
    return 1;
  }

 private:
  noise::Protocol protocol_;
  crypto::Rng& rng_;
  crypto::KeyPair initiator_static_;
  crypto::KeyPair responder_static_;
};

// The reference of the transport figures: libsodium's ChaCha20-Poly1305
// (IETF) called directly, encrypt then decrypt in place, with a counter nonce
// encoded as Noise encodes it (4 zero bytes, then the counter little-endian).
class RawChaChaPoly {
 public:
  RawChaChaPoly() { crypto_aead_chacha20poly1305_ietf_keygen(key_.data()); }
  ~RawChaChaPoly() { sodium_memzero(key_.data(), key_.size()); }
  RawChaChaPoly(const RawChaChaPoly&) = delete;
  RawChaChaPoly& operator=(const RawChaChaPoly&) = delete;

  // `buf` holds `len` bytes of plaintext and room for the 16-byte tag after it.
  void round_trip(std::uint8_t* buf, std::size_t len) {
    std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
    const std::uint64_t n = counter_++;
    for (std::size_t i = 0; i < 8; ++i)
      nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
    unsigned long long clen = 0, mlen = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(buf, &clen, buf, len, nullptr, 0, nullptr,
                                              nonce.data(), key_.data());
    if (crypto_aead_chacha20poly1305_ietf_decrypt(buf, &mlen, nullptr, buf, clen, nullptr, 0,
                                                  nonce.data(), key_.data()) != 0 ||
        mlen != len) {
      fail("raw decrypt");
    }
  }

 private:
  std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_KEYBYTES> key_{};
  std::uint64_t counter_ = 0;
};

}  // namespace gw::bench
