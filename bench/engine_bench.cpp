// SPDX-License-Identifier: MIT
// engine-bench: what the session engine (gw::session::Engine) costs on top of
// the cryptography beneath it. Prints figures; it is not a test.
//
// Two Engines live in this process, joined by a direct in-memory Sink: what
// one engine sends is queued (a small fixed ring, so no call recurses into the
// other engine) and handed to the other engine's handle_datagram by a pump
// loop. The clock is a fake one, advanced by the bench. Suite 1 throughout
// (Noise_XX_25519_ChaChaPoly_BLAKE2b).
//
//  1. Complete handshakes per second through both engines: initiate() on a
//     peer that already has a session (a rekey), then the initiation, the
//     response, the finish and the confirmation keepalive, each through
//     handle_datagram, until the initiator reports session_confirmed. The
//     fake clock moves on by REKEY_TIMEOUT (5 s) before every handshake, so
//     the per-peer initiation limit and the responder's rate limit allow it,
//     and poll() runs whenever an engine's deadline has come (it expires the
//     replay cache and pending handshakes, as in the daemon). The same two
//     engines and peers serve every handshake: a rekey takes the whole
//     handshake path, and nothing else (no engine construction, no add_peer)
//     is counted. Beside it: Noise-only handshakes (HandshakeState directly,
//     empty payloads and prologue, as noise-bench measures them).
//  2. 1420-byte IPv4 packets per second through the engines: send_packet on
//     one side, the datagram to the other side's handle_datagram, and
//     deliver_packet. The packet is encrypted in the bench's buffer and the
//     datagram handed over by reference (the sink copies only datagrams that
//     are not in that buffer: handshake messages, keepalives), so the receiver
//     decrypts it in place and the buffer holds the plaintext again for the
//     next send, like the raw round trip. Beside it: libsodium's
//     crypto_aead_chacha20poly1305_ietf encrypt + decrypt of the same 1420
//     bytes, in place, in that same buffer. (The engine pads to 1424 bytes: the
//     same number of ChaCha20 and Poly1305 blocks.)
//
// Every figure is measured several times, engine and reference interleaved
// (the order alternating from run to run), each run lasting a fixed wall-time
// window; medians are reported. A ratio is the median of the per-run ratios
// of adjacent measurements. Rates are per second of this thread's CPU time
// (clock_gettime(CLOCK_THREAD_CPUTIME_ID)), so that a busy machine that
// gives the bench only part of the wall time does not skew them; --wall
// counts wall-clock seconds instead, as noise-bench does.
//
// Output: human-readable lines, then `RESULT name=<metric> value=<number>`.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "bench_common.hpp"
#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/sodium.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/noise/error.hpp"
#include "gw/noise/handshake_state.hpp"
#include "gw/noise/protocol.hpp"
#include "gw/noise/transport_state.hpp"
#include "gw/session/endpoint.hpp"
#include "gw/session/engine.hpp"
#include "gw/time.hpp"

namespace {

using gw::Bytes;
using gw::Instant;
using gw::MutBytes;
using gw::bench::check;
using gw::bench::fail;
using gw::bench::kWarmupSeconds;
using gw::bench::measure;
using gw::bench::median;
using gw::bench::paired_ratio;
using gw::bench::parse_or_die;
using gw::bench::print_spread;
using gw::bench::result;
using gw::noise::Error;
using gw::session::Endpoint;
using gw::session::Engine;
using gw::session::PeerId;

constexpr std::string_view kHandshakeProtocol = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
constexpr std::uint8_t kSuite = 1;        // the engine's id of that protocol
constexpr std::size_t kPacketLen = 1420;  // an inner packet that fits a 1500-byte MTU
constexpr int kPacketBatch = 32;          // packets between two clock reads
constexpr std::size_t kQueueSlots = 16;
constexpr std::size_t kSlotSize = 2048;
constexpr int kMaxPumpSteps = 64;  // a handshake takes 4 datagrams

// --- Two engines and a direct link ---

// One engine's Sink: its datagrams wait in a fixed ring until the pump hands
// them to the other engine. A datagram that lies inside the registered
// zero-copy region (the bench's packet buffer, which the engine encrypted in
// place) is queued by reference; any other is copied into a slot.
class DirectSink final : public gw::session::Sink {
 public:
  explicit DirectSink(const Endpoint& self) : self_(self) {}

  void connect(Engine& other) { other_ = &other; }
  void set_zero_copy(MutBytes region) { region_ = region; }

  void send_datagram(const Endpoint& to, Bytes datagram) override {
    (void)to;
    if (count_ == kQueueSlots) fail("datagram queue full");
    Slot& s = slots_[(head_ + count_) % kQueueSlots];
    const std::less<const std::uint8_t*> before;
    const std::uint8_t* begin = datagram.data();
    if (!region_.empty() && !before(begin, region_.data()) &&
        !before(region_.data() + region_.size(), begin + datagram.size())) {
      s.bytes = region_.subspan(static_cast<std::size_t>(begin - region_.data()), datagram.size());
    } else {
      if (datagram.size() > s.storage.size()) fail("datagram larger than a queue slot");
      std::memcpy(s.storage.data(), begin, datagram.size());
      s.bytes = MutBytes(s.storage.data(), datagram.size());
    }
    ++count_;
    ++sent;
  }

  void deliver_packet(PeerId peer, Bytes packet) override {
    (void)peer;
    ++delivered;
    last_delivered = packet;
  }

  void on_event(const gw::session::Event& e) override {
    using Kind = gw::session::Event::Kind;
    switch (e.kind) {
      case Kind::dropped:
        ++drops;
        break;
      case Kind::handshake_complete:
        ++completed;
        if (e.suite != kSuite) fail("handshake ran another suite");
        break;
      case Kind::session_confirmed:
        ++confirmed;
        break;
      default:
        break;
    }
  }

  // Hands the oldest queued datagram to the other engine; false if none.
  bool deliver_one(Instant now) {
    if (count_ == 0) return false;
    Slot& s = slots_[head_];
    // The other engine writes only into its own sink's queue, never this one.
    other_->handle_datagram(now, self_, s.bytes);
    head_ = (head_ + 1) % kQueueSlots;
    --count_;
    return true;
  }

  std::uint64_t sent = 0, delivered = 0, drops = 0, completed = 0, confirmed = 0;
  Bytes last_delivered;

 private:
  struct Slot {
    std::array<std::uint8_t, kSlotSize> storage{};
    MutBytes bytes;
  };
  Endpoint self_;
  Engine* other_ = nullptr;
  MutBytes region_;
  std::array<Slot, kQueueSlots> slots_{};
  std::size_t head_ = 0, count_ = 0;
};

// Engines a (initiator) and b, each with the other as its one peer.
class EnginePair {
 public:
  EnginePair()
      : rng_(gw::crypto::system_rng()),
        a_addr_(Endpoint::ipv4({192, 0, 2, 1}, 51820)),
        b_addr_(Endpoint::ipv4({192, 0, 2, 2}, 51820)),
        a_sink(a_addr_),
        b_sink(b_addr_),
        a(config(), rng_, a_sink),
        b(config(), rng_, b_sink) {
    a_sink.connect(b);
    b_sink.connect(a);
    gw::session::PeerConfig to_b;
    to_b.name = "b";
    to_b.public_key = b.public_key();
    to_b.endpoint = b_addr_;
    peer_b = a.add_peer(to_b);
    gw::session::PeerConfig to_a;
    to_a.name = "a";
    to_a.public_key = a.public_key();
    to_a.endpoint = a_addr_;
    peer_a = b.add_peer(to_a);
    if (peer_a == gw::session::kNoPeer || peer_b == gw::session::kNoPeer) fail("add_peer");
  }

  // Delivers queued datagrams, alternately, until both queues are empty.
  void pump() {
    for (int step = 0; step < kMaxPumpSteps; ++step) {
      const bool any = a_sink.deliver_one(now);
      if (!b_sink.deliver_one(now) && !any) return;
    }
    fail("datagrams still flowing after many steps");
  }

  // Moves the clock on and runs the timers that are due, as the daemon would.
  void advance(gw::Duration d) {
    now += d;
    if (a.next_deadline() <= now) a.poll(now);
    if (b.next_deadline() <= now) b.poll(now);
    pump();
  }

  // One complete handshake (a rekey after the first): initiation, response,
  // finish, confirmation keepalive.
  void handshake() {
    const std::uint64_t confirmed = a_sink.confirmed, derived = b_sink.completed;
    a.initiate(now, peer_b);
    pump();
    if (a_sink.confirmed != confirmed + 1 || b_sink.completed != derived + 1) {
      fail("handshake did not complete");
    }
  }

  void check_no_drops() const {
    if (a_sink.drops != 0 || b_sink.drops != 0) fail("an engine dropped a datagram");
  }

 private:
  static gw::session::EngineConfig config() {
    gw::session::EngineConfig c;
    c.static_key =
        gw::crypto::LockedKeyPair(gw::crypto::KeyPair::generate(gw::crypto::system_rng()));
    c.suites = {kSuite};
    return c;
  }

  gw::crypto::Rng& rng_;
  Endpoint a_addr_, b_addr_;

 public:
  Instant now = Instant{} + std::chrono::hours(1);
  DirectSink a_sink, b_sink;
  Engine a, b;
  PeerId peer_b = gw::session::kNoPeer;  // b, as a knows it
  PeerId peer_a = gw::session::kNoPeer;  // a, as b knows it
};

// --- Handshakes ---

class EngineHandshakeBench {
 public:
  EngineHandshakeBench() {
    pair_.handshake();  // the first session; every measured one is a rekey
    if (!pair_.a.has_session(pair_.peer_b) || !pair_.b.has_session(pair_.peer_a)) {
      fail("no session after the first handshake");
    }
  }

  [[gnu::noinline]] int run_once() {
    pair_.advance(gw::timer_spec::kRekeyTimeout);
    pair_.handshake();
    return 1;
  }

  void check() const {
    pair_.check_no_drops();
    const gw::session::PeerStats* s = pair_.a.stats(pair_.peer_b);
    if (s == nullptr || s->suite != kSuite) fail("wrong suite");
  }
  std::uint64_t handshakes() const { return pair_.a_sink.confirmed; }

 private:
  EnginePair pair_;
};

// --- Transport ---

// Head- and tailroom around the packet, as send_packet wants them; cache-line
// aligned, and shared by the engine and the raw round trips.
constexpr std::size_t kBufferSize =
    gw::session::kPacketHeadroom + kPacketLen + gw::session::kPacketTailroom;
struct alignas(64) PacketBuffer : std::array<std::uint8_t, kBufferSize> {};

// A UDP-in-IPv4 packet of kPacketLen bytes: version 4, IHL 5, total length,
// TTL, protocol, checksum, addresses, random payload.
void make_ipv4_packet(MutBytes p) {
  std::fill(p.begin(), p.end(), std::uint8_t{0});
  p[0] = 0x45;
  p[2] = static_cast<std::uint8_t>(p.size() >> 8);
  p[3] = static_cast<std::uint8_t>(p.size());
  p[6] = 0x40;  // don't fragment
  p[8] = 64;    // TTL
  p[9] = 17;    // UDP
  const std::array<std::uint8_t, 8> addresses{10, 0, 0, 1, 10, 0, 0, 2};
  std::copy(addresses.begin(), addresses.end(), p.begin() + 12);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < 20; i += 2)
    sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
  while (sum > 0xffff)
    sum = (sum & 0xffff) + (sum >> 16);
  const auto checksum = static_cast<std::uint16_t>(~sum);
  p[10] = static_cast<std::uint8_t>(checksum >> 8);
  p[11] = static_cast<std::uint8_t>(checksum);
  randombytes_buf(p.data() + 20, p.size() - 20);
}

// send_packet on a, handle_datagram on b, deliver_packet; the datagram goes
// by reference, so the buffer is the plaintext again after each round trip.
class EngineTransportBench {
 public:
  explicit EngineTransportBench(PacketBuffer& buffer) : buf_(buffer) {
    pair_.handshake();
    b_sent_ = pair_.b_sink.sent;
    pair_.a_sink.set_zero_copy(buf_);
    packet_ = MutBytes(buf_).subspan(gw::session::kPacketHeadroom, kPacketLen);
  }

  [[gnu::noinline]] int run_batch() {
    for (int i = 0; i < kPacketBatch; ++i) {
      pair_.a.send_packet(pair_.now, pair_.peer_b, buf_, kPacketLen);
      pair_.a_sink.deliver_one(pair_.now);
    }
    sent_ += kPacketBatch;
    if (pair_.b_sink.delivered != sent_) fail("a packet was not delivered");
    return kPacketBatch;
  }

  // The packet arrived whole, where it was sent from, and nothing else moved.
  void check() const {
    const Bytes got = pair_.b_sink.last_delivered;
    if (got.data() != packet_.data() || got.size() != kPacketLen) fail("delivered elsewhere");
    pair_.check_no_drops();
    if (pair_.b_sink.sent != b_sent_) fail("the receiver sent something");
  }

  MutBytes packet() const { return packet_; }

 private:
  PacketBuffer& buf_;
  MutBytes packet_;
  EnginePair pair_;
  std::uint64_t sent_ = 0, b_sent_ = 0;
};

// libsodium's ChaCha20-Poly1305 on the packet in the same buffer.
class RawTransportBench {
 public:
  explicit RawTransportBench(MutBytes packet) : packet_(packet) {}

  [[gnu::noinline]] int run_batch() {
    for (int i = 0; i < kPacketBatch; ++i)
      aead_.round_trip(packet_.data(), kPacketLen);
    return kPacketBatch;
  }

 private:
  MutBytes packet_;
  gw::bench::RawChaChaPoly aead_;
};

void print_line(const char* label, double value, const char* unit, const std::vector<double>& v) {
  std::printf("%-24s %12.1f %-5s", label, value, unit);
  print_spread(v);
  std::printf("\n");
}

// Runs `first` then `second` on even runs, the other way round on odd ones.
template <class A, class B>
void interleaved(int run, A&& first, B&& second) {
  if (run % 2 == 0) {
    first();
    second();
  } else {
    second();
    first();
  }
}

}  // namespace

int main(int argc, char** argv) {
  const gw::bench::Harness harness{
      "engine-bench", "interleaved", "--wall",
      "  --wall       rates per wall-clock second (default: per CPU second of\n"
      "               this thread, which other load on the machine disturbs less)\n"};
  const gw::bench::Options opt = harness.parse(argc, argv);
  const bool wall = opt.extra;
  const gw::bench::Timing timing = wall ? gw::bench::Timing::wall : gw::bench::Timing::thread_cpu;
  gw::crypto::ensure_sodium();

  EngineHandshakeBench engine_hs;
  gw::bench::NoiseHandshakeBench noise_hs(kHandshakeProtocol);
  static PacketBuffer buffer;
  make_ipv4_packet(MutBytes(buffer).subspan(gw::session::kPacketHeadroom, kPacketLen));
  const std::vector<std::uint8_t> original(
      buffer.begin() + gw::session::kPacketHeadroom,
      buffer.begin() + gw::session::kPacketHeadroom + static_cast<std::ptrdiff_t>(kPacketLen));
  EngineTransportBench engine_tx(buffer);
  RawTransportBench raw_tx(engine_tx.packet());
  const auto intact = [&] {
    const Bytes p = engine_tx.packet();
    if (!std::equal(p.begin(), p.end(), original.begin(), original.end())) {
      fail("the packet changed on its way");
    }
  };

  std::printf(
      "engine-bench: %d runs of %.3g s per measurement, interleaved; medians [min .. max]; "
      "rates per %s second\n",
      opt.runs, opt.seconds, wall ? "wall-clock" : "thread CPU");
  std::printf("suite 1: %.*s; two engines in one process, direct in-memory sink, fake clock\n",
              static_cast<int>(kHandshakeProtocol.size()), kHandshakeProtocol.data());
  std::printf(
      "handshake: engine = a rekey through both engines (initiate, initiation, response, finish,\n"
      "           confirmation keepalive), clock +5 s each; noise = HandshakeState only\n");
  std::printf(
      "transport: %zu-byte IPv4 packets, send_packet -> handle_datagram -> deliver_packet\n"
      "           vs crypto_aead_chacha20poly1305_ietf encrypt+decrypt in the same buffer\n",
      kPacketLen);
  std::fflush(stdout);

  (void)measure(timing, kWarmupSeconds, [&] { return noise_hs.run_once(); });
  (void)measure(timing, kWarmupSeconds, [&] { return engine_hs.run_once(); });
  (void)measure(timing, kWarmupSeconds, [&] { return raw_tx.run_batch(); });
  (void)measure(timing, kWarmupSeconds, [&] { return engine_tx.run_batch(); });
  intact();

  std::vector<double> engine_hs_rates, noise_hs_rates, engine_pps, raw_pps;
  for (int run = 0; run < opt.runs; ++run) {
    interleaved(
        run,
        [&] {
          noise_hs_rates.push_back(
              measure(timing, opt.seconds, [&] { return noise_hs.run_once(); }));
        },
        [&] {
          engine_hs_rates.push_back(
              measure(timing, opt.seconds, [&] { return engine_hs.run_once(); }));
        });
    interleaved(
        run,
        [&] {
          raw_pps.push_back(measure(timing, opt.seconds, [&] { return raw_tx.run_batch(); }));
        },
        [&] {
          engine_pps.push_back(measure(timing, opt.seconds, [&] { return engine_tx.run_batch(); }));
        });
  }
  engine_hs.check();
  engine_tx.check();
  intact();

  const double ehs = median(engine_hs_rates), nhs = median(noise_hs_rates);
  const double hs_ratio = paired_ratio(engine_hs_rates, noise_hs_rates);
  const double epps = median(engine_pps), rpps = median(raw_pps);
  const double tx_ratio = paired_ratio(engine_pps, raw_pps);
  const auto mbps = [](double pps) { return pps * static_cast<double>(kPacketLen) / 1e6; };

  std::printf("\n");
  print_line("engine handshakes", ehs, "/s", engine_hs_rates);
  print_line("noise handshakes", nhs, "/s", noise_hs_rates);
  std::printf("%-24s %12.3f        (engine cost per handshake %.1f us over Noise's %.1f us)\n",
              "handshake engine/noise", hs_ratio, 1e6 / ehs - 1e6 / nhs, 1e6 / nhs);
  print_line("engine packets", epps, "/s", engine_pps);
  print_line("raw aead round trips", rpps, "/s", raw_pps);
  std::printf("%-24s %12.3f        (goal >= 0.85; engine %.1f MB/s, raw %.1f MB/s)\n",
              "transport engine/raw", tx_ratio, mbps(epps), mbps(rpps));
  std::printf(
      "(a packet or round trip = %zu bytes encrypted and decrypted once; MB = 10^6 bytes;\n"
      " %llu handshakes completed in all)\n\n",
      kPacketLen, static_cast<unsigned long long>(engine_hs.handshakes()));

  result("engine_handshakes_per_s", ehs);
  result("noise_handshakes_per_s", nhs);
  result("handshake_engine_noise_ratio", hs_ratio);
  result("engine_packets_per_s", epps);
  result("raw_aead_packets_per_s", rpps);
  result("engine_MBps", mbps(epps));
  result("raw_aead_MBps", mbps(rpps));
  result("transport_engine_raw_ratio", tx_ratio);
  return 0;
}
