// SPDX-License-Identifier: MIT
// Building blocks of the simulations: two peers that know each other.
#pragma once

#include "support/fake_network.hpp"

namespace gw::test {

struct Pair {
  FakeNetwork net;
  Node* a = nullptr;  // the initiator: knows b's address
  Node* b = nullptr;  // the responder: learns a's address from the handshake
  session::PeerId a_to_b = session::kNoPeer, b_to_a = session::kNoPeer;

  explicit Pair(std::uint64_t seed = 1, session::EngineConfig a_config = {},
                session::EngineConfig b_config = {});
  // Sends one packet from a to b and runs until the handshake is done.
  void connect();
};

crypto::KeyPair key_from(std::uint64_t seed);

}  // namespace gw::test
