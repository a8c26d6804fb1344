// SPDX-License-Identifier: MIT
// The timer rules of docs/PROTOCOL.md section 9, run over minutes of fake
// time: rekey, expiry, retransmission and giving up, keepalives, the new
// handshake after an unanswered send, persistent keepalives, and wiping keys.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "sim/sim_helpers.hpp"

using namespace gw::test;
using gw::Duration;
using gw::Instant;
using gw::session::Drop;
using gw::session::Endpoint;
using gw::session::Event;
using std::chrono::milliseconds;
using std::chrono::seconds;
namespace spec = gw::timer_spec;

namespace {

constexpr std::uint8_t kInitiation = 1, kFinish = 3, kTransport = 6;
constexpr std::size_t kKeepaliveSize = 32;        // header 16 + tag 16, no payload
constexpr std::uint32_t kFromB = 1'000'000;       // b numbers its packets from here
constexpr Duration kLinkDelay = milliseconds(1);  // FakeNetwork's default, fixed

std::uint8_t type_of(const std::vector<std::uint8_t>& d) {
  return d.empty() ? std::uint8_t{0} : d[0];
}

bool is_keepalive(const FakeNetwork::Fate& f) {
  return type_of(f.bytes) == kTransport && f.bytes.size() == kKeepaliveSize;
}

bool is_data(const FakeNetwork::Fate& f) {
  return type_of(f.bytes) == kTransport && f.bytes.size() > kKeepaliveSize;
}

// The datagrams `from` put on the wire (recorded fates) that satisfy `keep`.
template <typename Pred>
std::vector<FakeNetwork::Fate> sent_by(const FakeNetwork& net, const Endpoint& from, Pred keep) {
  std::vector<FakeNetwork::Fate> out;
  for (const auto& f : net.fates)
    if (f.from == from && keep(f)) out.push_back(f);
  return out;
}

std::vector<FakeNetwork::Fate> all_sent_by(const FakeNetwork& net, const Endpoint& from) {
  return sent_by(net, from, [](const FakeNetwork::Fate&) { return true; });
}

// When `n` reported events of this kind.
std::vector<Instant> times_of(const Node& n, Event::Kind kind) {
  std::vector<Instant> out;
  for (std::size_t i = 0; i < n.events.size(); ++i)
    if (n.events[i].kind == kind) out.push_back(n.event_times[i]);
  return out;
}

// Sends numbered packets and remembers what was sent: a numbers from 0, b
// from kFromB.
struct Traffic {
  std::vector<std::uint32_t> from_a, from_b;  // in the order sent, so sorted

  void a_sends(Pair& s) {
    from_a.push_back(static_cast<std::uint32_t>(from_a.size()));
    s.a->send_packet(s.a_to_b, make_packet(from_a.back()));
  }
  void b_sends(Pair& s) {
    from_b.push_back(kFromB + static_cast<std::uint32_t>(from_b.size()));
    s.b->send_packet(s.b_to_a, make_packet(from_b.back()));
  }
};

// Which side sends data.
enum class Flow { both, a_only, b_only };

// One packet every `period` from each sending side, for `total`.
void steady_traffic(Pair& s, Traffic& t, Duration total, Duration period = milliseconds(100),
                    Flow flow = Flow::both) {
  const Instant end = s.net.now() + total;
  while (s.net.now() < end) {
    if (flow != Flow::b_only) t.a_sends(s);
    if (flow != Flow::a_only) t.b_sends(s);
    s.net.run_for(period);
  }
}

// Like Pair::connect(), with a's first packet in `t`.
void connect(Pair& s, Traffic& t) {
  t.a_sends(s);
  s.net.run_for(seconds(1));
}

// The sequence numbers delivered to `n`, sorted.
std::vector<std::uint32_t> sorted_sequences(const Node& n) {
  std::vector<std::uint32_t> seqs;
  for (const Delivered& d : n.delivered)
    seqs.push_back(packet_sequence(d.packet));
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

// On a link without loss: every packet sent was delivered exactly once.
void check_all_delivered_once(const Pair& s, const Traffic& t) {
  CHECK(sorted_sequences(*s.b) == t.from_a);
  CHECK(sorted_sequences(*s.a) == t.from_b);
}

// On a lossy link (fates recorded from the start): every data packet that
// reached `to` at least once was delivered exactly once, and only those.
void check_arrived_delivered_once(const FakeNetwork& net, const Node& from, const Node& to,
                                  const std::vector<std::uint32_t>& sent) {
  const std::vector<std::uint32_t> seqs = sorted_sequences(to);
  CHECK(std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end());
  for (const std::uint32_t seq : seqs)
    CHECK(std::binary_search(sent.begin(), sent.end(), seq));
  std::size_t arrived = 0;
  for (const auto& f : sent_by(net, from.address, is_data))
    if (f.copies > 0) ++arrived;
  CHECK(seqs.size() == arrived);
}

// `n` started `count` handshakes, each `interval` after the one before (up to
// one send period and a few round trips later).
void check_handshake_starts(const Node& n, std::size_t count, Duration interval) {
  const std::vector<Instant> starts = times_of(n, Event::Kind::handshake_started);
  REQUIRE(starts.size() == count);
  for (std::size_t i = 1; i < starts.size(); ++i) {
    CAPTURE(i);
    const Duration gap = starts[i] - starts[i - 1];
    CHECK(gap >= interval);
    CHECK(gap <= interval + milliseconds(300));
  }
}

// Gives b a's address (before any handshake), so that b can initiate too.
void reconfigure_b(Pair& s, const Endpoint& a_address) {
  gw::session::PeerConfig to_a;
  to_a.name = "a";
  to_a.public_key = s.a->key.public_key;
  to_a.endpoint = a_address;
  REQUIRE(s.b->engine.remove_peer(s.b_to_a));
  s.b_to_a = s.b->engine.add_peer(to_a);
}

// Replaces a's configuration of b (before any handshake) with `tweak` applied.
template <typename Tweak>
void reconfigure_a(Pair& s, Tweak tweak) {
  gw::session::PeerConfig to_b;
  to_b.name = "b";
  to_b.public_key = s.b->key.public_key;
  to_b.endpoint = s.b->address;
  tweak(to_b);
  REQUIRE(s.a->engine.remove_peer(s.a_to_b));
  s.a_to_b = s.a->engine.add_peer(to_b);
}

}  // namespace

TEST_CASE("rekey: the initiator rehandshakes every REKEY_AFTER_TIME and no packet is lost") {
  struct Case {
    const char* name;
    milliseconds min_delay, max_delay;
  };
  for (const Case c : {Case{"fixed delay", milliseconds(1), milliseconds(1)},
                       Case{"reordering", milliseconds(1), milliseconds(30)}}) {
    CAPTURE(std::string(c.name));
    Pair s(61);
    s.net.conditions.min_delay = c.min_delay;
    s.net.conditions.max_delay = c.max_delay;
    Traffic t;
    connect(s, t);
    steady_traffic(s, t, std::chrono::minutes(10) + seconds(5));
    s.net.run_for(seconds(1));
    check_all_delivered_once(s, t);

    // A handshake every ~120 s, each started by the original initiator alone.
    check_handshake_starts(*s.a, 6, spec::kRekeyAfterTime);  // the first, then 5 rekeys
    CHECK(s.b->count(Event::Kind::handshake_started) == 0);
    CHECK(s.a->engine.stats(s.a_to_b)->handshakes == 6);
    CHECK(s.b->engine.stats(s.b_to_a)->handshakes == 6);
    CHECK(s.a->count(Event::Kind::session_confirmed) == 6);
    CHECK(s.a->count(Event::Kind::keys_wiped) == 0);  // 10 minutes > 540 s, but rekeyed
    CHECK(s.b->count(Event::Kind::keys_wiped) == 0);
    CHECK(s.a->count(Event::Kind::dropped) == 0);
    CHECK(s.b->count(Event::Kind::dropped) == 0);
  }
}

TEST_CASE("rekey on receive: with data from the responder only, the initiator rekeys at 165 s") {
  Pair s(611);
  Traffic t;
  connect(s, t);
  steady_traffic(s, t, std::chrono::minutes(10) + seconds(5), milliseconds(100), Flow::b_only);
  s.net.run_for(seconds(1));
  check_all_delivered_once(s, t);
  // REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT: a only receives
  // (and keeps alive), b never rekeys a session it did not initiate.
  check_handshake_starts(*s.a, 4, spec::kRekeyOnReceiveAge);
  CHECK(s.b->count(Event::Kind::handshake_started) == 0);
  CHECK(s.a->count(Event::Kind::dropped) == 0);
  CHECK(s.b->count(Event::Kind::dropped) == 0);
}

TEST_CASE("a rekey whose confirmation is lost loses no packet and delays no later rekey") {
  // One-way traffic from a, 20 ms each way. For 6 s after the rekey's
  // message 3 the attacker drops what b sends: its transport messages (so a
  // never hears b on the new session and redoes the handshake while it keeps
  // sending on the old one, which b must still accept), or everything (so the
  // redone handshake gets no response, and a's next session is confirmed by a
  // later keepalive of b's; the redone initiation must not linger).
  struct Case {
    const char* name;
    bool cut_handshakes;
  };
  for (const Case c : {Case{"transport cut", false}, Case{"everything cut", true}}) {
    CAPTURE(std::string(c.name));
    Pair s(612);
    s.net.conditions.min_delay = s.net.conditions.max_delay = milliseconds(20);
    Traffic t;
    connect(s, t);
    s.net.record_fates = true;
    std::optional<Instant> rekeyed;
    s.net.middle = [&](const Endpoint& from, const Endpoint&, std::vector<std::uint8_t>& bytes) {
      if (!rekeyed && from == s.a->address && type_of(bytes) == kFinish) rekeyed = s.net.now();
      const bool cut = rekeyed && s.net.now() < *rekeyed + seconds(6) && from == s.b->address;
      return !(cut && (c.cut_handshakes || type_of(bytes) == kTransport));
    };
    steady_traffic(s, t, std::chrono::minutes(6), milliseconds(5), Flow::a_only);
    s.net.run_for(seconds(1));
    check_all_delivered_once(s, t);
    CHECK(s.b->count(Event::Kind::dropped) == 0);
    // The rekey was redone (a second initiation); the rekeys after it came
    // REKEY_AFTER_TIME after their predecessors, with no stall.
    const std::vector<Instant> starts = times_of(*s.a, Event::Kind::handshake_started);
    REQUIRE(starts.size() >= 4);  // the first, the rekey, its redo, the next rekey...
    CHECK(starts[2] - starts[1] <= spec::kRekeyTimeout + spec::kRekeyTimeoutJitterMax);
    for (std::size_t i = 3; i < starts.size(); ++i) {
      CAPTURE(i);
      CHECK(starts[i] - starts[i - 1] <= spec::kRekeyAfterTime + milliseconds(300));
    }
  }
}

TEST_CASE("crossing handshakes: both peers initiate at once, and later rekeys lose nothing") {
  for (const Flow flow : {Flow::both, Flow::a_only, Flow::b_only}) {
    CAPTURE(static_cast<int>(flow));
    Pair s(613);
    reconfigure_b(s, s.a->address);  // b knows where a is, too
    s.net.conditions.min_delay = s.net.conditions.max_delay = milliseconds(20);
    Traffic t;
    t.a_sends(s);
    t.b_sends(s);
    s.net.run_for(seconds(1));
    CHECK(s.a->count(Event::Kind::handshake_started) == 1);
    CHECK(s.b->count(Event::Kind::handshake_started) == 1);
    steady_traffic(s, t, std::chrono::minutes(5), milliseconds(5), flow);
    s.net.run_for(seconds(1));
    check_all_delivered_once(s, t);
    CHECK(s.a->count(Event::Kind::handshake_complete) >= 4);  // rekeys happened
    CHECK(s.a->count(Event::Kind::dropped) == 0);
    CHECK(s.b->count(Event::Kind::dropped) == 0);
  }
}

TEST_CASE("rekeys through loss, duplication and reordering: what arrives is delivered once") {
  for (const Flow flow : {Flow::both, Flow::a_only}) {
    CAPTURE(static_cast<int>(flow));
    Pair s(614);
    s.net.record_fates = true;
    Traffic t;
    // The first handshake on a clean link: while the initiator has no session
    // at all it sends on the unconfirmed one (PROTOCOL.md 8.2), and if its
    // message 3 was lost those packets cannot be read; a rekey has no such gap.
    connect(s, t);
    s.net.conditions.loss = 0.10;
    s.net.conditions.duplicate = 0.10;
    s.net.conditions.min_delay = milliseconds(1);
    s.net.conditions.max_delay = milliseconds(30);
    steady_traffic(s, t, std::chrono::minutes(6), milliseconds(10), flow);
    s.net.run_for(seconds(1));
    check_arrived_delivered_once(s.net, *s.a, *s.b, t.from_a);
    check_arrived_delivered_once(s.net, *s.b, *s.a, t.from_b);
    CHECK(s.a->engine.stats(s.a_to_b)->handshakes >= 3);  // rekeyed at ~120 s and ~240 s
  }
}

TEST_CASE("expiry: with every new handshake lost, nothing is sent or accepted after 180 s") {
  Pair s(62);
  Traffic t;
  connect(s, t);
  const Instant a_created = times_of(*s.a, Event::Kind::handshake_complete).at(0);
  const Instant b_created = times_of(*s.b, Event::Kind::handshake_complete).at(0);
  const auto created = [&](const Endpoint& e) { return e == s.a->address ? a_created : b_created; };
  s.net.record_fates = true;
  // Every handshake message is lost from now on. An attacker also holds back
  // one data packet a sends shortly before its keypair expires.
  std::optional<std::vector<std::uint8_t>> held;
  s.net.middle = [&](const Endpoint& from, const Endpoint&, std::vector<std::uint8_t>& bytes) {
    if (type_of(bytes) != kTransport) return false;
    if (!held && from == s.a->address && bytes.size() > kKeepaliveSize &&
        s.net.now() >= a_created + spec::kRejectAfterTime - milliseconds(500)) {
      held = bytes;
      return false;
    }
    return true;
  };
  steady_traffic(s, t, seconds(300));
  REQUIRE(held.has_value());

  for (const Node* n : {s.a, s.b}) {
    const Endpoint& peer = n == s.a ? s.b->address : s.a->address;
    const Instant expiry = created(n->address) + spec::kRejectAfterTime;
    CAPTURE(n->address.to_string());
    // Nothing sent on the keypair once it is REJECT_AFTER_TIME old...
    const auto transport =
        sent_by(s.net, n->address, [](const auto& f) { return type_of(f.bytes) == kTransport; });
    REQUIRE_FALSE(transport.empty());
    CHECK(transport.back().at < expiry);
    // ... nothing delivered from then on; every data packet that arrived
    // before was delivered, and any that arrived later was refused as expired.
    for (const Delivered& d : n->delivered)
      CHECK(d.at < expiry);
    std::size_t arrived = 0;
    for (const auto& f : sent_by(s.net, peer, is_data))
      if (f.copies > 0) ++arrived;
    const std::size_t first_packet = n == s.b ? 1 : 0;  // sent before recording
    CHECK(n->delivered.size() - first_packet + n->count(Drop::expired_keypair) == arrived);
    CHECK(n->delivered.size() > 1000);
    // The handshakes that were tried all failed.
    CHECK(n->count(Event::Kind::handshake_started) >= 1);
    CHECK(n->count(Event::Kind::handshake_gave_up) >= 1);
    CHECK(n->engine.stats(n == s.a ? s.a_to_b : s.b_to_a)->handshakes == 1);
  }
  // The held packet, fresh (never seen), is refused: the keypair has expired.
  const std::size_t expired = s.b->count(Drop::expired_keypair);
  const std::size_t delivered = s.b->delivered.size();
  s.net.inject(s.a->address, s.b->address, *held);
  s.net.run_for(milliseconds(100));
  CHECK(s.b->count(Drop::expired_keypair) == expired + 1);
  CHECK(s.b->delivered.size() == delivered);
}

TEST_CASE("an unreachable responder: initiations every 5 s plus jitter, then give up at 90 s") {
  Pair s(63);
  s.net.record_fates = true;
  s.net.middle = [](const Endpoint&, const Endpoint&, std::vector<std::uint8_t>&) { return false; };
  const Instant began = s.net.now();
  s.a->send_packet(s.a_to_b, make_packet(1));
  s.net.run_for(seconds(200));

  const auto initiations =
      sent_by(s.net, s.a->address, [](const auto& f) { return type_of(f.bytes) == kInitiation; });
  // Between REKEY_ATTEMPT_TIME / (REKEY_TIMEOUT + max jitter) and
  // REKEY_ATTEMPT_TIME / REKEY_TIMEOUT attempts after the first.
  const auto max_gap = spec::kRekeyTimeout + spec::kRekeyTimeoutJitterMax;
  const auto fewest = static_cast<std::size_t>(spec::kRekeyAttemptTime / max_gap) + 1;
  const auto most = static_cast<std::size_t>(spec::kRekeyAttemptTime / spec::kRekeyTimeout);
  CHECK(initiations.size() >= fewest);
  CHECK(initiations.size() <= most);
  CHECK(all_sent_by(s.net, s.a->address).size() == initiations.size());  // nothing else
  REQUIRE_FALSE(initiations.empty());
  CHECK(initiations.front().at == began);
  bool jittered = false;
  for (std::size_t i = 1; i < initiations.size(); ++i) {
    CAPTURE(i);
    const Duration gap = initiations[i].at - initiations[i - 1].at;
    CHECK(gap >= spec::kRekeyTimeout);
    CHECK(gap <= max_gap);
    jittered = jittered || gap != initiations[1].at - initiations[0].at;
  }
  CHECK(jittered);
  CHECK(initiations.back().at - began < spec::kRekeyAttemptTime);

  const auto gave_up = times_of(*s.a, Event::Kind::handshake_gave_up);
  REQUIRE(gave_up.size() == 1);
  CHECK(gave_up[0] - began >= spec::kRekeyAttemptTime);
  CHECK(gave_up[0] - initiations.back().at <= max_gap);  // on the next retransmission
  CHECK(gave_up[0] < s.net.now() - seconds(100));        // and then 100 s of silence
  CHECK(s.a->engine.pending_handshakes() == 0);

  // A new packet starts over, now that b is reachable; the packet queued
  // during the failed attempts was dropped with them.
  s.net.middle = nullptr;
  const std::size_t before = initiations.size();
  const Instant restart = s.net.now();
  s.a->send_packet(s.a_to_b, make_packet(2));
  s.net.run_for(seconds(1));
  const auto again =
      sent_by(s.net, s.a->address, [](const auto& f) { return type_of(f.bytes) == kInitiation; });
  REQUIRE(again.size() == before + 1);
  CHECK(again.back().at == restart);
  CHECK(s.a->count(Event::Kind::session_confirmed) == 1);
  REQUIRE(s.b->delivered.size() == 1);
  CHECK(packet_sequence(s.b->delivered[0].packet) == 2);
}

TEST_CASE("keepalive: data received and nothing sent for 10 s makes the receiver send one") {
  struct Case {
    const char* name;
    std::optional<Duration> b_replies_after;
  };
  for (const Case c :
       {Case{"b stays silent", std::nullopt}, Case{"b replies at 5 s", seconds(5)}}) {
    CAPTURE(std::string(c.name));
    Pair s(64);
    s.connect();
    s.net.run_for(seconds(30));  // the first handshake's own keepalives are over
    s.net.record_fates = true;
    const Instant t = s.net.now();
    s.a->send_packet(s.a_to_b, make_packet(1));
    if (c.b_replies_after) {
      s.net.run_for(*c.b_replies_after);
      s.b->send_packet(s.b_to_a, make_packet(kFromB + 1));
    }
    s.net.run_until(t + seconds(60));

    const auto from_a = all_sent_by(s.net, s.a->address);
    const auto from_b = all_sent_by(s.net, s.b->address);
    REQUIRE(from_a.size() >= 1);
    CHECK(is_data(from_a[0]));
    CHECK(from_a[0].at == t);
    if (!c.b_replies_after) {
      // b received a's packet one link delay after t and sent a keepalive 10 s later.
      REQUIRE(from_b.size() == 1);
      CHECK(is_keepalive(from_b[0]));
      CHECK(from_b[0].at == t + kLinkDelay + spec::kKeepaliveTimeout);
      CHECK(from_a.size() == 1);  // a received no data: no keepalive from a
    } else {
      // b's data replaced its keepalive; now a, which received data, keeps alive.
      REQUIRE(from_b.size() == 1);
      CHECK(is_data(from_b[0]));
      REQUIRE(from_a.size() == 2);
      CHECK(is_keepalive(from_a[1]));
      CHECK(from_a[1].at == t + *c.b_replies_after + kLinkDelay + spec::kKeepaliveTimeout);
    }
    // The answer came in time: no new handshake.
    CHECK(s.a->count(Event::Kind::handshake_started) == 1);
    CHECK(s.b->count(Event::Kind::handshake_started) == 0);
  }
}

TEST_CASE("data sent and nothing received for 15 s starts a new handshake") {
  Pair s(65);
  s.connect();
  s.net.run_for(seconds(30));
  s.net.record_fates = true;
  bool cut = true;  // b's transport messages to a are lost
  s.net.middle = [&](const Endpoint& from, const Endpoint&, std::vector<std::uint8_t>& bytes) {
    return !(cut && from == s.b->address && type_of(bytes) == kTransport);
  };
  const Instant t = s.net.now();
  s.a->send_packet(s.a_to_b, make_packet(1));
  s.net.run_until(t + spec::kNewHandshakeTimeout + milliseconds(500));

  const auto initiations =
      sent_by(s.net, s.a->address, [](const auto& f) { return type_of(f.bytes) == kInitiation; });
  REQUIRE(initiations.size() == 1);
  CHECK(initiations[0].at == t + spec::kKeepaliveTimeout + spec::kRekeyTimeout);
  CHECK(s.b->count(Event::Kind::handshake_started) == 0);

  // With the path back restored the new session is confirmed.
  cut = false;
  s.net.run_for(seconds(10));
  CHECK(s.a->count(Event::Kind::session_confirmed) >= 2);
  s.b->send_packet(s.b_to_a, make_packet(kFromB + 1));
  s.net.run_for(seconds(1));
  REQUIRE(s.a->delivered.size() == 1);
  CHECK(packet_sequence(s.a->delivered[0].packet) == kFromB + 1);
}

TEST_CASE("persistent keepalive: a keepalive every N s with no traffic at all") {
  struct Case {
    std::uint16_t interval_s;
    std::size_t keepalives;  // in 110 s of silence
  };
  for (const Case c : {Case{0, 0}, Case{25, 4}, Case{50, 2}}) {
    CAPTURE(c.interval_s);
    Pair s(66);
    reconfigure_a(s, [&](gw::session::PeerConfig& p) { p.persistent_keepalive_s = c.interval_s; });
    s.connect();
    s.net.run_for(seconds(20));  // b's keepalive for the first packet is over
    s.net.record_fates = true;
    s.net.run_for(seconds(110));

    const auto from_a = all_sent_by(s.net, s.a->address);
    CHECK(from_a.size() == c.keepalives);
    for (std::size_t i = 0; i < from_a.size(); ++i) {
      CAPTURE(i);
      CHECK(is_keepalive(from_a[i]));
      if (i > 0) CHECK(from_a[i].at - from_a[i - 1].at == seconds(c.interval_s));
    }
    CHECK(all_sent_by(s.net, s.b->address).empty());  // b has none configured
    CHECK(s.b->count(Event::Kind::dropped) == 0);
  }
}

TEST_CASE("keys are wiped 540 s after the last new session") {
  Pair s(67);
  s.connect();
  const Instant a_session = times_of(*s.a, Event::Kind::handshake_complete).at(0);
  const Instant b_session = times_of(*s.b, Event::Kind::handshake_complete).at(0);
  s.net.run_until(a_session + spec::kZeroKeysAfter - milliseconds(1));
  CHECK(s.a->engine.has_session(s.a_to_b));
  CHECK(s.b->engine.has_session(s.b_to_a));
  CHECK(s.a->count(Event::Kind::keys_wiped) == 0);
  s.net.run_until(b_session + spec::kZeroKeysAfter);
  CHECK(times_of(*s.a, Event::Kind::keys_wiped) == std::vector{a_session + spec::kZeroKeysAfter});
  CHECK(times_of(*s.b, Event::Kind::keys_wiped) == std::vector{b_session + spec::kZeroKeysAfter});
  CHECK_FALSE(s.a->engine.has_session(s.a_to_b));
  CHECK_FALSE(s.b->engine.has_session(s.b_to_a));
  CHECK(s.a->count(Event::Kind::handshake_started) == 1);  // nothing tried meanwhile

  // A new packet brings up a new session.
  s.a->send_packet(s.a_to_b, make_packet(1));
  s.net.run_for(seconds(1));
  CHECK(s.a->engine.has_session(s.a_to_b));
  REQUIRE(s.b->delivered.size() == 2);
  CHECK(packet_sequence(s.b->delivered[1].packet) == 1);
}

TEST_CASE("timers: a restarted peer is back at once, not after the new-handshake timer") {
  // b "restarts": it forgets a and its session, and knows a again by its
  // configured endpoint. a keeps sending on the session b lost.
  const auto restart_b = [](Pair& s, bool with_endpoint) {
    REQUIRE(s.b->engine.remove_peer(s.b_to_a));
    gw::session::PeerConfig to_a;
    to_a.name = "a";
    to_a.public_key = s.a->key.public_key;
    if (with_endpoint) to_a.endpoint = s.a->address;
    s.b_to_a = s.b->engine.add_peer(to_a);
  };
  const auto first_delivery_after = [](Pair& s, Instant since) -> std::optional<Duration> {
    for (int i = 1; i <= 40; ++i) {
      s.a->send_packet(s.a_to_b, make_packet(static_cast<std::uint32_t>(100 + i)));
      s.net.run_for(std::chrono::milliseconds(500));
      for (const Delivered& d : s.b->delivered) {
        if (d.at >= since) return d.at - since;
      }
    }
    return std::nullopt;
  };
  SUBCASE("b knows a's endpoint: b starts the handshake on a's first packet") {
    Pair s(61);
    s.connect();
    restart_b(s, true);
    const Instant t = s.net.now();
    const auto back = first_delivery_after(s, t);
    REQUIRE(back.has_value());
    CHECK(*back < std::chrono::seconds(1));
    CHECK(s.b->count(gw::session::Drop::unknown_index) >= 1);
    CHECK(s.b->count(gw::session::Event::Kind::handshake_started) == 1);
  }
  SUBCASE("b has no endpoint for a: a's new-handshake timer, 15 s, as before") {
    Pair s(62);
    s.connect();
    restart_b(s, false);
    const Instant t = s.net.now();
    const auto back = first_delivery_after(s, t);
    REQUIRE(back.has_value());
    CHECK(*back >= gw::timer_spec::kNewHandshakeTimeout);
    CHECK(s.b->count(gw::session::Event::Kind::handshake_started) == 0);
  }
  SUBCASE("packets for an unknown index never make a peer with a session rekey") {
    Pair s(63);
    s.connect();
    REQUIRE(s.b->engine.set_endpoint(s.b_to_a, s.a->address));
    const std::size_t started = s.b->count(gw::session::Event::Kind::handshake_started);
    std::vector<std::uint8_t> junk(48, 0);
    junk[0] = static_cast<std::uint8_t>(gw::wire::MessageType::transport);
    junk[4] = 0x77;  // an index nobody uses
    for (int i = 0; i < 20; ++i) {
      s.net.inject(s.a->address, s.b->address, junk);
      s.net.run_for(std::chrono::seconds(1));
    }
    CHECK(s.b->count(gw::session::Event::Kind::handshake_started) == started);
    CHECK(s.b->count(gw::session::Drop::unknown_index) >= 20);
  }
}
