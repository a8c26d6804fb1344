// SPDX-License-Identifier: MIT
// The platform tests' runner. They change network state, so they run in a
// network namespace of their own (only `lo`, brought up here): nothing leaks
// to the host and nothing needs cleaning up. Without root they are skipped
// (exit 77, which meson counts as a skip).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "gw/platform/netlink.hpp"

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::puts("platform tests skipped: they need root (TUN devices, a private network namespace)");
    return 77;
  }
  if (::unshare(CLONE_NEWNET) != 0) {
    std::printf("platform tests skipped: unshare(CLONE_NEWNET): %s\n", std::strerror(errno));
    return 77;
  }
  try {
    gw::platform::Netlink netlink;
    netlink.set_up(netlink.ifindex("lo"), true);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "platform tests: cannot bring up lo: %s\n", e.what());
    return 1;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
