// SPDX-License-Identifier: MIT
#include "gw/platform/system.hpp"

#include <cap-ng.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace gw::platform {

namespace {

constexpr std::size_t kLookupBuffer = 16 * 1024;

struct User {
  uid_t uid;
  gid_t gid;
};

User lookup_user(const std::string& name) {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(kLookupBuffer);
  const int error = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (error != 0) {
    throw std::runtime_error("look up user '" + name + "': " + std::strerror(error));
  }
  if (found == nullptr) throw std::runtime_error("unknown user '" + name + "'");
  return {entry.pw_uid, entry.pw_gid};
}

gid_t lookup_group(const std::string& name) {
  group entry{};
  group* found = nullptr;
  std::vector<char> buffer(kLookupBuffer);
  const int error = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (error != 0) {
    throw std::runtime_error("look up group '" + name + "': " + std::strerror(error));
  }
  if (found == nullptr) throw std::runtime_error("unknown group '" + name + "'");
  return entry.gr_gid;
}

}  // namespace

void drop_privileges(const std::string& user, const std::optional<std::string>& group,
                     bool keep_net_admin) {
  const User target = lookup_user(user);
  const gid_t gid = group ? lookup_group(*group) : target.gid;
  if (::geteuid() != 0) {
    if (target.uid != ::geteuid()) {
      throw std::runtime_error("cannot switch to user '" + user + "': not running as root");
    }
    return;
  }

  capng_clear(CAPNG_SELECT_BOTH);
  if (keep_net_admin &&
      capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED),
                   CAP_NET_ADMIN) != 0) {
    throw std::runtime_error("drop privileges: cannot keep cap_net_admin");
  }
  const int changed =
      capng_change_id(static_cast<int>(target.uid), static_cast<int>(gid),
                      static_cast<capng_flags_t>(CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING));
  if (changed != 0) {
    const int error = errno;
    throw std::runtime_error("switch to user '" + user + "' (capng_change_id " +
                             std::to_string(changed) + "): " + std::strerror(error));
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    throw std::runtime_error(std::string("prctl PR_SET_NO_NEW_PRIVS: ") + std::strerror(errno));
  }
  // The kernel set "dumpable" to fs.suid_dumpable when the uid changed: 1
  // there would give the new user ptrace, /proc/PID/mem and core dumps of a
  // memory that holds keys. Not under LeakSanitizer, which must ptrace us.
#if !defined(__SANITIZE_ADDRESS__)
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    throw std::runtime_error(std::string("prctl PR_SET_DUMPABLE: ") + std::strerror(errno));
  }
#endif
  // capng_change_id has no word on these; check rather than trust.
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;
  if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0 ||
      ruid != target.uid || euid != target.uid || suid != target.uid || rgid != gid ||
      egid != gid || sgid != gid || ::getgroups(0, nullptr) != 0) {
    throw std::runtime_error("switch to user '" + user + "': ids did not change");
  }
}

std::string effective_capabilities() {
  if (capng_get_caps_process() != 0) return "unknown";
  std::string text;
  for (unsigned cap = 0; cap <= CAP_LAST_CAP; ++cap) {
    if (capng_have_capability(CAPNG_EFFECTIVE, cap) == 0) continue;
    const char* name = capng_capability_to_name(cap);
    if (!text.empty()) text += ',';
    text += name != nullptr ? std::string("cap_") + name : "cap_" + std::to_string(cap);
  }
  return text.empty() ? "none" : text;
}

void notify_systemd(const std::string& state) noexcept {
  ::sd_notify(0, state.c_str());
}

}  // namespace gw::platform
