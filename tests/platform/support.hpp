// SPDX-License-Identifier: MIT
// Small helpers for the platform tests: reading interface state back
// through ioctl (independently of the Netlink under test), prefixes from text.
#pragma once

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "gw/routing/allowed_ips.hpp"

namespace gw::platform::test {

inline routing::Prefix prefix(const char* text) {
  const auto p = routing::Prefix::parse(text);
  if (!p) throw std::invalid_argument(std::string("bad prefix in test: ") + text);
  return *p;
}

template <class T>
bool contains(const std::vector<T>& items, const T& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// SIOCGIF* on a throwaway socket; `what` picks the ifreq field by the caller.
inline ifreq interface_request(const std::string& name, unsigned long request) {
  ifreq r{};
  std::strncpy(r.ifr_name, name.c_str(), IFNAMSIZ - 1);
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket for ioctl");
  const int rc = ::ioctl(fd, request, &r);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("ioctl on " + name);
  return r;
}

inline int interface_mtu(const std::string& name) {
  return interface_request(name, SIOCGIFMTU).ifr_mtu;
}

inline bool interface_up(const std::string& name) {
  return (interface_request(name, SIOCGIFFLAGS).ifr_flags & IFF_UP) != 0;
}

}  // namespace gw::platform::test

namespace gw::platform::test {

// The Internet checksum (RFC 1071) of `bytes`, folded, not yet inverted
// when `sum` carries a pseudo-header.
inline std::uint16_t internet_checksum(const std::uint8_t* bytes, std::size_t size,
                                       std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < size; i += 2) {
    sum += static_cast<std::uint32_t>(bytes[i] << 8 | bytes[i + 1]);
  }
  if (size % 2 != 0) sum += static_cast<std::uint32_t>(bytes[size - 1] << 8);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

inline void put16(std::uint8_t* at, std::uint16_t value) {
  at[0] = static_cast<std::uint8_t>(value >> 8);
  at[1] = static_cast<std::uint8_t>(value);
}

inline std::uint16_t get16(const std::uint8_t* at) {
  return static_cast<std::uint16_t>(at[0] << 8 | at[1]);
}

}  // namespace gw::platform::test
