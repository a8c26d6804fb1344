// SPDX-License-Identifier: MIT
// The engine on a bad network: loss, duplication and reordering; roaming; one
// gateway with several clients; and every kind of replayed message. Seeded
// randomness and fake time only.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "sim/sim_helpers.hpp"

using namespace gw::test;
using gw::Instant;
using gw::session::Drop;
using gw::session::Endpoint;
using gw::session::Event;
using gw::session::PeerId;

namespace {

constexpr std::uint8_t kInitiation = 1, kResponse = 2, kFinish = 3, kRetry = 4, kCookieReply = 5,
                       kTransport = 6;
constexpr std::size_t kKeepaliveSize = 32;   // header 16 + tag 16, no payload
constexpr std::uint32_t kFromB = 1'000'000;  // b numbers its packets from here

std::uint8_t type_of(const std::vector<std::uint8_t>& d) {
  return d.empty() ? std::uint8_t{0} : d[0];
}

std::size_t drop_events(const Node& n) {
  return n.count(Event::Kind::dropped);
}

// What the network did to the transport datagrams from one node to another
// (recorded fates, from index `since` on): how many carried data and arrived
// at least once, and how many extra copies of any of them arrived.
struct TransportFates {
  std::size_t data_arrived = 0;
  std::size_t data_lost = 0;
  std::size_t duplicates = 0;
};

TransportFates transport_fates(const FakeNetwork& net, const Endpoint& from, std::size_t since) {
  TransportFates t;
  for (std::size_t i = since; i < net.fates.size(); ++i) {
    const FakeNetwork::Fate& f = net.fates[i];
    if (!(f.from == from) || type_of(f.bytes) != kTransport) continue;
    const bool data = f.bytes.size() > kKeepaliveSize;
    if (data && f.copies > 0) ++t.data_arrived;
    if (data && f.copies == 0) ++t.data_lost;
    if (f.copies > 1) t.duplicates += static_cast<std::size_t>(f.copies - 1);
  }
  return t;
}

// The sequence numbers delivered to `n` from index `since` on, all from `peer`.
std::vector<std::uint32_t> delivered_sequences(const Node& n, PeerId peer, std::size_t since = 0) {
  std::vector<std::uint32_t> seqs;
  for (std::size_t i = since; i < n.delivered.size(); ++i) {
    CHECK(n.delivered[i].peer == peer);
    seqs.push_back(packet_sequence(n.delivered[i].packet));
  }
  return seqs;
}

// Every delivered sequence number was sent (first .. first + count - 1), and
// none was delivered twice.
void check_exactly_once(std::vector<std::uint32_t> seqs, std::uint32_t first, std::uint32_t count) {
  std::sort(seqs.begin(), seqs.end());
  CHECK(std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end());
  for (const std::uint32_t s : seqs) {
    CHECK(s >= first);
    CHECK(s < first + count);
  }
}

// Sends `count` packets each way, one each way every millisecond, then lets
// the network drain; then checks that every data packet that reached its
// receiver at least once was delivered exactly once, and that the only drops
// are the extra copies, as replays.
void exchange_and_account(Pair& s, std::uint32_t count) {
  s.net.record_fates = true;
  const std::size_t since = s.net.fates.size();
  const std::size_t a_seen = s.a->delivered.size(), b_seen = s.b->delivered.size();
  const std::size_t a_drops = drop_events(*s.a), b_drops = drop_events(*s.b);
  const std::size_t a_replays = s.a->count(Drop::replay), b_replays = s.b->count(Drop::replay);
  for (std::uint32_t i = 1; i <= count; ++i) {
    s.a->send_packet(s.a_to_b, make_packet(i));
    s.b->send_packet(s.b_to_a, make_packet(kFromB + i));
    s.net.run_for(std::chrono::milliseconds(1));
  }
  s.net.run_for(std::chrono::seconds(1));

  struct Direction {
    Node* from;
    Node* to;
    PeerId peer;
    std::size_t seen, drops, replays;
    std::uint32_t first;
  };
  for (const Direction& d :
       {Direction{s.a, s.b, s.b_to_a, b_seen, b_drops, b_replays, 1},
        Direction{s.b, s.a, s.a_to_b, a_seen, a_drops, a_replays, kFromB + 1}}) {
    CAPTURE(d.first);
    const TransportFates f = transport_fates(s.net, d.from->address, since);
    const auto seqs = delivered_sequences(*d.to, d.peer, d.seen);
    check_exactly_once(seqs, d.first, count);
    CHECK(f.data_arrived + f.data_lost == count);
    CHECK(seqs.size() == f.data_arrived);
    CHECK(d.to->count(Drop::replay) - d.replays == f.duplicates);
    CHECK(drop_events(*d.to) - d.drops == f.duplicates);  // nothing else was dropped
  }
}

}  // namespace

TEST_CASE("10% loss, 10% duplication and reordering: every packet that arrives is delivered once") {
  struct Case {
    const char* name;
    std::uint64_t seed;
    bool lossy_handshake;  // the handshake too goes through the bad network
  };
  for (const Case c : {Case{"clean handshake", 11, false}, Case{"lossy handshake", 12, true},
                       Case{"lossy handshake, other seed", 13, true}}) {
    CAPTURE(std::string(c.name));
    Pair s(c.seed);
    FakeNetwork::Conditions bad;
    bad.loss = 0.10;
    bad.duplicate = 0.10;
    bad.min_delay = std::chrono::milliseconds(1);
    bad.max_delay = std::chrono::milliseconds(30);  // a packet overtakes up to ~30 others
    if (c.lossy_handshake) s.net.conditions = bad;
    s.a->send_packet(s.a_to_b, make_packet(0));
    s.net.run_for(std::chrono::seconds(60));  // retries every 5 s until confirmed
    REQUIRE(s.a->engine.has_session(s.a_to_b));
    REQUIRE(s.b->engine.has_session(s.b_to_a));
    REQUIRE(s.a->count(Event::Kind::session_confirmed) >= 1);
    s.net.conditions = bad;
    exchange_and_account(s, 10'000);
    // The network really was bad: the run saw losses, duplicates and overtaking.
    const TransportFates f = transport_fates(s.net, s.a->address, 0);
    CHECK(f.data_lost > 500);
    CHECK(f.duplicates > 500);
    const auto seqs = delivered_sequences(*s.b, s.b_to_a);
    CHECK_FALSE(std::is_sorted(seqs.begin(), seqs.end()));
  }
}

TEST_CASE("roaming: the responder follows an authenticated new source, never a forged one") {
  Pair s(21);
  s.net.record_fates = true;
  s.connect();
  const Endpoint first = s.a->address, moved = address_v4(3, 40000);
  REQUIRE(s.b->engine.endpoint(s.b_to_a) == first);

  s.net.move_node(first, moved);
  const Instant moved_at = s.net.now();
  s.a->send_packet(s.a_to_b, make_packet(1));
  s.net.run_for(std::chrono::milliseconds(100));
  CHECK(s.b->engine.endpoint(s.b_to_a) == moved);
  s.b->send_packet(s.b_to_a, make_packet(kFromB + 1));
  s.net.run_for(std::chrono::milliseconds(100));
  REQUIRE(s.a->delivered.size() == 1);
  CHECK(packet_sequence(s.a->delivered[0].packet) == kFromB + 1);

  // A genuine datagram of a's that b has received, as an attacker saw it on
  // the wire; and a's next one, which the attacker holds back so that its
  // counter is still fresh at b (a replayed counter is refused before any
  // decryption).
  const auto seen = std::find_if(s.net.fates.rbegin(), s.net.fates.rend(), [&](const auto& f) {
    return f.from == moved && type_of(f.bytes) == kTransport && f.bytes.size() > kKeepaliveSize;
  });
  REQUIRE(seen != s.net.fates.rend());
  std::optional<std::vector<std::uint8_t>> held;
  s.net.middle = [&](const Endpoint& from, const Endpoint&, std::vector<std::uint8_t>& bytes) {
    if (held || !(from == moved)) return true;
    held = bytes;
    return false;
  };
  s.a->send_packet(s.a_to_b, make_packet(2));
  s.net.run_for(std::chrono::milliseconds(100));
  s.net.middle = nullptr;
  REQUIRE(held.has_value());

  struct Forgery {
    const char* name;
    bool fresh;                       // the held datagram, else the one b has seen
    std::optional<std::size_t> flip;  // byte to change
    Drop expected;
  };
  const Endpoint attacker = address_v4(66, 6666);
  for (const Forgery f : {Forgery{"changed ciphertext", true, 20, Drop::decrypt_failed},
                          Forgery{"changed tag", true, held->size() - 1, Drop::decrypt_failed},
                          Forgery{"changed counter", true, 14, Drop::decrypt_failed},
                          Forgery{"changed index", true, 4, Drop::unknown_index},
                          Forgery{"replayed as it is", false, std::nullopt, Drop::replay}}) {
    CAPTURE(std::string(f.name));
    std::vector<std::uint8_t> bytes = f.fresh ? *held : seen->bytes;
    if (f.flip) bytes[*f.flip] ^= 0x01;
    const std::size_t before = s.b->count(f.expected), delivered = s.b->delivered.size();
    s.net.inject(attacker, s.b->address, bytes);
    s.net.run_for(std::chrono::milliseconds(100));
    CHECK(s.b->count(f.expected) == before + 1);
    CHECK(s.b->delivered.size() == delivered);
    CHECK(s.b->engine.endpoint(s.b_to_a) == moved);
  }
  // The forgeries did not use up the held packet's counter: from a, it counts.
  s.net.inject(moved, s.b->address, *held);
  s.net.run_for(std::chrono::milliseconds(100));
  REQUIRE(s.b->delivered.size() == 3);
  CHECK(packet_sequence(s.b->delivered[2].packet) == 2);
  // b's replies still reach a where it really is.
  s.b->send_packet(s.b_to_a, make_packet(kFromB + 2));
  s.net.run_for(std::chrono::milliseconds(100));
  REQUIRE(s.a->delivered.size() == 2);
  CHECK(packet_sequence(s.a->delivered[1].packet) == kFromB + 2);
  for (const auto& f : s.net.fates) {
    if (f.from == s.b->address && f.at >= moved_at) CHECK(f.to == moved);
  }
}

TEST_CASE("a gateway with three clients keeps each client's traffic to that client") {
  constexpr std::size_t kClients = 3;
  constexpr std::uint32_t kPackets = 50;
  FakeNetwork net(31);
  Node& gateway = net.add_node(address_v4(10), key_from(300));
  struct Client {
    Node* node = nullptr;
    PeerId at_gateway = gw::session::kNoPeer;  // the gateway's id for the client
    PeerId gateway = gw::session::kNoPeer;     // the client's id for the gateway
  };
  std::array<Client, kClients> clients;
  for (std::size_t i = 0; i < kClients; ++i) {
    Client& c = clients[i];
    c.node = &net.add_node(address_v4(static_cast<std::uint8_t>(11 + i)), key_from(301 + i));
    gw::session::PeerConfig to_gateway;
    to_gateway.name = "gateway";
    to_gateway.public_key = gateway.key.public_key;
    to_gateway.endpoint = gateway.address;
    c.gateway = c.node->engine.add_peer(to_gateway);
    gw::session::PeerConfig to_client;  // a key, no address
    to_client.name = "client";
    to_client.public_key = c.node->key.public_key;
    c.at_gateway = gateway.engine.add_peer(to_client);
    CHECK_FALSE(gateway.engine.endpoint(c.at_gateway).has_value());
  }
  // Numbering: client i sends (i + 1) * 1000 + k; the gateway sends it 100000 + that.
  const auto number = [](std::size_t i, std::uint32_t k) {
    return static_cast<std::uint32_t>(i + 1) * 1000 + k;
  };
  for (std::size_t i = 0; i < kClients; ++i)
    clients[i].node->send_packet(clients[i].gateway, make_packet(number(i, 0)));
  net.run_for(std::chrono::seconds(1));
  for (const Client& c : clients) {
    REQUIRE(c.node->engine.has_session(c.gateway));
    REQUIRE(gateway.engine.has_session(c.at_gateway));
    CHECK(gateway.engine.endpoint(c.at_gateway) == c.node->address);
  }
  CHECK(gateway.count(Event::Kind::handshake_complete) == kClients);

  for (std::uint32_t k = 1; k <= kPackets; ++k) {
    for (std::size_t i = 0; i < kClients; ++i) {
      clients[i].node->send_packet(clients[i].gateway, make_packet(number(i, k)));
      gateway.send_packet(clients[i].at_gateway, make_packet(100'000 + number(i, k)));
    }
    net.run_for(std::chrono::milliseconds(1));
  }
  net.run_for(std::chrono::seconds(1));

  REQUIRE(gateway.delivered.size() == kClients * (kPackets + 1));
  for (const Delivered& d : gateway.delivered) {
    const std::uint32_t seq = packet_sequence(d.packet);
    CAPTURE(seq);
    const std::size_t sender = seq / 1000 - 1;
    REQUIRE(sender < kClients);
    CHECK(d.peer == clients[sender].at_gateway);
  }
  for (std::size_t i = 0; i < kClients; ++i) {
    CAPTURE(i);
    const Node& n = *clients[i].node;
    REQUIRE(n.delivered.size() == kPackets);
    for (std::uint32_t k = 1; k <= kPackets; ++k) {
      CHECK(n.delivered[k - 1].peer == clients[i].gateway);
      CHECK(packet_sequence(n.delivered[k - 1].packet) == 100'000 + number(i, k));
    }
    CHECK(drop_events(n) == 0);
  }
  CHECK(drop_events(gateway) == 0);
}

namespace {

// What a replay of one handshake message leads to: the drop its destination
// reports (none when it answers statelessly), and the drop the sender reports
// for that answer (a retry or cookie reply to a handshake that is over).
struct ReplayOutcome {
  std::uint8_t type;
  std::optional<Drop> there;
  std::optional<Drop> back;
};

struct ReplayScenario {
  const char* name;
  std::vector<std::uint8_t> a_suites, b_suites;
  bool under_load;
  std::vector<ReplayOutcome> handshake;  // in the order the messages went on the wire
};

const ReplayOutcome kInitiationAnswered{kInitiation, Drop::replayed_initiation, std::nullopt};
const ReplayOutcome kResponseOver{kResponse, Drop::unknown_index, std::nullopt};
const ReplayOutcome kFinishOver{kFinish, Drop::unknown_index, std::nullopt};

std::vector<ReplayScenario> replay_scenarios() {
  return {
      {"plain", {}, {}, false, {kInitiationAnswered, kResponseOver, kFinishOver}},
      // b prefers suite 3, a offers 1 first: the first initiation is answered
      // by a retry, statelessly, so its replay gets a retry again (which a
      // drops); the second attempt was answered with a response.
      {"retry",
       {1, 3},
       {3, 1},
       false,
       {{kInitiation, std::nullopt, Drop::unknown_index},
        {kRetry, Drop::unknown_index, std::nullopt},
        kInitiationAnswered,
        kResponseOver,
        kFinishOver}},
      // Under load the first initiation (no cookie yet) gets a cookie reply.
      {"cookie",
       {},
       {},
       true,
       {{kInitiation, Drop::under_load, Drop::unknown_index},
        {kCookieReply, Drop::unknown_index, std::nullopt},
        kInitiationAnswered,
        kResponseOver,
        kFinishOver}},
  };
}

Pair make_replay_pair(const ReplayScenario& sc) {
  gw::session::EngineConfig a_config, b_config;
  a_config.suites = sc.a_suites;
  b_config.suites = sc.b_suites;
  b_config.always_under_load = sc.under_load;
  return Pair(41, a_config, b_config);
}

Node& node_at(Pair& s, const Endpoint& e) {
  return e == s.a->address ? *s.a : *s.b;
}

// Injects one captured datagram again, from where it came, and lets every
// answer play out.
void replay(Pair& s, const FakeNetwork::Fate& f) {
  s.net.inject(f.from, f.to, f.bytes);
  s.net.run_for(std::chrono::milliseconds(100));
}

struct Snapshot {
  std::size_t a_drops, b_drops, a_delivered, b_delivered, a_sessions, b_sessions;
  explicit Snapshot(const Pair& s)
      : a_drops(drop_events(*s.a)),
        b_drops(drop_events(*s.b)),
        a_delivered(s.a->delivered.size()),
        b_delivered(s.b->delivered.size()),
        a_sessions(s.a->count(Event::Kind::handshake_complete)),
        b_sessions(s.b->count(Event::Kind::handshake_complete)) {}
};

// Nothing new was delivered and no session was derived since `before`.
void check_nothing_gained(const Pair& s, const Snapshot& before) {
  CHECK(s.a->delivered.size() == before.a_delivered);
  CHECK(s.b->delivered.size() == before.b_delivered);
  CHECK(s.a->count(Event::Kind::handshake_complete) == before.a_sessions);
  CHECK(s.b->count(Event::Kind::handshake_complete) == before.b_sessions);
}

// Replays every transport datagram captured and expects each to be refused
// for `why` at its destination.
void replay_transport(Pair& s, Drop why) {
  const Snapshot before(s);
  std::size_t to_a = 0, to_b = 0;
  const std::size_t a_why = s.a->count(why), b_why = s.b->count(why);
  const auto captured = s.net.fates;  // replays are not recorded: inject() skips the wire
  for (const FakeNetwork::Fate& f : captured) {
    if (type_of(f.bytes) != kTransport) continue;
    s.net.inject(f.from, f.to, f.bytes);
    ++(f.to == s.a->address ? to_a : to_b);
  }
  s.net.run_for(std::chrono::milliseconds(100));
  CHECK(to_a > 10);
  CHECK(to_b > 10);
  CHECK(s.a->count(why) - a_why == to_a);
  CHECK(s.b->count(why) - b_why == to_b);
  CHECK(drop_events(*s.a) - before.a_drops == to_a);
  CHECK(drop_events(*s.b) - before.b_drops == to_b);
  check_nothing_gained(s, before);
}

}  // namespace

TEST_CASE("replayed handshake and transport messages are refused and create nothing") {
  for (const ReplayScenario& sc : replay_scenarios()) {
    CAPTURE(std::string(sc.name));
    Pair s = make_replay_pair(sc);
    s.net.record_fates = true;
    s.a->send_packet(s.a_to_b, make_packet(0));
    s.net.run_for(std::chrono::seconds(10));  // the cookie case waits for a retransmit
    REQUIRE(s.a->count(Event::Kind::session_confirmed) == 1);
    for (std::uint32_t i = 1; i <= 20; ++i) {
      s.a->send_packet(s.a_to_b, make_packet(i));
      s.b->send_packet(s.b_to_a, make_packet(kFromB + i));
    }
    s.net.run_for(std::chrono::seconds(1));
    REQUIRE(s.b->delivered.size() == 21);
    REQUIRE(s.a->delivered.size() == 20);
    s.net.record_fates = false;

    // Handshake messages, one at a time, in the order they were sent.
    std::vector<FakeNetwork::Fate> handshake;
    for (const auto& f : s.net.fates)
      if (type_of(f.bytes) != kTransport) handshake.push_back(f);
    REQUIRE(handshake.size() == sc.handshake.size());
    for (std::size_t i = 0; i < handshake.size(); ++i) {
      const ReplayOutcome& want = sc.handshake[i];
      CAPTURE(i);
      REQUIRE(type_of(handshake[i].bytes) == want.type);
      Node& there = node_at(s, handshake[i].to);
      Node& back = node_at(s, handshake[i].from);
      const std::size_t there_drops = drop_events(there), back_drops = drop_events(back);
      const std::size_t there_why = want.there ? there.count(*want.there) : 0;
      const std::size_t back_why = want.back ? back.count(*want.back) : 0;
      const Snapshot before(s);
      replay(s, handshake[i]);
      CHECK(drop_events(there) - there_drops == (want.there ? 1u : 0u));
      CHECK(drop_events(back) - back_drops == (want.back ? 1u : 0u));
      if (want.there) CHECK(there.count(*want.there) == there_why + 1);
      if (want.back) CHECK(back.count(*want.back) == back_why + 1);
      check_nothing_gained(s, before);
      CHECK(s.b->engine.pending_handshakes() == 0);
    }

    // Transport messages: while the keypair lives, as replays; once it is
    // older than REJECT_AFTER_TIME, as expired; once its keys are wiped
    // (3 * REJECT_AFTER_TIME without a new session), as unknown indices.
    replay_transport(s, Drop::replay);
    s.net.run_for(gw::timer_spec::kRejectAfterTime);
    replay_transport(s, Drop::expired_keypair);
    s.net.run_for(gw::timer_spec::kZeroKeysAfter - gw::timer_spec::kRejectAfterTime);
    REQUIRE_FALSE(s.a->engine.has_session(s.a_to_b));
    REQUIRE_FALSE(s.b->engine.has_session(s.b_to_a));
    // Without its configured endpoint: a packet for an unknown index from a
    // peer's configured endpoint, with no session, starts a handshake to that
    // endpoint (a restarted side's recovery, test_timers.cpp); here they must
    // be refused and nothing more.
    REQUIRE(s.a->engine.clear_endpoint(s.a_to_b));
    replay_transport(s, Drop::unknown_index);
    CHECK(s.a->count(Event::Kind::handshake_complete) == 1);
    CHECK(s.b->count(Event::Kind::handshake_complete) == 1);
  }
}

TEST_CASE("an initiation replayed after the replay cache forgot it costs a response, no session") {
  // PROTOCOL.md 7.4: the cache keeps answered ephemeral keys for
  // REPLAY_CACHE_TIME; after that a replay is answered again, but the
  // handshake can never finish without the initiator's ephemeral secret.
  Pair s(43);
  s.net.record_fates = true;
  s.connect();
  s.net.record_fates = false;
  const auto initiation = std::find_if(s.net.fates.begin(), s.net.fates.end(), [](const auto& f) {
    return type_of(f.bytes) == kInitiation;
  });
  REQUIRE(initiation != s.net.fates.end());
  const FakeNetwork::Fate captured = *initiation;

  replay(s, captured);
  CHECK(s.b->count(Drop::replayed_initiation) == 1);
  CHECK(s.b->engine.pending_handshakes() == 0);

  // The cache forgets on poll(), which may come at any time; nothing else is
  // due at b now, so poll it as a caller may.
  s.net.run_for(gw::engine_impl::kReplayCacheTime);
  s.b->engine.poll(s.net.now());
  const Snapshot before(s);
  const std::size_t stale = s.a->count(Drop::unknown_index);
  replay(s, captured);
  CHECK(s.b->count(Drop::replayed_initiation) == 1);
  CHECK(s.b->engine.pending_handshakes() == 1);  // answered: a response went to a
  CHECK(s.a->count(Drop::unknown_index) == stale + 1);
  s.net.run_for(gw::engine_impl::kPendingHandshakeLifetime);
  CHECK(s.b->engine.pending_handshakes() == 0);
  check_nothing_gained(s, before);
}

TEST_CASE("set_endpoint: the initiator reaches a responder that moved (a re-resolved name)") {
  Pair s(22);
  s.connect();
  const Endpoint old_b = s.b->address, new_b = address_v4(7, 51820);
  CHECK_FALSE(s.a->engine.set_endpoint(s.a_to_b + 100, new_b));
  CHECK_FALSE(s.a->engine.set_endpoint(s.a_to_b, Endpoint{}));

  s.net.move_node(old_b, new_b);
  REQUIRE(s.a->engine.set_endpoint(s.a_to_b, new_b));
  CHECK(s.a->engine.endpoint(s.a_to_b) == new_b);
  s.a->send_packet(s.a_to_b, make_packet(5));
  s.net.run_for(std::chrono::milliseconds(100));
  REQUIRE(s.b->delivered.size() == 2);  // the one connect() sent, then this one
  CHECK(packet_sequence(s.b->delivered[1].packet) == 5);
}
