// SPDX-License-Identifier: MIT
// Requests on gwd's control socket (docs/CONTROL.md), built: the client's
// half of request.hpp. Each function makes the JSON object of one command,
// with "version" and "command" set, that parse_request() accepts with the
// same fields; the caller has checked the values (a typo is the caller's
// usage error, not gwd's refusal) and sends the object as one line.
//
// A pre-shared key travels as base64 text inside the object: once the
// request is sent, wipe_psks() overwrites that text in place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "gw/bytes.hpp"
#include "gw/crypto/x25519.hpp"

namespace gw::control {

nlohmann::json version_request();
nlohmann::json show_request();
nlohmann::json reload_request();
// `certified`: the peers admitted by certificate instead of the configured ones.
nlohmann::json peer_list_request(bool certified);
// `peer`: a name or a base64 public key.
nlohmann::json peer_remove_request(std::string_view peer);

// peer.add's peer object: a config file's peer without its file names.
struct NewPeer {
  std::string name;
  crypto::PublicKey public_key{};
  std::optional<std::string> endpoint;  // "host:port" or "[v6]:port", as given
  std::optional<std::vector<std::string>> allowed_ips;
  std::optional<std::uint16_t> persistent_keepalive;
  Bytes psk;  // the pre-shared key's 32 bytes; empty: none
};
nlohmann::json peer_add_request(const NewPeer& peer);

// peer.set's changes: each member set is a change (PeerChanges in request.hpp).
struct PeerUpdate {
  std::optional<std::optional<std::string>> endpoint;   // inner nullopt: forget it
  std::optional<std::vector<std::string>> allowed_ips;  // replaces the list
  std::optional<std::uint16_t> persistent_keepalive;
  std::optional<Bytes> psk;  // the new key's 32 bytes; an empty span: remove it
};
// `peer`: a name or a base64 public key.
nlohmann::json peer_set_request(std::string_view peer, const PeerUpdate& update);

// Overwrites, in place, the text of the PSK a built request carries
// ($.peer.psk of peer.add, $.set.psk of peer.set). The object stays a
// request of the same shape, with zero bytes where the key's text was.
void wipe_psks(nlohmann::json& request) noexcept;

}  // namespace gw::control
