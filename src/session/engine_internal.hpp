// SPDX-License-Identifier: MIT
// The engine's private state, shared by the files that implement it:
// engine.cpp (dispatch, peers), initiator.cpp, responder.cpp, transport.cpp
// and timers.cpp.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "gw/noise/cipher_state.hpp"
#include "gw/session/engine.hpp"

namespace gw::session {

// One session's keys, counters and replay window.
struct Engine::Keypair {
  noise::CipherState send;
  noise::CipherState receive;
  std::uint64_t next_counter = 0;
  ReplayWindow replay;
  Instant created{};
  bool we_initiated = false;
  std::uint32_t local_index = 0;   // the index the peer puts on packets to us
  std::uint32_t remote_index = 0;  // the index we put on packets to the peer
  std::uint8_t suite = 0;
  // The peer's Peer::received count when a packet last authenticated on
  // these keys (0: never): which keypair the peer sends on now.
  std::uint64_t last_received = 0;

  bool expired(Instant now) const noexcept {
    return now - created >= timer_spec::kRejectAfterTime ||
           next_counter >= session_spec::kRejectAfterMessages;
  }
};

// Our handshake as initiator, from the initiation to the response.
struct Engine::InitiatorHandshake {
  std::optional<noise::HandshakeState> hs;
  std::uint32_t local_index = 0;
  wire::InitiationFields fields;
  Hash256 first_hash{};            // of this attempt's initiation: a retry refers to it
  Mac last_mac1{};                 // of that initiation: a cookie reply is bound to it
  bool resent_for_cookie = false;  // a cookie reply made us resend at once, once
};

// One attempt of a peer's round, as found by its index.
struct Engine::Attempt {
  Peer* peer = nullptr;
  InitiatorHandshake* handshake = nullptr;
};

// A responder's handshake between message 1 and message 3.
struct Engine::PendingResponder {
  std::optional<noise::HandshakeState> hs;
  Instant created{};
  std::uint32_t remote_index = 0;
  std::uint8_t suite = 0;
  bool psk = false;
};

struct Engine::Peer {
  PeerId id = kNoPeer;
  PeerConfig config;
  Hash256 mac1_key{};    // MAC1 key of the peer's static key
  Hash256 cookie_key{};  // COOKIE key of the peer's static key: its cookie replies
  CookieJar cookies;
  std::optional<Endpoint> endpoint;
  std::unique_ptr<Keypair> current, previous, next;
  std::unique_ptr<InitiatorHandshake> handshake;  // the latest attempt of this round
  // This round's earlier attempts, still answerable: a retry (which anyone
  // who saw the initiation can forge) starts a second attempt but ends none.
  std::vector<std::unique_ptr<InitiatorHandshake>> earlier;
  PeerTimers timers;
  PeerStats stats;
  // Whole buffers with head- and tailroom. A vector, not a deque: an empty
  // deque already holds some 600 bytes, and most peers never stage a packet.
  std::vector<std::vector<std::uint8_t>> staged;
  std::uint64_t received = 0;  // transport packets authenticated, to order keypairs by use

  // The keypair that owns `index`, if any.
  Keypair* keypair_by_index(std::uint32_t index) const noexcept {
    for (Keypair* kp : {current.get(), previous.get(), next.get()}) {
      if (kp != nullptr && kp->local_index == index) return kp;
    }
    return nullptr;
  }
};

}  // namespace gw::session
