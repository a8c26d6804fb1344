// SPDX-License-Identifier: MIT
// What gwctl prints, as pure functions of gwd's replies (docs/CONTROL.md), so
// that every line is unit-tested without a daemon. The human forms follow
// `wg show`: the same labels, units and omissions, so that WireGuard users
// read them at a glance.
//
// Omissions, as wg has them: a peer without an endpoint has no "endpoint"
// line, a peer that never completed a handshake no "latest handshake" line, a
// peer with nothing sent or received no "transfer" line, keepalive off no
// "persistent keepalive" line; a peer without a session has no "suite" line.
// Empty allowed IPs read "(none)". Times are taken against the status's own
// `time` (gwd's clock), never against this machine's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gw/control/status.hpp"

namespace gw::gwctl {

// "1 year, 2 days, 1 hour, 1 minute, 5 seconds": wg's pretty_time, zero parts
// left out; "0 seconds" for 0.
std::string duration_text(std::uint64_t seconds);
// "Now" when `then` == `now`, "DURATION ago" before, and wg's warning when
// `then` lies in the future (the clock was set back).
std::string ago_text(std::int64_t then, std::int64_t now);
// "512 B", "1.21 MiB": binary units, two decimals above bytes, as wg prints.
std::string bytes_text(std::uint64_t bytes);

// The peers in the order `wg show` lists them: most recent handshake first,
// then those never handshaked; ties by name.
std::vector<const control::PeerStatus*> sorted_peers(const control::Status& status);

// The whole `gwctl show IFACE` text: the interface block, then a blank line
// and a block per peer. Ends with a newline.
std::string show_text(const control::Status& status);

// `gwctl peer list`: one line per peer of a peer.list reply's "peers",
// "NAME\tPUBLIC_KEY\tENDPOINT\tALLOWED_IPS" with "(none)" for a missing
// endpoint or empty allowed IPs and the prefixes joined by ','; peers
// admitted by certificate (`peer list --certified`) add "\tFINGERPRINT\t
// NOT_AFTER" (UTC). nullopt, with `error` set, when the array is not as
// docs/CONTROL.md has it.
std::optional<std::string> peer_list_text(const nlohmann::json& peers, std::string& error);

// `gwctl reload`'s stdout: "added: a, b", "removed: c", "changed: d" lines for
// the lists that are not empty, or "no changes".
std::string reload_text(const std::vector<std::string>& added,
                        const std::vector<std::string>& removed,
                        const std::vector<std::string>& changed);

// Items joined by `separator`.
// "2026-12-03T18:00:00Z".
std::string utc_text(std::int64_t unix_seconds);

std::string join(const std::vector<std::string>& items, const std::string& separator);

}  // namespace gw::gwctl
