// SPDX-License-Identifier: MIT
// An in-memory network and clock for session::Engine simulations. Nodes are
// engines with an address each; datagrams travel through a queue ordered by
// delivery time, and the network can lose, delay, duplicate and reorder them
// (seeded, so every run is the same), or hand each one to a man in the
// middle who may read, change, drop or add datagrams.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "gw/session/engine.hpp"
#include "support/fake_rng.hpp"

namespace gw::test {

using session::Endpoint;
using namespace std::chrono_literals;

// Records what one engine sends, delivers and reports.
struct Node;

struct Delivered {
  session::PeerId peer;
  std::vector<std::uint8_t> packet;
  Instant at{};  // when the engine delivered it
};

class FakeNetwork {
 public:
  struct Conditions {
    double loss = 0;       // probability a datagram is lost
    double duplicate = 0;  // probability it arrives twice
    std::chrono::microseconds min_delay{1000};
    std::chrono::microseconds max_delay{1000};  // reordering: delays drawn in [min, max]
  };
  // Sees every datagram before it travels; returns false to drop it. It may
  // change the bytes, or inject() new datagrams.
  using Middle = std::function<bool(const Endpoint& from, const Endpoint& to,
                                    std::vector<std::uint8_t>& bytes)>;

  explicit FakeNetwork(std::uint64_t seed = 1) : random_(seed) {}

  Instant now() const { return now_; }
  Conditions conditions;
  Middle middle;

  Node& add_node(const Endpoint& address, crypto::KeyPair key, session::EngineConfig config = {});
  Node& node(const Endpoint& address) { return *nodes_.at(address); }

  // Puts a datagram on the wire, from `from` to `to`.
  void send(const Endpoint& from, const Endpoint& to, Bytes bytes);
  // Delivers a datagram past the middle and the conditions (an attacker's).
  void inject(const Endpoint& from, const Endpoint& to, Bytes bytes, Duration delay = 0ms);
  // Moves a node to a new address (roaming): it keeps its engine.
  void move_node(const Endpoint& from, const Endpoint& to);

  // Runs the network and every engine's timers until `until`.
  void run_until(Instant until);
  void run_for(Duration d) { run_until(now_ + d); }
  std::size_t in_flight() const { return queue_.size(); }
  std::uint64_t datagrams_sent() const { return sent_; }
  // Every datagram put on the wire so far (before loss), when recording.
  bool record = false;
  std::vector<std::vector<std::uint8_t>> wire_log;
  // What became of each datagram put on the wire, when record_fates is set:
  // when it was sent, where, its bytes as they travel (after the middle), and
  // how many copies travel (0: lost or dropped by the middle; 2: duplicated).
  struct Fate {
    Instant at;
    Endpoint from, to;
    std::vector<std::uint8_t> bytes;
    int copies = 0;
  };
  bool record_fates = false;
  std::vector<Fate> fates;

 private:
  struct InFlight {
    Instant at;
    std::uint64_t seq;
    Endpoint from, to;
    std::vector<std::uint8_t> bytes;
    bool operator>(const InFlight& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  Duration draw_delay();
  void deliver(InFlight& d);

  Instant now_ = Instant{} + std::chrono::hours(1);
  std::mt19937_64 random_;
  std::uint64_t seq_ = 0, sent_ = 0;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> queue_;
  std::map<Endpoint, std::unique_ptr<Node>, bool (*)(const Endpoint&, const Endpoint&)> nodes_{
      [](const Endpoint& a, const Endpoint& b) {
        return std::tie(a.family, a.address, a.port) < std::tie(b.family, b.address, b.port);
      }};
};

struct Node final : session::Sink {
  Node(FakeNetwork& net, const Endpoint& address, crypto::KeyPair key, session::EngineConfig config,
       std::uint64_t seed);

  void send_datagram(const Endpoint& to, Bytes datagram) override {
    net.send(address, to, datagram);
  }
  void deliver_packet(session::PeerId peer, Bytes packet) override {
    delivered.push_back({peer, std::vector<std::uint8_t>(packet.begin(), packet.end()), net.now()});
  }
  void on_event(const session::Event& e) override {
    events.push_back(e);
    event_times.push_back(net.now());
  }

  // Sends an IP packet (built by make_packet) to `peer` through the engine.
  void send_packet(session::PeerId peer, const std::vector<std::uint8_t>& packet);
  std::size_t count(session::Event::Kind kind) const;
  std::size_t count(session::Drop drop) const;

  FakeNetwork& net;
  Endpoint address;
  crypto::KeyPair key;
  FakeRng rng;
  session::Engine engine;
  std::vector<Delivered> delivered;
  std::vector<session::Event> events;
  std::vector<Instant> event_times;  // when each of `events` was reported
};

// A minimal IPv4 packet carrying `payload` (a sequence number is enough for
// the simulations): version 4, IHL 5, total length, the rest zero.
std::vector<std::uint8_t> make_packet(std::uint32_t sequence, std::size_t size = 100);
std::uint32_t packet_sequence(const std::vector<std::uint8_t>& packet);

Endpoint address_v4(std::uint8_t last, std::uint16_t port = 51820);

}  // namespace gw::test
