// SPDX-License-Identifier: MIT
// drop_privileges in a forked child (the change cannot be undone), the
// capability report, and sd_notify through a socket standing in for systemd.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

#include "gw/platform/netlink.hpp"
#include "gw/platform/system.hpp"
#include "gw/platform/tun.hpp"
#include "support.hpp"

using gw::platform::drop_privileges;
using gw::platform::effective_capabilities;
using gw::platform::Netlink;
using gw::platform::notify_systemd;
using gw::platform::Tun;
using gw::platform::test::contains;
using gw::platform::test::prefix;

namespace {

// A root-only file (mode 0600), removed at the end of the test.
struct SecretFile {
  SecretFile() {
    char name[] = "/tmp/gw-platform-secret-XXXXXX";
    const int fd = ::mkstemp(name);
    if (fd < 0) throw std::runtime_error("mkstemp");
    ::fchmod(fd, 0600);
    ::close(fd);
    path = name;
  }
  ~SecretFile() { ::unlink(path.c_str()); }
  std::string path;
};

// Runs `child` in a forked process and returns its exit status (or -1). The
// child reports failures as distinct exit codes, never through doctest.
template <class Child>
int in_child(Child&& child) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int code = 99;
    try {
      code = child();
    } catch (...) {
      code = 98;
    }
    ::_exit(code);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("effective_capabilities as root names cap_net_admin among others") {
  const std::string caps = effective_capabilities();
  CHECK(caps.find("cap_net_admin") != std::string::npos);
  CHECK(caps.find("cap_sys_admin") != std::string::npos);
  CHECK(caps.find("cap_chown") == 0);  // capability 0 comes first
}

TEST_CASE("drop_privileges to nobody keeping CAP_NET_ADMIN") {
  const passwd* nobody = ::getpwnam("nobody");
  REQUIRE(nobody != nullptr);
  const uid_t nobody_uid = nobody->pw_uid;
  const gid_t nobody_gid = nobody->pw_gid;
  const Tun tun = Tun::open({.name = "gwpriv0", .offloads = false});
  const unsigned index = tun.ifindex();
  const SecretFile secret;

  const int status = in_child([&] {
    drop_privileges("nobody", std::nullopt, true);
    if (::getuid() != nobody_uid || ::geteuid() != nobody_uid) return 10;
    if (::getgid() != nobody_gid || ::getegid() != nobody_gid) return 11;
    if (::getgroups(0, nullptr) != 0) return 12;
    if (effective_capabilities() != "cap_net_admin") return 13;
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 14;
    try {
      Netlink netlink;
      netlink.add_address(index, prefix("10.66.0.1/24"));
    } catch (const std::exception&) {
      return 15;
    }
    const int fd = ::open(secret.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 || errno != EACCES) return 16;
    // The bounding set is empty: nothing to regain through exec.
    if (::prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0) return 17;
    return 0;
  });
  CHECK(status == 0);
  Netlink netlink;
  CHECK(contains(netlink.addresses(index), prefix("10.66.0.1/24")));
}

TEST_CASE("drop_privileges to nobody without CAP_NET_ADMIN") {
  const Tun tun = Tun::open({.name = "gwpriv1", .offloads = false});
  const unsigned index = tun.ifindex();
  const int status = in_child([&] {
    drop_privileges("nobody", std::string("nogroup"), false);
    if (effective_capabilities() != "none") return 10;
    try {
      Netlink netlink;
      netlink.add_address(index, prefix("10.67.0.1/24"));
      return 11;
    } catch (const gw::platform::NetlinkError& e) {
      if (e.error() != EPERM) return 12;
    }
    return 0;
  });
  CHECK(status == 0);
  Netlink netlink;
  CHECK_FALSE(contains(netlink.addresses(index), prefix("10.67.0.1/24")));
}

TEST_CASE("drop_privileges names an unknown user or group") {
  CHECK_THROWS_WITH_AS(drop_privileges("gw-no-such-user", std::nullopt, true),
                       "unknown user 'gw-no-such-user'", std::runtime_error);
  CHECK_THROWS_WITH_AS(drop_privileges("nobody", std::string("gw-no-such-group"), true),
                       "unknown group 'gw-no-such-group'", std::runtime_error);
  CHECK(::getuid() == 0);  // nothing changed
}

TEST_CASE("drop_privileges as a non-root user only checks the user is its own") {
  const int status = in_child([] {
    drop_privileges("nobody", std::nullopt, false);
    drop_privileges("nobody", std::nullopt, false);  // already nobody: nothing to do
    try {
      drop_privileges("root", std::nullopt, false);
      return 10;
    } catch (const std::runtime_error&) {
    }
    return ::getuid() == 0 ? 11 : 0;
  });
  CHECK(status == 0);
}

TEST_CASE("notify_systemd sends the state to NOTIFY_SOCKET, and is a no-op without it") {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string path = "/tmp/gw-platform-notify-" + std::to_string(::getpid());
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  ::unlink(path.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);

  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  notify_systemd("READY=1\nSTATUS=2 peers");
  ::unsetenv("NOTIFY_SOCKET");
  char buffer[256] = {};
  const ssize_t n = ::recv(fd, buffer, sizeof buffer - 1, MSG_DONTWAIT);
  CHECK(std::string(buffer, n > 0 ? static_cast<std::size_t>(n) : 0) == "READY=1\nSTATUS=2 peers");

  notify_systemd("READY=1");  // no NOTIFY_SOCKET: nothing sent, nothing thrown
  CHECK(::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT) < 0);
  ::close(fd);
  ::unlink(path.c_str());
}
