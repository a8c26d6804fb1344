// SPDX-License-Identifier: MIT
// The daemon's dealings with the operating system beyond the network:
// dropping privileges and telling systemd how it is doing.
#pragma once

#include <optional>
#include <string>

namespace gw::platform {

// Switches to `user` (and `group`, else the user's primary group), dropping
// supplementary groups and every capability except CAP_NET_ADMIN when
// `keep_net_admin` (needed to change routes and addresses later), also from
// the bounding set; sets no_new_privs, and makes the process non-dumpable
// again (the kernel resets that flag to fs.suid_dumpable when the uid
// changes; sanitizer builds stay dumpable for LeakSanitizer). Uses libcap-ng. Throws
// std::runtime_error naming what failed ("unknown user 'gw'"). Does nothing
// to a process that is not root, except to check that `user` is its own.
void drop_privileges(const std::string& user, const std::optional<std::string>& group,
                     bool keep_net_admin);

// The effective capabilities as text ("cap_net_admin" or "none"), for logs and tests.
std::string effective_capabilities();

// sd_notify(3) through libsystemd: a no-op when not started by systemd
// (no NOTIFY_SOCKET). `state` is e.g. "READY=1\nSTATUS=2 peers".
void notify_systemd(const std::string& state) noexcept;

}  // namespace gw::platform
