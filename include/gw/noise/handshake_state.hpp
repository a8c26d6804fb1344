// SPDX-License-Identifier: MIT
// HandshakeState (Noise section 5.3) for any pattern of the table.
//
// Life cycle, each step checked (a call out of order returns wrong_state):
//   HandshakeState hs(protocol, Role::initiator, rng);
//   hs.set_prologue(...); hs.set_local_static(...); hs.add_psk(...);  // as the pattern needs
//   hs.start();                                  // mixes pre-messages; checks keys and PSKs
//   while (hs.action() is write_message or read_message) hs.write_message / hs.read_message
//   hs.split(transport);                         // ends the handshake: all later calls fail
//
// read_message is transactional: a message that fails (bad tag, wrong size,
// low-order key) leaves the state exactly as it was, so a forged packet cannot
// end a genuine handshake. A failed write_message ends the handshake, except for
// buffer_too_small and message_too_large, which are checked before anything
// changes.
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/noise/error.hpp"
#include "gw/noise/protocol.hpp"
#include "gw/noise/symmetric_state.hpp"
#include "gw/noise/transport_state.hpp"

namespace gw::noise {

// Supplies a PSK at the moment the handshake reaches a psk token for which
// none was added: a responder learns who the initiator is only from the "s"
// token just before (XXpsk3), so it can pick that peer's PSK only then.
class PskProvider {
 public:
  virtual ~PskProvider() = default;
  // `remote_static` is the peer's static key if the handshake knows it yet.
  // Returns false to refuse; the message then fails with missing_key.
  virtual bool provide_psk(const std::optional<crypto::PublicKey>& remote_static,
                           crypto::Secret<noise_spec::kPskLen>& psk) = 0;
};

class HandshakeState {
 public:
  enum class Action : std::uint8_t { setup, write_message, read_message, split, finished, failed };

  HandshakeState(const Protocol& protocol, Role role, crypto::Rng& rng);

  // --- Setup: only before start() ---
  // Mixes the prologue into h. At most once; without it the prologue is empty.
  Error set_prologue(Bytes prologue);
  // Copies `key` into the handshake (wiped with it).
  Error set_local_static(const crypto::KeyPair& key);
  // Shares `key` instead: the handshake holds a reference to the one locked
  // key pair, not a copy (gwd's pending handshakes all share its static key).
  Error set_local_static(const crypto::LockedKeyPair& key);
  // Only for patterns whose pre-message gives the peer's static key
  // (Protocol::needs_remote_static); otherwise unexpected_key.
  Error set_remote_static(const crypto::PublicKey& key);
  // Only for patterns whose peer pre-message holds "e".
  Error set_remote_ephemeral(const crypto::PublicKey& key);
  // PSKs in the order of the pattern's psk tokens; each exactly 32 bytes.
  Error add_psk(Bytes psk);
  // PSKs not added up front are asked of `provider` (not owned; it must
  // outlive the handshake).
  Error set_psk_provider(PskProvider* provider);
  // Fixes the ephemeral key instead of drawing it from the Rng. For test
  // vectors only: a reused ephemeral key destroys forward secrecy.
  Error set_ephemeral_for_testing(const crypto::KeyPair& key);
  // Mixes the pre-message keys and makes the handshake ready to run.
  Error start();

  // --- Running ---
  Action action() const noexcept;
  // Exact size of the next message this side writes, for a given payload.
  std::size_t next_message_size(std::size_t payload_len) const noexcept;
  Error write_message(Bytes payload, MutBytes out, std::size_t& written);
  // `payload_out` must not overlap `message`.
  Error read_message(Bytes message, MutBytes payload_out, std::size_t& written);
  // Moves the keys into `out`, wipes the handshake and ends it.
  Error split(TransportState& out);

  const Protocol& protocol() const noexcept { return protocol_; }
  Role role() const noexcept { return role_; }
  Bytes handshake_hash() const noexcept { return progress_.symmetric.handshake_hash(); }
  const std::optional<crypto::PublicKey>& remote_static() const noexcept { return progress_.rs; }
  const std::optional<crypto::PublicKey>& remote_ephemeral() const noexcept { return progress_.re; }
  std::size_t message_index() const noexcept { return message_index_; }
  // Our static key pair as the handshake uses it (the shared one itself, or
  // the handshake's copy), or nullptr: none set, or the handshake has ended.
  const crypto::KeyPair* local_static() const noexcept {
    return shared_s_ ? shared_s_.get() : (s_ ? &*s_ : nullptr);
  }
  // Our ephemeral public key, once drawn.
  std::optional<crypto::PublicKey> local_ephemeral() const noexcept {
    return e_ ? std::optional<crypto::PublicKey>(e_->public_key) : std::nullopt;
  }

 private:
  enum class Phase : std::uint8_t { setup, running, done, finished, failed };
  // Everything a read_message may change, so a failed read can be undone.
  struct Progress {
    SymmetricState symmetric;
    std::optional<crypto::PublicKey> re;
    std::optional<crypto::PublicKey> rs;
  };

  bool local_static_needed_in_pre() const noexcept;
  Error mix_pre_messages();
  Error write_tokens(const TokenList& tokens, MutBytes out, std::size_t& pos);
  Error read_tokens(Progress& p, const TokenList& tokens, Bytes message, std::size_t& pos);
  Error mix_dh(Progress& p, Token token);
  Error mix_psk(Progress& p);
  std::size_t psk_index() const noexcept;
  void advance() noexcept;
  void wipe() noexcept;

  Protocol protocol_;
  Role role_;
  crypto::Rng* rng_;
  Phase phase_ = Phase::setup;
  bool prologue_set_ = false;
  std::size_t message_index_ = 0;
  std::size_t psks_used_ = 0;
  std::optional<crypto::KeyPair> s_;  // a copy, from set_local_static(KeyPair)
  crypto::LockedKeyPair shared_s_;    // or shared, from set_local_static(LockedKeyPair)
  std::optional<crypto::KeyPair> e_;
  bool fixed_e_ = false;
  std::array<crypto::Secret<noise_spec::kPskLen>, noise_impl::kMaxPsks> psks_{};
  std::size_t psk_count_ = 0;
  PskProvider* psk_provider_ = nullptr;
  Progress progress_;
};

}  // namespace gw::noise
