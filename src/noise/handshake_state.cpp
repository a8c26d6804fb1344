// SPDX-License-Identifier: MIT
// HandshakeState: runs the token lists of a pattern. Each token does what
// Noise revision 34, section 5.3 says; a psk handshake also mixes every
// ephemeral public key into the key (section 9.2).
#include "gw/noise/handshake_state.hpp"

#include <algorithm>

namespace gw::noise {

using noise_spec::kDhLen;
using noise_spec::kMaxMessageLen;
using noise_spec::kTagLen;

HandshakeState::HandshakeState(const Protocol& protocol, Role role, crypto::Rng& rng)
    : protocol_(protocol), role_(role), rng_(&rng), progress_{SymmetricState(protocol), {}, {}} {}

// --- Setup ---

Error HandshakeState::set_prologue(Bytes prologue) {
  if (phase_ != Phase::setup || prologue_set_) return Error::wrong_state;
  progress_.symmetric.mix_hash(prologue);
  prologue_set_ = true;
  return Error::ok;
}

Error HandshakeState::set_local_static(const crypto::KeyPair& key) {
  if (phase_ != Phase::setup) return Error::wrong_state;
  shared_s_.reset();
  s_ = key;
  return Error::ok;
}

Error HandshakeState::set_local_static(const crypto::LockedKeyPair& key) {
  if (phase_ != Phase::setup) return Error::wrong_state;
  s_.reset();
  shared_s_ = key;
  return Error::ok;
}

Error HandshakeState::set_remote_static(const crypto::PublicKey& key) {
  if (phase_ != Phase::setup) return Error::wrong_state;
  if (!protocol_.needs_remote_static(role_)) return Error::unexpected_key;
  progress_.rs = key;
  return Error::ok;
}

Error HandshakeState::set_remote_ephemeral(const crypto::PublicKey& key) {
  if (phase_ != Phase::setup) return Error::wrong_state;
  const TokenList& their_pre =
      role_ == Role::initiator ? protocol_.pattern.pre_responder : protocol_.pattern.pre_initiator;
  if (!their_pre.contains(Token::e)) return Error::unexpected_key;
  progress_.re = key;
  return Error::ok;
}

Error HandshakeState::add_psk(Bytes psk) {
  if (phase_ != Phase::setup) return Error::wrong_state;
  if (psk.size() != noise_spec::kPskLen || psk_count_ >= psks_.size()) return Error::psk_count;
  psks_[psk_count_++] = crypto::Secret<noise_spec::kPskLen>(psk);
  return Error::ok;
}

Error HandshakeState::set_psk_provider(PskProvider* provider) {
  if (phase_ != Phase::setup) return Error::wrong_state;
  psk_provider_ = provider;
  return Error::ok;
}

Error HandshakeState::set_ephemeral_for_testing(const crypto::KeyPair& key) {
  if (phase_ != Phase::setup) return Error::wrong_state;
  e_ = key;
  fixed_e_ = true;
  return Error::ok;
}

Error HandshakeState::start() {
  if (phase_ != Phase::setup) return Error::wrong_state;
  if (psk_provider_ == nullptr ? psk_count_ != protocol_.psk_count
                               : psk_count_ > protocol_.psk_count) {
    return Error::psk_count;
  }
  if (protocol_.needs_local_static(role_) && local_static() == nullptr) return Error::missing_key;
  if (protocol_.needs_remote_static(role_) && !progress_.rs) return Error::missing_key;
  if (!prologue_set_) progress_.symmetric.mix_hash({});
  prologue_set_ = true;
  if (const Error err = mix_pre_messages(); err != Error::ok) return err;
  phase_ = Phase::running;
  return Error::ok;
}

// The initiator's pre-message keys are hashed first, then the responder's.
Error HandshakeState::mix_pre_messages() {
  for (const Role owner : {Role::initiator, Role::responder}) {
    const TokenList& pre = owner == Role::initiator ? protocol_.pattern.pre_initiator
                                                    : protocol_.pattern.pre_responder;
    const bool mine = owner == role_;
    const crypto::KeyPair* s = local_static();
    for (const Token t : pre.view()) {
      const crypto::PublicKey* key = nullptr;
      if (t == Token::s) {
        key = mine ? (s ? &s->public_key : nullptr) : (progress_.rs ? &*progress_.rs : nullptr);
      } else if (t == Token::e) {
        key = mine ? (e_ ? &e_->public_key : nullptr) : (progress_.re ? &*progress_.re : nullptr);
      }
      if (key == nullptr) return Error::missing_key;
      progress_.symmetric.mix_hash(*key);
      if (t == Token::e && protocol_.psk_mode()) progress_.symmetric.mix_key(*key);
    }
  }
  return Error::ok;
}

// --- Running ---

HandshakeState::Action HandshakeState::action() const noexcept {
  switch (phase_) {
    case Phase::setup:
      return Action::setup;
    case Phase::running:
      return protocol_.pattern.sender(message_index_) == role_ ? Action::write_message
                                                               : Action::read_message;
    case Phase::done:
      return Action::split;
    case Phase::finished:
      return Action::finished;
    case Phase::failed:
      return Action::failed;
  }
  return Action::failed;
}

std::size_t HandshakeState::next_message_size(std::size_t payload_len) const noexcept {
  if (action() != Action::write_message) return 0;
  bool has_key = progress_.symmetric.has_key();
  std::size_t size = 0;
  for (const Token t : protocol_.pattern.messages[message_index_].view()) {
    if (t == Token::e) {
      size += kDhLen;
      has_key = has_key || protocol_.psk_mode();
    } else if (t == Token::s) {
      size += kDhLen + (has_key ? kTagLen : 0);
    } else {
      has_key = true;  // ee, es, se, ss, psk all mix a key
    }
  }
  return size + payload_len + (has_key ? kTagLen : 0);
}

Error HandshakeState::mix_dh(Progress& p, Token token) {
  const bool initiator = role_ == Role::initiator;
  const crypto::KeyPair* s = local_static();
  const crypto::KeyPair* local = nullptr;
  const std::optional<crypto::PublicKey>* remote = nullptr;
  switch (token) {
    case Token::ee:
      local = e_ ? &*e_ : nullptr;
      remote = &p.re;
      break;
    case Token::es:
      local = initiator ? (e_ ? &*e_ : nullptr) : s;
      remote = initiator ? &p.rs : &p.re;
      break;
    case Token::se:
      local = initiator ? s : (e_ ? &*e_ : nullptr);
      remote = initiator ? &p.re : &p.rs;
      break;
    case Token::ss:
      local = s;
      remote = &p.rs;
      break;
    default:
      return Error::wrong_state;
  }
  if (local == nullptr || !remote->has_value()) return Error::missing_key;
  crypto::SharedSecret shared;
  if (!crypto::x25519(local->private_key, **remote, shared)) return Error::dh_failed;
  p.symmetric.mix_key(shared.bytes());
  return Error::ok;
}

// The next PSK: one added up front, else one from the provider.
Error HandshakeState::mix_psk(Progress& p) {
  if (psks_used_ < psk_count_) {
    p.symmetric.mix_key_and_hash(psks_[psks_used_++].bytes());
    return Error::ok;
  }
  crypto::Secret<noise_spec::kPskLen> psk;
  if (psk_provider_ == nullptr || !psk_provider_->provide_psk(p.rs, psk)) {
    return Error::missing_key;
  }
  ++psks_used_;
  p.symmetric.mix_key_and_hash(psk.bytes());
  return Error::ok;
}

Error HandshakeState::write_tokens(const TokenList& tokens, MutBytes out, std::size_t& pos) {
  for (const Token t : tokens.view()) {
    Error err = Error::ok;
    switch (t) {
      case Token::e: {
        if (!fixed_e_) e_ = crypto::KeyPair::generate(*rng_);
        std::copy(e_->public_key.begin(), e_->public_key.end(), out.begin() + pos);
        pos += kDhLen;
        progress_.symmetric.mix_hash(e_->public_key);
        if (protocol_.psk_mode()) progress_.symmetric.mix_key(e_->public_key);
        break;
      }
      case Token::s: {
        const crypto::KeyPair* s = local_static();
        if (s == nullptr) return Error::missing_key;
        std::size_t w = 0;
        err = progress_.symmetric.encrypt_and_hash(s->public_key, out.subspan(pos), w);
        pos += w;
        break;
      }
      case Token::psk:
        err = mix_psk(progress_);
        break;
      default:
        err = mix_dh(progress_, t);
        break;
    }
    if (err != Error::ok) return err;
  }
  return Error::ok;
}

Error HandshakeState::write_message(Bytes payload, MutBytes out, std::size_t& written) {
  written = 0;
  if (action() != Action::write_message) return Error::wrong_state;
  const std::size_t size = next_message_size(payload.size());
  if (size > kMaxMessageLen) return Error::message_too_large;
  if (out.size() < size) return Error::buffer_too_small;

  std::size_t pos = 0;
  Error err = write_tokens(protocol_.pattern.messages[message_index_], out, pos);
  if (err == Error::ok) {
    std::size_t w = 0;
    err = progress_.symmetric.encrypt_and_hash(payload, out.subspan(pos), w);
    pos += w;
  }
  if (err != Error::ok) {
    wipe();
    phase_ = Phase::failed;
    return err;
  }
  advance();
  written = pos;
  return Error::ok;
}

Error HandshakeState::read_tokens(Progress& p, const TokenList& tokens, Bytes message,
                                  std::size_t& pos) {
  for (const Token t : tokens.view()) {
    Error err = Error::ok;
    switch (t) {
      case Token::e: {
        if (message.size() - pos < kDhLen) return Error::message_too_short;
        crypto::PublicKey re{};
        std::copy_n(message.begin() + pos, kDhLen, re.begin());
        pos += kDhLen;
        p.re = re;
        p.symmetric.mix_hash(re);
        if (protocol_.psk_mode()) p.symmetric.mix_key(re);
        break;
      }
      case Token::s: {
        const std::size_t len = kDhLen + (p.symmetric.has_key() ? kTagLen : 0);
        if (message.size() - pos < len) return Error::message_too_short;
        crypto::PublicKey rs{};
        std::size_t w = 0;
        err = p.symmetric.decrypt_and_hash(message.subspan(pos, len), rs, w);
        pos += len;
        if (err == Error::ok) p.rs = rs;
        break;
      }
      case Token::psk:
        err = mix_psk(p);
        break;
      default:
        err = mix_dh(p, t);
        break;
    }
    if (err != Error::ok) return err;
  }
  return Error::ok;
}

Error HandshakeState::read_message(Bytes message, MutBytes payload_out, std::size_t& written) {
  written = 0;
  if (action() != Action::read_message) return Error::wrong_state;
  if (message.size() > kMaxMessageLen) return Error::message_too_large;

  Progress next = progress_;
  const std::size_t psks_used_before = psks_used_;
  std::size_t pos = 0;
  Error err = read_tokens(next, protocol_.pattern.messages[message_index_], message, pos);
  if (err == Error::ok) {
    const std::size_t rest = message.size() - pos;
    const std::size_t tag = next.symmetric.has_key() ? kTagLen : 0;
    if (rest < tag) {
      err = Error::message_too_short;
    } else if (payload_out.size() < rest - tag) {
      err = Error::buffer_too_small;
    } else {
      err = next.symmetric.decrypt_and_hash(message.subspan(pos), payload_out, written);
    }
  }
  if (err != Error::ok) {
    psks_used_ = psks_used_before;  // the state is as it was before this message
    written = 0;
    return err;
  }
  progress_ = std::move(next);
  advance();
  return Error::ok;
}

void HandshakeState::advance() noexcept {
  if (++message_index_ == protocol_.pattern.message_count) phase_ = Phase::done;
}

Error HandshakeState::split(TransportState& out) {
  if (phase_ != Phase::done) return Error::wrong_state;
  CipherState c1, c2;
  progress_.symmetric.split(c1, c2);
  const bool initiator = role_ == Role::initiator;
  out.send = initiator ? std::move(c1) : std::move(c2);
  out.receive = initiator ? std::move(c2) : std::move(c1);
  if (protocol_.pattern.one_way) {
    // Only initiator-to-responder traffic exists after a one-way pattern.
    (initiator ? out.receive : out.send) = CipherState::unusable(protocol_.cipher);
  }
  const Bytes h = handshake_hash();
  std::copy(h.begin(), h.end(), out.hash.begin());
  out.hash_len = h.size();
  out.remote_static = progress_.rs;
  wipe();
  phase_ = Phase::finished;
  return Error::ok;
}

void HandshakeState::wipe() noexcept {
  s_.reset();
  shared_s_.reset();  // the shared key itself stays with its other holders
  e_.reset();
  for (auto& psk : psks_)
    psk.wipe();
  progress_.symmetric.wipe_keys();
}

}  // namespace gw::noise
