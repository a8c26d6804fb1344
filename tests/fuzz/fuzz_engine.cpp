// SPDX-License-Identifier: MIT
// libFuzzer target: the session engine (gw::session::Engine) fed arbitrary
// datagrams, interleaved with genuine protocol traffic, timers and API calls.
//
// Each input builds a fresh, deterministic world: engine I (initiator) and
// engine R (responder), each with the other as its one configured peer, and I
// with a handshake under way (its initiation waits, undelivered, in I's
// outbox). Everything an engine sends is captured in its outbox, not
// delivered, until an op says so. The input is:
//
//   byte 0: configuration
//     bit 0     R prefers suite 3, so the handshake goes through a retry
//     bits 1-2  PSK: 0 none, 1 the same on both, 2 different (mismatch),
//               3 only on I (not configured at R)
//     bit 3     R always under load (initiations need a cookie)
//     bit 4     persistent keepalive (25 s) on I
//   then ops, until the input ends; an op is a byte `op`, then its operands:
//     op & 7 = 0  raw datagram to R (bit 3 clear) or to I (bit 3 set):
//                 u16 length (little-endian), then that many bytes
//              1  forward the oldest datagram of I's outbox to R (bit 3
//                 clear) or of R's outbox to I (bit 3 set); with bit 4, u16
//                 position and u8 xor: one byte changed; with bit 7 it stays
//                 in the outbox (a duplicate or replay later)
//              2  advance the clock by u8 * 10 ms (bit 3 clear) or u8 s
//                 (bit 3 set), then poll the engines that are due
//              3  send_packet on I (bit 3 clear) or R: an IPv4 packet of
//                 20 + 4 * u8 bytes; with bit 4 not an IP packet
//              4  initiate() on I or R
//              5  drop the oldest datagram of I's or R's outbox
//              6  poll() both engines now, due or not
//              7  remove the peer from I or R and add it again
//     bits 5-6 of ops 0 and 1: the source address: the sender's own, an
//     unknown IPv4 address, an IPv6 address, the sender's with another port.
//
// Checks, besides ASan and UBSan: every packet an engine delivers is, byte for
// byte, of the form the other engine's packets have (nothing forged,
// corrupted or reflected gets through);
// with mismatched PSKs no packet is ever delivered; and afterwards, with the
// network repaired (both outboxes delivered in order, then a working link),
// a genuine session comes up and carries a packet each way within a bounded
// time, through the engines' own retransmissions.
//
// Seeds: GW_FUZZ_ENGINE_SEEDS=DIR ./fuzz_engine writes the seed corpus to
// DIR and exits; GW_FUZZ_ENGINE_TRACE=1 ./fuzz_engine FILE prints what the
// engines do with FILE. The world is deterministic, so seeds that replay genuine
// handshake messages as raw datagrams pass the MACs.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "gw/crypto/x25519.hpp"
#include "gw/session/endpoint.hpp"
#include "gw/session/engine.hpp"
#include "support/fake_rng.hpp"

namespace {

using gw::Bytes;
using gw::Instant;
using gw::session::Endpoint;
using gw::session::Engine;
using gw::session::PeerId;
using Buf = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

constexpr std::size_t kMaxOutbox = 64;
constexpr std::size_t kMaxDatagram = 2048;
constexpr int kMaxPumpSteps = 10000;
constexpr int kRepairRounds = 200;   // seconds of fake time to bring a session up
constexpr int kMismatchRounds = 12;  // seconds of fake time with mismatched PSKs

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_engine: %s\n", what);
    std::abort();
  }
}

enum Op : std::uint8_t {
  kRaw = 0,
  kForward = 1,
  kAdvance = 2,
  kSend = 3,
  kInitiate = 4,
  kDrop = 5,
  kPoll = 6,
  kReAdd = 7,
};
constexpr std::uint8_t kBitOther = 0x08;  // R instead of I (or the way back)
constexpr std::uint8_t kBitAlt = 0x10;    // mutate / not an IP packet
constexpr std::uint8_t kBitKeep = 0x80;   // forward a copy, keep the original

// Operands in the input; reads past the end give zeros.
class Input {
 public:
  explicit Input(Bytes data) : data_(data) {}
  bool empty() const { return pos_ >= data_.size(); }
  std::uint8_t u8() { return pos_ < data_.size() ? data_[pos_++] : std::uint8_t{0}; }
  std::uint16_t u16() {
    const std::uint8_t lo = u8();
    return static_cast<std::uint16_t>(lo | u8() << 8);
  }
  Bytes take(std::size_t n) {
    n = std::min(n, data_.size() - pos_);
    const Bytes out = data_.subspan(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  Bytes data_;
  std::size_t pos_ = 0;
};

// GW_FUZZ_ENGINE_TRACE set: every event and delivery on stderr (to read
// what an input does).
const bool g_trace = std::getenv("GW_FUZZ_ENGINE_TRACE") != nullptr;

const Endpoint kAddrI = Endpoint::ipv4({192, 0, 2, 1}, 51820);
const Endpoint kAddrR = Endpoint::ipv4({192, 0, 2, 2}, 51820);

Endpoint source(const Endpoint& sender, unsigned variant) {
  switch (variant & 3) {
    case 1:
      return Endpoint::ipv4({198, 51, 100, 7}, 4444);
    case 2:
      return Endpoint::ipv6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}, 51820);
    case 3: {
      Endpoint e = sender;
      e.port = static_cast<std::uint16_t>(e.port + 1);
      return e;
    }
    default:
      return sender;
  }
}

const gw::crypto::KeyPair& static_key(std::uint64_t seed) {
  static const auto make = [](std::uint64_t s) {
    gw::test::FakeRng rng(s);
    return gw::crypto::KeyPair::generate(rng);
  };
  static const gw::crypto::KeyPair i = make(101), r = make(202);
  return seed == 101 ? i : r;
}

// The packets the engines send: an IPv4 header (or, with `ip` false, not
// one) with the length, a sequence number and the sender's marker, zeros
// after it. Anything delivered must look exactly like this: the world is
// deterministic, so an input may replay genuine ciphertexts as raw datagrams,
// but a forged or corrupted packet would not have this form.
constexpr std::uint8_t kMarkerI = 0x11, kMarkerR = 0x22;
constexpr std::uint32_t kRepairSequence = 0xffffffff;

Buf make_packet(std::size_t length, std::uint32_t sequence, std::uint8_t marker, bool ip) {
  Buf p(length, 0);
  p[0] = ip ? std::uint8_t{0x45} : std::uint8_t{0x17};
  p[2] = static_cast<std::uint8_t>(length >> 8);
  p[3] = static_cast<std::uint8_t>(length);
  for (std::size_t b = 0; b < 4; ++b)
    p[12 + b] = static_cast<std::uint8_t>(sequence >> (8 * b));
  p[16] = marker;
  return p;
}

bool authentic(Bytes packet, std::uint8_t marker) {
  if (packet.size() < 20) return false;
  std::uint32_t sequence = 0;
  for (std::size_t b = 0; b < 4; ++b)
    sequence |= std::uint32_t{packet[12 + b]} << (8 * b);
  return std::ranges::equal(packet, make_packet(packet.size(), sequence, marker, true));
}

// An engine, its Rng, and what it sent and delivered.
struct Side final : gw::session::Sink {
  Side(const char* side_name, std::uint64_t seed, gw::session::EngineConfig config)
      : name(side_name), rng(seed), engine(std::move(config), rng, *this) {}

  void send_datagram(const Endpoint& to, Bytes datagram) override {
    (void)to;  // every address leads to the other engine
    check(datagram.size() <= kMaxDatagram, "an engine sent an oversized datagram");
    if (outbox.size() >= kMaxOutbox) outbox.pop_front();
    outbox.emplace_back(datagram.begin(), datagram.end());
  }

  void deliver_packet(PeerId from, Bytes packet) override {
    check(from == peer, "a packet delivered for an unknown peer");
    check(authentic(packet, other_marker), "a packet was delivered that the other side never sent");
    delivered.emplace_back(packet.begin(), packet.end());
    if (g_trace) std::fprintf(stderr, "  %s: delivered %zu bytes\n", name, packet.size());
  }

  void on_event(const gw::session::Event& e) override {
    if (!g_trace) return;
    static constexpr const char* kKinds[] = {
        "dropped",           "handshake_started", "handshake_complete", "session_confirmed",
        "handshake_gave_up", "cookie_sent",       "retry_sent",         "keys_wiped"};
    std::fprintf(stderr, "  %s: %s%s%s (suite %u)\n", name, kKinds[static_cast<int>(e.kind)],
                 e.kind == gw::session::Event::Kind::dropped ? ": " : "",
                 e.kind == gw::session::Event::Kind::dropped ? gw::session::to_string(e.drop) : "",
                 unsigned{e.suite});
  }

  const char* name;
  gw::test::FakeRng rng;
  Engine engine;
  PeerId peer = gw::session::kNoPeer;  // the other engine, as this one knows it
  gw::session::PeerConfig peer_config;
  std::uint8_t other_marker = 0;  // in the packets the other engine sends
  std::deque<Buf> outbox;
  std::uint32_t sent = 0;  // packets this engine was asked to send
  std::vector<Buf> delivered;
};

struct Config {
  bool retry = false;
  unsigned psk = 0;
  bool under_load = false;
  bool keepalive = false;

  explicit Config(std::uint8_t b)
      : retry((b & 1) != 0),
        psk((b >> 1) & 3),
        under_load((b & 8) != 0),
        keepalive((b & 16) != 0) {}
  bool sessions_possible() const { return psk < 2; }
};

gw::session::EngineConfig engine_config(const gw::crypto::KeyPair& key,
                                        std::vector<std::uint8_t> suites, bool under_load) {
  gw::session::EngineConfig c;
  c.static_key = gw::crypto::LockedKeyPair(key);
  c.suites = std::move(suites);
  c.always_under_load = under_load;
  return c;
}

class World {
 public:
  explicit World(const Config& config)
      : i_("I", 1, engine_config(static_key(101), {1, 3}, false)),
        r_("R", 2,
           engine_config(
               static_key(202),
               config.retry ? std::vector<std::uint8_t>{3, 1} : std::vector<std::uint8_t>{1, 3},
               config.under_load)) {
    gw::crypto::Secret<gw::noise_spec::kPskLen> a, b;
    a.bytes()[0] = 0xa1;
    b.bytes()[0] = 0xb2;
    const gw::crypto::LockedKey psk_a(a.bytes()), psk_b(b.bytes());

    i_.peer_config.name = "r";
    i_.peer_config.public_key = r_.engine.public_key();
    i_.peer_config.endpoint = kAddrR;
    if (config.keepalive) i_.peer_config.persistent_keepalive_s = 25;
    r_.peer_config.name = "i";
    r_.peer_config.public_key = i_.engine.public_key();
    r_.peer_config.endpoint = kAddrI;
    if (config.psk == 1 || config.psk == 2 || config.psk == 3) i_.peer_config.psk = psk_a;
    if (config.psk == 1) r_.peer_config.psk = psk_a;
    if (config.psk == 2) r_.peer_config.psk = psk_b;
    i_.peer = i_.engine.add_peer(i_.peer_config);
    r_.peer = r_.engine.add_peer(r_.peer_config);
    check(i_.peer != gw::session::kNoPeer && r_.peer != gw::session::kNoPeer, "add_peer");
    i_.other_marker = kMarkerR;
    r_.other_marker = kMarkerI;
    // I's handshake is under way; its initiation waits in I's outbox.
    i_.engine.initiate(now_, i_.peer);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  Side& side(bool other) { return other ? r_ : i_; }
  static const Endpoint& address(bool other) { return other ? kAddrR : kAddrI; }

  // A datagram from `from` to R (to_r) or to I, in a buffer of its own exact
  // size, so ASan sees any read past its end.
  void deliver(bool to_r, const Endpoint& from, Bytes datagram) {
    Buf copy(datagram.begin(), datagram.end());
    side(to_r).engine.handle_datagram(now_, from, copy);
  }

  void advance(gw::Duration d) {
    now_ += d;
    for (Side* s : {&i_, &r_}) {
      if (s->engine.next_deadline() <= now_) s->engine.poll(now_);
    }
  }

  void send(bool on_r, std::size_t length, bool ip) {
    Side& s = side(on_r);
    send_packet(s, make_packet(length, s.sent, on_r ? kMarkerR : kMarkerI, ip));
  }

  void send_packet(Side& s, const Buf& packet) {
    ++s.sent;
    Buf buffer(gw::session::kPacketHeadroom + packet.size() + gw::session::kPacketTailroom);
    std::copy(packet.begin(), packet.end(), buffer.begin() + gw::session::kPacketHeadroom);
    s.engine.send_packet(now_, s.peer, buffer, packet.size());
  }

  void readd(bool on_r) {
    Side& s = side(on_r);
    check(s.engine.remove_peer(s.peer), "remove_peer");
    check(!s.engine.find_peer(s.peer_config.public_key), "a removed peer is still found");
    s.peer = s.engine.add_peer(s.peer_config);
    check(s.peer != gw::session::kNoPeer, "add_peer again");
  }

  // Delivers both outboxes in turn, with the senders' own addresses, until
  // neither has anything left.
  void pump() {
    for (int step = 0; step < kMaxPumpSteps; ++step) {
      bool any = false;
      for (const bool from_r : {false, true}) {
        std::deque<Buf>& box = side(from_r).outbox;
        if (box.empty()) continue;
        Buf d = std::move(box.front());
        box.pop_front();
        side(!from_r).engine.handle_datagram(now_, address(from_r), d);
        any = true;
      }
      if (!any) return;
    }
    check(false, "the engines never stop sending to each other");
  }

  // The network is repaired: a packet each way must get through.
  void repair(const Config& config) {
    const Buf to_r = make_packet(64, kRepairSequence, kMarkerI, true);
    const Buf to_i = make_packet(64, kRepairSequence, kMarkerR, true);
    const int rounds = config.sessions_possible() ? kRepairRounds : kMismatchRounds;
    bool at_r = false, at_i = false;
    const auto got = [](const Side& s, const Buf& p) {
      return std::find(s.delivered.begin(), s.delivered.end(), p) != s.delivered.end();
    };
    if (g_trace) std::fprintf(stderr, "repair:\n");
    for (int round = 0; round < rounds && !(at_r && at_i); ++round) {
      pump();  // first what the fuzz input left in flight: genuine messages
      if (!at_r) send_packet(i_, to_r);
      if (!at_i) send_packet(r_, to_i);
      pump();
      at_r = got(r_, to_r);
      at_i = got(i_, to_i);
      advance(1s);
    }
    if (config.sessions_possible()) {
      check(at_r && at_i, "no session came up after the fuzz input");
      check(i_.engine.has_session(i_.peer) && r_.engine.has_session(r_.peer), "no session");
    } else {
      check(i_.delivered.empty() && r_.delivered.empty(), "a packet got through a PSK mismatch");
    }
  }

  Instant now() const { return now_; }

 private:
  Instant now_ = Instant{} + 1h;
  Side i_, r_;
};

// Runs the ops; `forwarded`, when given, records each forwarded datagram and
// whether it went to R (for writing seeds).
void run_ops(World& w, Input& in, std::vector<std::pair<bool, Buf>>* forwarded = nullptr) {
  while (!in.empty()) {
    const std::uint8_t op = in.u8();
    if (g_trace) std::fprintf(stderr, "op %u/%#x:\n", unsigned{op & 7u}, unsigned{op});
    const bool other = (op & kBitOther) != 0;
    const bool alt = (op & kBitAlt) != 0;
    const unsigned variant = (op >> 5) & 3;
    switch (static_cast<Op>(op & 7)) {
      case kRaw: {
        const std::size_t len = std::min<std::size_t>(in.u16(), kMaxDatagram);
        const Bytes bytes = in.take(len);
        // To R (bit 3 clear) the sender is I, and the other way round.
        w.deliver(!other, source(World::address(other), variant), bytes);
        break;
      }
      case kForward: {
        std::deque<Buf>& box = w.side(other).outbox;  // R's outbox goes to I
        std::uint16_t pos = 0;
        std::uint8_t mask = 0;
        if (alt) {
          pos = in.u16();
          mask = in.u8();
        }
        if (box.empty()) break;
        Buf d = box.front();
        if ((op & kBitKeep) == 0) box.pop_front();
        if (!d.empty()) d[pos % d.size()] ^= mask;
        if (forwarded != nullptr) forwarded->emplace_back(!other, d);
        w.deliver(!other, source(World::address(other), variant), d);
        break;
      }
      case kAdvance: {
        const std::uint8_t n = in.u8();
        w.advance(other ? gw::Duration(std::chrono::seconds(n))
                        : gw::Duration(std::chrono::milliseconds(10 * n)));
        break;
      }
      case kSend:
        w.send(other, 20 + 4 * std::size_t{in.u8()}, !alt);
        break;
      case kInitiate:
        w.side(other).engine.initiate(w.now(), w.side(other).peer);
        break;
      case kDrop:
        if (!w.side(other).outbox.empty()) w.side(other).outbox.pop_front();
        break;
      case kPoll:
        w.side(false).engine.poll(w.now());
        w.side(true).engine.poll(w.now());
        break;
      case kReAdd:
        w.readd(other);
        break;
    }
  }
}

// --- Seeds ---

void write_file(const std::string& path, const Buf& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  check(f != nullptr, "cannot write a seed");
  check(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size(), "short write");
  std::fclose(f);
}

Buf cat(std::initializer_list<std::uint8_t> bytes) {
  return Buf(bytes);
}

void append_raw(Buf& ops, bool to_r, Bytes datagram) {
  ops.push_back(static_cast<std::uint8_t>(kRaw | (to_r ? 0 : kBitOther)));
  ops.push_back(static_cast<std::uint8_t>(datagram.size()));
  ops.push_back(static_cast<std::uint8_t>(datagram.size() >> 8));
  ops.insert(ops.end(), datagram.begin(), datagram.end());
}

// The genuine flow of `seed` as raw datagrams: what it forwarded, recorded.
Buf as_raw(const Buf& seed) {
  const Config config(seed.at(0));
  World w(config);
  Input in(Bytes(seed).subspan(1));
  std::vector<std::pair<bool, Buf>> forwarded;
  run_ops(w, in, &forwarded);
  Buf ops{seed[0]};
  for (const auto& [to_r, d] : forwarded)
    append_raw(ops, to_r, d);
  return ops;
}

void write_seeds(const std::string& dir) {
  constexpr std::uint8_t fwd_to_r = kForward, fwd_to_i = kForward | kBitOther;
  constexpr std::uint8_t send_i = kSend, send_r = kSend | kBitOther;
  constexpr std::uint8_t secs = kAdvance | kBitOther;
  // Initiation, response, finish, confirmation, then a packet each way.
  const Buf handshake = cat(
      {0x00, fwd_to_r, fwd_to_i, fwd_to_r, fwd_to_i, send_i, 40, fwd_to_r, send_r, 100, fwd_to_i});
  write_file(dir + "/handshake", handshake);
  write_file(dir + "/handshake_raw", as_raw(handshake));
  // Retry: initiation, retry, second initiation, response, finish, confirmation.
  const Buf retry =
      cat({0x01, fwd_to_r, fwd_to_i, fwd_to_r, fwd_to_i, fwd_to_r, fwd_to_i, send_i, 10, fwd_to_r});
  write_file(dir + "/retry", retry);
  write_file(dir + "/retry_raw", as_raw(retry));
  // PSK on both sides, and a mismatch.
  write_file(dir + "/psk",
             cat({0x02, fwd_to_r, fwd_to_i, fwd_to_r, fwd_to_i, send_i, 8, fwd_to_r}));
  write_file(dir + "/psk_mismatch", cat({0x04, fwd_to_r, fwd_to_i, fwd_to_r, fwd_to_i}));
  // Under load: a cookie reply, then the retransmission with mac2.
  const Buf cookie =
      cat({0x08, fwd_to_r, fwd_to_i, secs, 6, fwd_to_r, fwd_to_r, fwd_to_i, fwd_to_r, fwd_to_i});
  write_file(dir + "/cookie", cookie);
  write_file(dir + "/cookie_raw", as_raw(cookie));
  // Timers: a session, then time passes (keepalives, rekeys, wiping).
  write_file(dir + "/timers",
             cat({0x10,     fwd_to_r, fwd_to_i, fwd_to_r, fwd_to_i, send_r, 20,       fwd_to_i,
                  secs,     11,       fwd_to_r, secs,     130,      kPoll,  fwd_to_r, fwd_to_i,
                  fwd_to_r, fwd_to_i, secs,     255,      secs,     255,    secs,     255}));
  // Replays, a changed byte, a roaming source, peers removed and re-added.
  write_file(dir + "/mangle", cat({0x00, fwd_to_r | kBitKeep, fwd_to_r, fwd_to_i | kBitAlt, 40, 0,
                                   0x80, kInitiate, kInitiate | kBitOther, fwd_to_r | 0x60,
                                   kDrop | kBitOther, kReAdd, kReAdd | kBitOther, send_i, 3}));
  // Raw datagrams of every type, the right sizes, to both engines.
  Buf raw{0x00};
  for (const auto& [type, size] : std::initializer_list<std::pair<std::uint8_t, std::size_t>>{
           {1, 80}, {1, 96}, {1, 128}, {2, 126}, {3, 90}, {4, 40}, {5, 64}, {6, 32}, {6, 48}}) {
    Buf d(size, 0);
    d[0] = type;
    d[4] = 1;
    append_raw(raw, false, d);
    append_raw(raw, true, d);
  }
  write_file(dir + "/types", raw);
  write_file(dir + "/empty", cat({0x00}));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  (void)argc;
  (void)argv;
  if (const char* dir = std::getenv("GW_FUZZ_ENGINE_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const Config config(data[0]);
  World w(config);
  Input in(Bytes(data + 1, size - 1));
  run_ops(w, in);
  w.repair(config);
  return 0;
}
