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

// --- An attacker's tools: everything here uses public values only ---
//
// Offsets into an initiation (docs/PROTOCOL.md 4.1): the header (8 bytes, 56
// with RETRIED), then e (32), then the offer (8, plain without PSK; 24 with),
// then mac1 and mac2.
std::size_t initiation_ephemeral_offset(Bytes initiation);
crypto::PublicKey initiation_ephemeral(Bytes initiation);
std::uint32_t initiation_sender_index(Bytes initiation);
// A plain (non-PSK) initiation as anyone who knows the responder's public key
// can build it: `ephemeral` as e, the offer in clear, a valid mac1, mac2 zero.
// `offer` is written as given, its size as the count.
std::vector<std::uint8_t> forge_initiation(const crypto::PublicKey& responder,
                                           const crypto::PublicKey& ephemeral,
                                           std::uint32_t sender_index, std::uint8_t suite,
                                           const std::vector<std::uint8_t>& offer,
                                           std::uint8_t version = wire_spec::kProtocolVersion);
// An initiation of a later protocol version as version 1 sees it
// (docs/PROTOCOL.md 4.1): type 1, `version` in byte 3, `size` bytes of
// filler, a valid mac1 and mac2 zero at the end.
std::vector<std::uint8_t> forge_later_initiation(const crypto::PublicKey& responder,
                                                 std::uint8_t version, std::size_t size);
// Recomputes mac1 of an edited initiation (and leaves mac2 as it is).
void restamp_initiation(std::vector<std::uint8_t>& initiation, const crypto::PublicKey& responder);
// A retry answering `initiation`: its sender index, a valid mac1 keyed with
// its ephemeral key, and the given (forged) tag.
std::vector<std::uint8_t> forge_retry(Bytes initiation, std::uint8_t suite,
                                      const session::Mac& tag);

// --- Watching the wire ---

// Records every datagram as it is sent (before the middle may change it),
// then hands it to `then`, if set.
struct WireTap {
  struct Sent {
    Endpoint from, to;
    std::vector<std::uint8_t> bytes;
  };
  std::vector<Sent> sent;

  // Installs the tap as `net.middle`; the tap must outlive the runs.
  void install(FakeNetwork& net, FakeNetwork::Middle then = {});
  // Datagrams of `type` sent by `from`, in order.
  std::vector<std::vector<std::uint8_t>> of_type(wire::MessageType type,
                                                 const Endpoint& from) const;
  std::size_t count(wire::MessageType type, const Endpoint& from) const {
    return of_type(type, from).size();
  }
  std::size_t count_from(const Endpoint& from) const;
};

// Replaces each side's peer with one that has the given PSK (none: nullopt).
using Psk = std::array<std::uint8_t, noise_spec::kPskLen>;
void set_psks(Pair& s, const std::optional<Psk>& a_psk, const std::optional<Psk>& b_psk);

}  // namespace gw::test
