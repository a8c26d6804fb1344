// SPDX-License-Identifier: MIT
// libgw: an established channel. Over a stream a message is the AEAD
// ciphertext alone and its nonce is its position (Noise's CipherState); over
// datagrams it is an 8-byte little-endian counter, the nonce, then the
// ciphertext, and a replay window drops counters opened before or too old.
#include <algorithm>

#include <sodium.h>

#include "gw/constants.hpp"
#include "internal.hpp"

namespace gw {

using lib::fail;

namespace {

constexpr std::size_t kCounterLen = 8;
constexpr std::size_t kTagLen = noise_spec::kTagLen;

void store_le64(std::uint8_t* p, std::uint64_t v) noexcept {
  for (std::size_t i = 0; i < kCounterLen; ++i)
    p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::uint64_t load_le64(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < kCounterLen; ++i)
    v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

Channel::Channel() noexcept = default;
Channel::Channel(Channel&&) noexcept = default;
Channel& Channel::operator=(Channel&&) noexcept = default;
Channel::~Channel() = default;

Status Channel::seal(ByteView plaintext, std::vector<std::uint8_t>& out) {
  if (!impl_) return fail(Errc::wrong_state, "seal: the channel is empty");
  if (plaintext.size() > kMaxPlaintext) {
    return fail(Errc::invalid_argument, "seal: plaintext of " + std::to_string(plaintext.size()) +
                                            " bytes, more than " + std::to_string(kMaxPlaintext));
  }
  noise::CipherState& send = impl_->keys.send;
  if (!send.usable()) {
    return fail(Errc::wrong_state, "seal: this side of a one-way pattern only receives");
  }
  std::vector<std::uint8_t> sealed;
  std::size_t written = 0;
  if (impl_->transport == Transport::stream) {
    sealed.resize(plaintext.size() + kTagLen);
    if (noise::Error e = send.encrypt_with_ad({}, plaintext, sealed, written);
        e != noise::Error::ok) {
      return lib::from_noise(e, "seal");
    }
  } else {
    const std::uint64_t counter = impl_->next_send;
    if (counter >= session_spec::kRejectAfterMessages) {
      return fail(Errc::exhausted, "seal: every counter of this channel is used up");
    }
    sealed.resize(kCounterLen + plaintext.size() + kTagLen);
    store_le64(sealed.data(), counter);
    if (noise::Error e =
            send.encrypt_at(counter, {}, plaintext, MutBytes(sealed).subspan(kCounterLen), written);
        e != noise::Error::ok) {
      return lib::from_noise(e, "seal");
    }
    impl_->next_send = counter + 1;
  }
  out = std::move(sealed);
  return {};
}

Status Channel::open(ByteView message, std::vector<std::uint8_t>& out) {
  out.clear();
  if (!impl_) return fail(Errc::wrong_state, "open: the channel is empty");
  noise::CipherState& receive = impl_->keys.receive;
  if (!receive.usable()) {
    return fail(Errc::wrong_state, "open: this side of a one-way pattern only sends");
  }
  const std::size_t min = impl_->transport == Transport::stream ? kTagLen : kCounterLen + kTagLen;
  if (message.size() < min || message.size() > noise_spec::kMaxMessageLen) {
    return fail(Errc::malformed, "open: a message of " + std::to_string(message.size()) +
                                     " bytes; a sealed message has " + std::to_string(min) +
                                     " to 65535");
  }
  std::size_t written = 0;
  if (impl_->transport == Transport::stream) {
    out.resize(message.size() - kTagLen);
    // On failure the nonce stays: the next genuine message still opens.
    if (receive.decrypt_with_ad({}, message, out, written) != noise::Error::ok) {
      out.clear();
      return fail(Errc::authentication_failed,
                  "open: the message did not authenticate (tampered, out of order or not "
                  "from this channel's peer)");
    }
    return {};
  }
  const std::uint64_t counter = load_le64(message.data());
  if (!impl_->window.check(counter)) {
    return fail(Errc::replayed,
                "open: counter " + std::to_string(counter) +
                    (impl_->window.too_old(counter) ? " is too old" : " opened before"));
  }
  out.resize(message.size() - kCounterLen - kTagLen);
  if (receive.decrypt_at(counter, {}, message.subspan(kCounterLen), out, written) !=
      noise::Error::ok) {
    out.clear();
    return fail(Errc::authentication_failed,
                "open: the message did not authenticate (tampered, or not from this channel's "
                "peer)");
  }
  // Only an authenticated counter moves the window.
  impl_->window.update(counter);
  return {};
}

bool Channel::empty() const noexcept {
  return !impl_;
}

Role Channel::role() const noexcept {
  return impl_ ? impl_->role : Role::initiator;
}

Transport Channel::transport() const noexcept {
  return impl_ ? impl_->transport : Transport::stream;
}

std::string Channel::protocol() const {
  return impl_ ? impl_->protocol : std::string();
}

std::optional<RemoteIdentity> Channel::remote() const {
  return impl_ ? impl_->remote : std::nullopt;
}

std::vector<std::uint8_t> Channel::handshake_hash() const {
  if (!impl_) return {};
  const Bytes h = impl_->keys.handshake_hash();
  return {h.begin(), h.end()};
}

std::size_t Channel::overhead() const noexcept {
  return transport() == Transport::stream ? kTagLen : kCounterLen + kTagLen;
}

}  // namespace gw
