// SPDX-License-Identifier: MIT
#include "support/fake_network.hpp"

#include <algorithm>

namespace gw::test {

Node::Node(FakeNetwork& n, const Endpoint& a, crypto::KeyPair k, session::EngineConfig config,
           std::uint64_t seed)
    : net(n),
      address(a),
      key(std::move(k)),
      rng(seed),
      engine(
          [&] {
            config.static_key = crypto::LockedKeyPair(key);
            return config;
          }(),
          rng, *this) {}

void Node::send_packet(session::PeerId peer, const std::vector<std::uint8_t>& packet) {
  std::vector<std::uint8_t> buf(session::kPacketHeadroom + packet.size() +
                                session::kPacketTailroom);
  std::copy(packet.begin(), packet.end(), buf.begin() + session::kPacketHeadroom);
  engine.send_packet(net.now(), peer, buf, packet.size());
}

std::size_t Node::count(session::Event::Kind kind) const {
  return static_cast<std::size_t>(std::count_if(
      events.begin(), events.end(), [&](const session::Event& e) { return e.kind == kind; }));
}

std::size_t Node::count(session::Drop drop) const {
  return static_cast<std::size_t>(
      std::count_if(events.begin(), events.end(), [&](const session::Event& e) {
        return e.kind == session::Event::Kind::dropped && e.drop == drop;
      }));
}

Node& FakeNetwork::add_node(const Endpoint& address, crypto::KeyPair key,
                            session::EngineConfig config) {
  auto node = std::make_unique<Node>(*this, address, std::move(key), std::move(config), random_());
  Node& ref = *node;
  nodes_[address] = std::move(node);
  return ref;
}

Duration FakeNetwork::draw_delay() {
  const auto lo = conditions.min_delay.count(), hi = conditions.max_delay.count();
  std::uniform_int_distribution<long long> d(lo, std::max(lo, hi));
  return std::chrono::microseconds(d(random_));
}

void FakeNetwork::send(const Endpoint& from, const Endpoint& to, Bytes bytes) {
  ++sent_;
  std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
  if (record) wire_log.push_back(copy);
  const bool passed = !middle || middle(from, to, copy);
  // Recorded after the middle ran (it may send too); copies are set below.
  const std::size_t fate = fates.size();
  if (record_fates) fates.push_back({now_, from, to, copy, 0});
  if (!passed) return;
  std::uniform_real_distribution<double> u(0, 1);
  if (u(random_) < conditions.loss) return;
  const int copies = u(random_) < conditions.duplicate ? 2 : 1;
  if (record_fates) fates[fate].copies = copies;
  for (int i = 0; i < copies; ++i)
    queue_.push({now_ + draw_delay(), seq_++, from, to, copy});
}

void FakeNetwork::inject(const Endpoint& from, const Endpoint& to, Bytes bytes, Duration delay) {
  queue_.push(
      {now_ + delay, seq_++, from, to, std::vector<std::uint8_t>(bytes.begin(), bytes.end())});
}

void FakeNetwork::move_node(const Endpoint& from, const Endpoint& to) {
  auto node = std::move(nodes_.at(from));
  nodes_.erase(from);
  node->address = to;
  nodes_[to] = std::move(node);
}

void FakeNetwork::deliver(InFlight& d) {
  const auto it = nodes_.find(d.to);
  if (it == nodes_.end()) return;  // nobody there
  it->second->engine.handle_datagram(now_, d.from, d.bytes);
}

void FakeNetwork::run_until(Instant until) {
  for (;;) {
    Instant next = Instant::max();
    if (!queue_.empty()) next = std::min(next, queue_.top().at);
    for (auto& [addr, node] : nodes_)
      next = std::min(next, node->engine.next_deadline());
    if (next > until) break;
    now_ = std::max(now_, next);
    while (!queue_.empty() && queue_.top().at <= now_) {
      InFlight d = queue_.top();
      queue_.pop();
      deliver(d);
    }
    for (auto& [addr, node] : nodes_) {
      if (node->engine.next_deadline() <= now_) node->engine.poll(now_);
    }
  }
  now_ = std::max(now_, until);
}

std::vector<std::uint8_t> make_packet(std::uint32_t sequence, std::size_t size) {
  std::vector<std::uint8_t> p(std::max<std::size_t>(size, 24), 0);
  p[0] = 0x45;
  p[2] = static_cast<std::uint8_t>(p.size() >> 8);
  p[3] = static_cast<std::uint8_t>(p.size());
  for (std::size_t i = 0; i < 4; ++i)
    p[20 + i] = static_cast<std::uint8_t>(sequence >> (8 * i));
  return p;
}

std::uint32_t packet_sequence(const std::vector<std::uint8_t>& packet) {
  std::uint32_t s = 0;
  for (std::size_t i = 0; i < 4; ++i)
    s |= std::uint32_t{packet.at(20 + i)} << (8 * i);
  return s;
}

Endpoint address_v4(std::uint8_t last, std::uint16_t port) {
  return Endpoint::ipv4({192, 0, 2, last}, port);
}

}  // namespace gw::test
