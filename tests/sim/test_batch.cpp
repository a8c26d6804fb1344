// SPDX-License-Identifier: MIT
// The batch data path (prepare, seal/open, finish) against the packet-by-
// packet one: the same seed must give the same bytes on the wire, the same
// deliveries and the same events, whether the AEAD runs inline, on a
// WorkerPool or on plain threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "../../src/daemon/worker_pool.hpp"  // gwd's pool, built into the tests too
#include "gw/wire/messages.hpp"
#include "sim/sim_helpers.hpp"

using namespace gw::test;
using gw::Bytes;
using gw::MutBytes;
using gw::daemon::WorkerPool;
using gw::session::Drop;
using gw::session::Engine;
using gw::session::Event;
using gw::session::OpenJob;
using gw::session::Prepared;
using gw::session::SealJob;

namespace {

// A buffer with the engine's head- and tailroom around `packet`.
std::vector<std::uint8_t> framed(const std::vector<std::uint8_t>& packet) {
  std::vector<std::uint8_t> buf(gw::session::kPacketHeadroom + packet.size() +
                                gw::session::kPacketTailroom);
  std::copy(packet.begin(), packet.end(),
            buf.begin() + static_cast<std::ptrdiff_t>(gw::session::kPacketHeadroom));
  return buf;
}

// Sends `packets` to `peer` as one batch: prepare all, seal on the pool
// (inline without one), finish all in order.
void send_batch(Node& n, gw::session::PeerId peer,
                const std::vector<std::vector<std::uint8_t>>& packets, WorkerPool* pool) {
  std::vector<std::vector<std::uint8_t>> buffers;
  for (const auto& p : packets)
    buffers.push_back(framed(p));
  std::vector<SealJob> jobs(packets.size());
  std::size_t count = 0;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (n.engine.prepare_send(n.net.now(), peer, buffers[i], packets[i].size(), jobs[count])) {
      ++count;
    }
  }
  if (pool != nullptr) {
    gw::daemon::seal_all(*pool, std::span(jobs.data(), count));
  } else {
    for (std::size_t i = 0; i < count; ++i)
      Engine::seal(jobs[i]);
  }
  for (std::size_t i = 0; i < count; ++i)
    n.engine.finish_send(n.net.now(), jobs[i]);
}

struct Datagram {
  Endpoint from;
  std::vector<std::uint8_t> bytes;
};

// Hands `datagrams` to the node's engine as the daemon does with a receive
// batch: transport messages prepared, opened on the pool, finished in order;
// anything else after the jobs before it, through handle_datagram.
void receive_batch(Node& n, std::vector<Datagram> datagrams, WorkerPool* pool) {
  std::vector<OpenJob> jobs(datagrams.size());
  std::size_t count = 0;
  const auto finish = [&] {
    if (pool != nullptr) {
      gw::daemon::open_all(*pool, std::span(jobs.data(), count));
    } else {
      for (std::size_t i = 0; i < count; ++i)
        Engine::open(jobs[i]);
    }
    for (std::size_t i = 0; i < count; ++i)
      n.engine.finish_receive(n.net.now(), jobs[i]);
    count = 0;
  };
  for (Datagram& d : datagrams) {
    switch (n.engine.prepare_receive(n.net.now(), d.from, d.bytes, jobs[count])) {
      case Prepared::job:
        ++count;
        break;
      case Prepared::dropped:
        break;
      case Prepared::not_transport:
        finish();
        n.engine.handle_datagram(n.net.now(), d.from, d.bytes);
        break;
    }
  }
  finish();
}

void receive_one_by_one(Node& n, std::vector<Datagram> datagrams) {
  for (Datagram& d : datagrams)
    n.engine.handle_datagram(n.net.now(), d.from, d.bytes);
}

// Everything a node showed: compared between two runs.
struct Record {
  std::vector<std::vector<std::uint8_t>> wire;
  std::vector<std::pair<gw::session::PeerId, std::vector<std::uint8_t>>> delivered;
  std::vector<std::tuple<Event::Kind, Drop, gw::session::PeerId>> events;
};

Record record_of(const Pair& s, const Node& n) {
  Record r;
  r.wire = s.net.wire_log;
  for (const auto& d : n.delivered)
    r.delivered.emplace_back(d.peer, d.packet);
  for (const auto& e : n.events)
    r.events.emplace_back(e.kind, e.drop, e.peer);
  return r;
}

void check_same(const Record& x, const Record& y) {
  CHECK(x.wire.size() == y.wire.size());
  CHECK(x.wire == y.wire);
  CHECK(x.delivered.size() == y.delivered.size());
  CHECK(x.delivered == y.delivered);
  CHECK(x.events.size() == y.events.size());
  CHECK(x.events == y.events);
}

enum class Mode { one_by_one, batch_inline, batch_pool };

// Holds back the transport messages b sends to a while `hold` is set.
struct Holder {
  bool hold = false;
  std::vector<Datagram> held;
  void install(Pair& s) {
    const Endpoint a = s.a->address;
    s.net.middle = [this, a](const Endpoint& from, const Endpoint& to,
                             std::vector<std::uint8_t>& bytes) {
      if (!hold || to != a || gw::wire::peek_type(bytes) != gw::wire::MessageType::transport) {
        return true;
      }
      held.push_back({from, bytes});
      return false;
    };
  }
};

}  // namespace

TEST_CASE("a batch of sends puts the same bytes on the wire as send_packet") {
  for (const Mode mode : {Mode::batch_inline, Mode::batch_pool}) {
    CAPTURE(static_cast<int>(mode));
    WorkerPool pool(3);
    Pair x(11), y(11);
    for (Pair* s : {&x, &y}) {
      s->net.record = true;
      s->connect();
    }
    std::vector<std::vector<std::uint8_t>> packets;
    for (std::uint32_t i = 0; i < 100; ++i)
      packets.push_back(make_packet(i + 1, 24 + (i * 37) % 1400));
    for (const auto& p : packets)
      x.a->send_packet(x.a_to_b, p);
    send_batch(*y.a, y.a_to_b, packets, mode == Mode::batch_pool ? &pool : nullptr);
    for (Pair* s : {&x, &y})
      s->net.run_for(std::chrono::seconds(1));
    check_same(record_of(x, *x.a), record_of(y, *y.a));
    check_same(record_of(x, *x.b), record_of(y, *y.b));
    REQUIRE(y.b->delivered.size() == 101);
    for (std::uint32_t i = 1; i <= 100; ++i)
      CHECK(packet_sequence(y.b->delivered[i].packet) == i);
    CHECK(y.a->engine.stats(y.a_to_b)->tx_packets == 101);
  }
}

TEST_CASE("a batch without a session stages its packets and starts one handshake") {
  Pair s(12);
  std::vector<std::vector<std::uint8_t>> packets;
  for (std::uint32_t i = 0; i < 3; ++i)
    packets.push_back(make_packet(i));
  send_batch(*s.a, s.a_to_b, packets, nullptr);
  CHECK(s.a->count(Event::Kind::handshake_started) == 1);
  s.net.run_for(std::chrono::seconds(1));
  REQUIRE(s.b->delivered.size() == 3);
  for (std::uint32_t i = 0; i < 3; ++i)
    CHECK(packet_sequence(s.b->delivered[i].packet) == i);
}

// a's keys: K1 from the first handshake, then two rekeys. The batch that
// reaches a holds b's first packet on K3 (it confirms K3 and so retires K1)
// and a packet b sent on K1 long before: the second must drop as an unknown
// index, exactly as packet by packet. Around them: data, a replay of one
// datagram twice, a forgery, a short datagram and a handshake message.
TEST_CASE("a receive batch gives the same deliveries and drops as one datagram at a time") {
  for (const Mode mode : {Mode::one_by_one, Mode::batch_inline, Mode::batch_pool}) {
    CAPTURE(static_cast<int>(mode));
    WorkerPool pool(2);
    Pair s(21);
    s.net.record = true;
    Holder holder;
    holder.install(s);
    s.connect();
    holder.hold = true;
    s.b->send_packet(s.b_to_a, make_packet(500));  // on K1, held
    s.net.run_for(std::chrono::seconds(1));
    holder.hold = false;
    s.net.run_for(std::chrono::seconds(6));
    s.a->engine.initiate(s.net.now(), s.a_to_b);  // K2, confirmed
    s.net.run_for(std::chrono::seconds(6));
    REQUIRE(s.a->count(Event::Kind::session_confirmed) == 2);
    std::vector<Datagram> old = holder.held;
    REQUIRE(old.size() == 1);
    holder.held.clear();
    holder.hold = true;
    s.a->engine.initiate(s.net.now(), s.a_to_b);  // K3: b's confirmation is held
    s.net.run_for(std::chrono::milliseconds(100));
    for (std::uint32_t i = 1; i <= 20; ++i)
      s.b->send_packet(s.b_to_a, make_packet(600 + i, 40 + 50 * i));
    s.net.run_for(std::chrono::milliseconds(100));
    REQUIRE(s.a->count(Event::Kind::session_confirmed) == 2);
    REQUIRE(holder.held.size() == 21);  // the keepalive that confirms K3, then the data

    std::vector<Datagram> batch;
    batch.push_back(holder.held[0]);  // confirms K3: K1 goes
    batch.push_back(old[0]);          // on K1: unknown index by now
    for (std::size_t i = 1; i <= 10; ++i)
      batch.push_back(holder.held[i]);
    batch.push_back(holder.held[4]);  // replays inside the batch
    batch.push_back(holder.held[4]);
    Datagram forged = holder.held[11];
    forged.bytes.back() ^= 1;
    batch.push_back(forged);
    batch.push_back({s.b->address, {4, 0, 0}});  // not a whole transport header
    batch.push_back({s.b->address, {9, 9}});     // no message type at all: handle_datagram
    for (std::size_t i = 11; i < holder.held.size(); ++i)
      batch.push_back(holder.held[i]);

    const std::size_t events_before = s.a->events.size();
    if (mode == Mode::one_by_one) {
      receive_one_by_one(*s.a, batch);
    } else {
      receive_batch(*s.a, batch, mode == Mode::batch_pool ? &pool : nullptr);
    }
    std::vector<std::pair<Event::Kind, Drop>> events;
    for (std::size_t i = events_before; i < s.a->events.size(); ++i)
      events.emplace_back(s.a->events[i].kind, s.a->events[i].drop);
    CHECK(s.a->count(Event::Kind::session_confirmed) == 3);
    CHECK(s.a->count(Drop::unknown_index) == 1);
    CHECK(s.a->count(Drop::replay) == 2);
    CHECK(s.a->count(Drop::decrypt_failed) == 1);
    CHECK(s.a->count(Drop::malformed) == 2);
    std::vector<std::uint32_t> got;
    for (const auto& d : s.a->delivered)
      got.push_back(packet_sequence(d.packet));
    std::vector<std::uint32_t> want;
    for (std::uint32_t i = 1; i <= 20; ++i)
      want.push_back(600 + i);  // 611 forged first, then the real one
    REQUIRE(got.size() >= want.size());
    CHECK(std::vector<std::uint32_t>(got.end() - static_cast<std::ptrdiff_t>(want.size()),
                                     got.end()) == want);
    // The run after the batch: a answers on K3 alone.
    s.a->send_packet(s.a_to_b, make_packet(700));
    holder.hold = false;
    s.net.run_for(std::chrono::seconds(1));
    CHECK(packet_sequence(s.b->delivered.back().packet) == 700);

    static std::vector<std::pair<Event::Kind, Drop>> first_events;
    static std::vector<std::vector<std::uint8_t>> first_wire;
    static std::vector<std::uint32_t> first_got;
    if (mode == Mode::one_by_one) {
      first_events = events;
      first_wire = s.net.wire_log;
      first_got = got;
    } else {
      CHECK(events == first_events);
      CHECK(s.net.wire_log == first_wire);
      CHECK(got == first_got);
    }
  }
}

TEST_CASE("a datagram three times in one batch is delivered once") {
  Pair s(31);
  Holder holder;
  holder.install(s);
  s.connect();
  holder.hold = true;
  s.b->send_packet(s.b_to_a, make_packet(42));
  s.net.run_for(std::chrono::milliseconds(100));
  REQUIRE(holder.held.size() == 1);
  const std::size_t before = s.a->delivered.size();
  receive_batch(*s.a, {holder.held[0], holder.held[0], holder.held[0]}, nullptr);
  REQUIRE(s.a->delivered.size() == before + 1);
  CHECK(packet_sequence(s.a->delivered.back().packet) == 42);
  CHECK(s.a->count(Drop::replay) == 2);
  // And once more in a later batch: the window remembers it.
  receive_batch(*s.a, {holder.held[0]}, nullptr);
  CHECK(s.a->count(Drop::replay) == 3);
}

// Run under ThreadSanitizer: seal and open on plain threads and on the pool,
// many jobs, one key; the results must match a one-thread run byte for byte.
TEST_CASE("seal and open on several threads match one thread") {
  constexpr std::size_t kJobs = 2000;
  Pair x(41), y(41);
  for (Pair* s : {&x, &y}) {
    s->net.record = true;
    s->connect();
  }
  std::vector<std::vector<std::uint8_t>> packets;
  for (std::uint32_t i = 0; i < kJobs; ++i)
    packets.push_back(make_packet(i, 24 + (i * 131) % 1400));
  // x: one thread. y: four plain threads over contiguous chunks.
  for (const auto& p : packets)
    x.a->send_packet(x.a_to_b, p);
  std::vector<std::vector<std::uint8_t>> buffers;
  for (const auto& p : packets)
    buffers.push_back(framed(p));
  std::vector<SealJob> seals(kJobs);
  for (std::size_t i = 0; i < kJobs; ++i)
    REQUIRE(
        y.a->engine.prepare_send(y.net.now(), y.a_to_b, buffers[i], packets[i].size(), seals[i]));
  {
    std::vector<std::jthread> threads;
    for (std::size_t t = 0; t < 4; ++t) {
      threads.emplace_back([&seals, t] {
        for (std::size_t i = t * kJobs / 4; i < (t + 1) * kJobs / 4; ++i)
          Engine::seal(seals[i]);
      });
    }
  }
  for (const SealJob& j : seals)
    y.a->engine.finish_send(y.net.now(), j);
  CHECK(x.net.wire_log == y.net.wire_log);

  // b opens what a sent: the datagrams, in pool-sized batches of varying size.
  WorkerPool pool(4);
  const auto& wire = y.net.wire_log;
  std::vector<std::vector<std::uint8_t>> data(wire.end() - kJobs, wire.end());
  std::vector<OpenJob> opens(kJobs);
  std::size_t at = 0, round = 0;
  const std::size_t before = y.b->delivered.size();
  while (at < kJobs) {
    const std::size_t n = std::min<std::size_t>(kJobs - at, 1 + (round++ * 7) % 64);
    for (std::size_t i = 0; i < n; ++i)
      REQUIRE(y.b->engine.prepare_receive(y.net.now(), y.a->address, data[at + i], opens[i]) ==
              Prepared::job);
    gw::daemon::open_all(pool, std::span(opens.data(), n));
    for (std::size_t i = 0; i < n; ++i) {
      CHECK(opens[i].ok);
      y.b->engine.finish_receive(y.net.now(), opens[i]);
    }
    at += n;
  }
  REQUIRE(y.b->delivered.size() == before + kJobs);
  for (std::size_t i = 0; i < kJobs; ++i)
    CHECK(y.b->delivered[before + i].packet == packets[i]);
}

TEST_CASE("a worker pool runs every item once, in batches big and small") {
  for (const unsigned threads : {1u, 2u, 3u, 5u}) {
    WorkerPool pool(threads);
    CHECK(pool.threads() == threads);
    std::vector<std::uint32_t> hits(1000);
    for (std::size_t n = 0; n <= hits.size(); n = n * 2 + 1) {
      pool.run(
          n,
          [](void* context, std::size_t begin, std::size_t end) noexcept {
            auto* h = static_cast<std::uint32_t*>(context);
            for (std::size_t i = begin; i < end; ++i)
              ++h[i];
          },
          hits.data(), 4);
    }
    // n = 0, 1, 3, 7, ..., 511: item i ran once for every n above i.
    for (std::size_t i = 0; i < hits.size(); ++i) {
      std::uint32_t want = 0;
      for (std::size_t n = 0; n <= hits.size(); n = n * 2 + 1)
        want += i < n ? 1 : 0;
      CHECK(hits[i] == want);
    }
  }
}
