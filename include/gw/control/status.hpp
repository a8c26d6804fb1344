// SPDX-License-Identifier: MIT
// A running interface's state, as gwd reports it: the reply to `show` on the
// control socket (docs/CONTROL.md), what `gwctl show` prints and what the
// Prometheus endpoint exports. Plain data; gwd fills it from its engine.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gw::control {

struct PeerStatus {
  std::string name;
  std::string public_key;  // base64
  std::optional<std::string>
      endpoint;  // the address in use: "192.0.2.1:51820", "[2001:db8::1]:51820"
  std::optional<std::string> configured_endpoint;  // as configured: "host:port" (a DNS name, say)
  std::vector<std::string> allowed_ips;            // as configured
  std::uint16_t persistent_keepalive = 0;          // seconds; 0: off
  bool psk = false;                                // a pre-shared key is configured
  bool session = false;                            // an established session exists now
  std::int64_t latest_handshake = 0;         // Unix seconds of the last session derived; 0: never
  std::uint64_t rx_bytes = 0, tx_bytes = 0;  // inner packets' bytes
  std::uint64_t rx_packets = 0, tx_packets = 0;
  std::uint64_t handshakes = 0;      // sessions established (confirmed by both sides)
  std::optional<std::string> suite;  // of the current session: "ChaChaPoly_BLAKE2b"
  // A handshake under way: since when (Unix seconds; 0: none) and how many
  // initiations it has sent.
  std::int64_t handshake_pending_since = 0;
  std::uint64_t handshake_attempts = 0;
  // Why the attempts since the last session fail, as far as gwd can tell:
  // "no_response", "not_confirmed", or the reason gwd refused the responder
  // (a drop_reason() name); nullopt: no trouble seen.
  std::optional<std::string> handshake_trouble;
  // A peer admitted by its certificate: its fingerprint (hex) and not_after.
  std::optional<std::string> certificate;
  std::int64_t certificate_expires = 0;

  friend bool operator==(const PeerStatus&, const PeerStatus&) = default;
};

struct Counters {
  // Packets and datagrams dropped, by reason (drop_reason() names; gwd's own:
  // "disallowed_source", "no_route", "bad_tun_frame", "tun_write_error").
  std::map<std::string, std::uint64_t> dropped;
  // Handshakes refused or failed, by reason ("unknown_peer", "psk_mismatch",
  // ..., and "timeout" for attempts given up after 90 s).
  std::map<std::string, std::uint64_t> handshakes_failed;
  std::uint64_t cookie_replies_sent = 0;
  std::uint64_t sessions_active = 0;  // peers with an established session

  friend bool operator==(const Counters&, const Counters&) = default;
};

struct Status {
  std::string name;        // the interface
  std::string public_key;  // base64
  std::uint16_t listen_port = 0;
  std::uint16_t mtu = 0;
  std::vector<std::string> addresses;
  std::vector<std::string> suites;  // names, preferred first
  bool full_tunnel = false;
  std::int64_t time = 0;          // Unix seconds when the status was taken
  std::vector<PeerStatus> peers;  // in config order
  Counters counters;

  friend bool operator==(const Status&, const Status&) = default;
};

// JSON as docs/CONTROL.md documents for the reply to "show" (the members
// "interface", "time", "peers", "counters"). from_json() reads it back and
// returns nullopt, with `error` set, when a member is missing or of the wrong type.
nlohmann::json to_json(const Status& status);
std::optional<Status> status_from_json(const nlohmann::json& j, std::string& error);

// The Prometheus text exposition format (version 0.0.4) of a status.
std::string to_prometheus(const Status& status);

}  // namespace gw::control
