// SPDX-License-Identifier: MIT
#include "sim/sim_helpers.hpp"

#include <algorithm>

namespace gw::test {

crypto::KeyPair key_from(std::uint64_t seed) {
  FakeRng rng(seed * 7919 + 17);
  return crypto::KeyPair::generate(rng);
}

Pair::Pair(std::uint64_t seed, session::EngineConfig a_config, session::EngineConfig b_config)
    : net(seed) {
  a = &net.add_node(address_v4(1), key_from(seed * 2), std::move(a_config));
  b = &net.add_node(address_v4(2), key_from(seed * 2 + 1), std::move(b_config));
  session::PeerConfig to_b;
  to_b.name = "b";
  to_b.public_key = b->key.public_key;
  to_b.endpoint = b->address;
  a_to_b = a->engine.add_peer(to_b);
  session::PeerConfig to_a;
  to_a.name = "a";
  to_a.public_key = a->key.public_key;
  b_to_a = b->engine.add_peer(to_a);
}

void Pair::connect() {
  a->send_packet(a_to_b, make_packet(0));
  net.run_for(std::chrono::seconds(1));
}

std::size_t initiation_ephemeral_offset(Bytes initiation) {
  return initiation.size() < 2 ? 0 : wire::initiation_header_size(initiation[1]);
}

crypto::PublicKey initiation_ephemeral(Bytes initiation) {
  crypto::PublicKey e{};
  const std::size_t at = initiation_ephemeral_offset(initiation);
  const Bytes src = initiation.subspan(at, e.size());
  std::copy(src.begin(), src.end(), e.begin());
  return e;
}

std::uint32_t initiation_sender_index(Bytes initiation) {
  std::uint32_t index = 0;
  for (std::size_t i = 0; i < 4; ++i)
    index |= std::uint32_t{initiation[4 + i]} << (8 * i);
  return index;
}

std::vector<std::uint8_t> forge_initiation(const crypto::PublicKey& responder,
                                           const crypto::PublicKey& ephemeral,
                                           std::uint32_t sender_index, std::uint8_t suite,
                                           const std::vector<std::uint8_t>& offer,
                                           std::uint8_t version) {
  wire::InitiationFields fields;
  fields.suite = suite;
  fields.sender_index = sender_index;
  std::vector<std::uint8_t> out(wire::initiation_size(0));
  const std::size_t header = wire::write_initiation_header(out, fields);
  std::copy(ephemeral.begin(), ephemeral.end(), out.begin() + static_cast<std::ptrdiff_t>(header));
  const std::size_t at = header + ephemeral.size();
  out[at] = version;
  out[at + 1] = static_cast<std::uint8_t>(offer.size());
  for (std::size_t i = 0; i < offer.size() && i < wire_spec::kMaxOfferedSuites; ++i)
    out[at + 2 + i] = offer[i];
  restamp_initiation(out, responder);
  return out;
}

std::vector<std::uint8_t> forge_later_initiation(const crypto::PublicKey& responder,
                                                 std::uint8_t version, std::size_t size) {
  std::vector<std::uint8_t> out(size, 0xa5);
  out[0] = static_cast<std::uint8_t>(wire::MessageType::initiation);
  out[wire_spec::kInitiationVersionOffset] = version;
  std::fill(out.end() - wire_spec::kMacLen, out.end(), std::uint8_t{0});
  restamp_initiation(out, responder);
  return out;
}

void restamp_initiation(std::vector<std::uint8_t>& initiation, const crypto::PublicKey& responder) {
  session::stamp_mac1(initiation, session::mac1_key(responder), true);
}

std::vector<std::uint8_t> forge_retry(Bytes initiation, std::uint8_t suite,
                                      const session::Mac& tag) {
  std::vector<std::uint8_t> out(wire_spec::kRetrySize);
  if (wire::write_retry(out, suite, initiation_sender_index(initiation), tag) == 0) return {};
  session::stamp_mac1(out, session::mac1_key(initiation_ephemeral(initiation)), false);
  return out;
}

void WireTap::install(FakeNetwork& net, FakeNetwork::Middle then) {
  net.middle = [this, then = std::move(then)](const Endpoint& from, const Endpoint& to,
                                              std::vector<std::uint8_t>& bytes) {
    sent.push_back({from, to, bytes});
    return then ? then(from, to, bytes) : true;
  };
}

std::vector<std::vector<std::uint8_t>> WireTap::of_type(wire::MessageType type,
                                                        const Endpoint& from) const {
  std::vector<std::vector<std::uint8_t>> out;
  for (const Sent& d : sent) {
    if (d.from == from && !d.bytes.empty() && d.bytes[0] == static_cast<std::uint8_t>(type)) {
      out.push_back(d.bytes);
    }
  }
  return out;
}

std::size_t WireTap::count_from(const Endpoint& from) const {
  return static_cast<std::size_t>(
      std::count_if(sent.begin(), sent.end(), [&](const Sent& d) { return d.from == from; }));
}

void set_psks(Pair& s, const std::optional<Psk>& a_psk, const std::optional<Psk>& b_psk) {
  session::PeerConfig to_b;
  to_b.name = "b";
  to_b.public_key = s.b->key.public_key;
  to_b.endpoint = s.b->address;
  if (a_psk) to_b.psk = crypto::LockedKey(Bytes(*a_psk));
  s.a->engine.remove_peer(s.a_to_b);
  s.a_to_b = s.a->engine.add_peer(to_b);
  session::PeerConfig to_a;
  to_a.name = "a";
  to_a.public_key = s.a->key.public_key;
  if (b_psk) to_a.psk = crypto::LockedKey(Bytes(*b_psk));
  s.b->engine.remove_peer(s.b_to_a);
  s.b_to_a = s.b->engine.add_peer(to_a);
}

}  // namespace gw::test
