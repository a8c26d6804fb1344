// SPDX-License-Identifier: MIT
// libgw's private half: what the public classes of gw.hpp hold, and the
// helpers the API's files share. Every type here has hidden visibility, so
// libgw.so exports none of it (the public classes' nested Impl would
// otherwise inherit their default visibility).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gw/crypto/secret.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/gw.hpp"
#include "gw/identity/certificate.hpp"
#include "gw/noise/error.hpp"
#include "gw/noise/transport_state.hpp"
#include "gw/session/replay_window.hpp"

#define GW_LOCAL __attribute__((visibility("hidden")))

namespace gw {

struct GW_LOCAL Identity::Impl {
  crypto::LockedBuffer private_key;  // 32 bytes
  Key public_key{};
  std::optional<identity::Certificate> certificate;
  std::vector<std::uint8_t> certificate_bytes;  // its encoding, as sent in the handshake

  crypto::KeyPair key_pair() const;
};

struct GW_LOCAL Psk::Impl {
  crypto::LockedBuffer key;  // 32 bytes
};

struct GW_LOCAL Trust::Impl {
  bool any = false;
  std::vector<Key> keys;
  std::vector<identity::CaPublicKey> cas;
  identity::RevocationList revoked;

  bool empty() const noexcept { return !any && keys.empty() && cas.empty(); }
};

struct GW_LOCAL Channel::Impl {
  noise::TransportState keys;
  Role role = Role::initiator;
  Transport transport = Transport::stream;
  std::string protocol;
  std::optional<RemoteIdentity> remote;
  std::uint64_t next_send = 0;   // datagram: the next counter to seal with
  session::ReplayWindow window;  // datagram: counters opened so far
};

namespace lib {

GW_LOCAL Status fail(Errc code, std::string message);
// A Noise error as the API reports it, with `what` naming the step.
GW_LOCAL Status from_noise(noise::Error e, const std::string& what);
// A small regular file's contents (certificates, revocation lists).
GW_LOCAL Status read_small_file(const std::string& path, std::size_t max_size, const char* what,
                                std::string& out);

}  // namespace lib
}  // namespace gw
