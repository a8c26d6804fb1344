// SPDX-License-Identifier: MIT
#include "sim/sim_helpers.hpp"

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

}  // namespace gw::test
