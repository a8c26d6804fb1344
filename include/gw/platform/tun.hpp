// SPDX-License-Identifier: MIT
// A Linux TUN device: layer-3 packets, no packet-information prefix, a
// non-blocking file descriptor. With offloads, every read and write carries a
// virtio_net_hdr (offload/vnet.hpp) and a read may return one TCP or UDP
// "super-packet" of up to 64 KiB that the caller segments.
#pragma once

#include <sys/types.h>
#include <cstddef>
#include <cstdint>
#include <string>

#include "gw/bytes.hpp"

namespace gw::platform {

class Tun {
 public:
  struct Options {
    std::string name;      // the interface name; created if missing
    bool offloads = true;  // ask for IFF_VNET_HDR with checksum, TSO and USO offloads
  };
  // What TUNSETOFFLOAD accepted (TUN_F_* bits); 0 without offloads.
  struct Offloads {
    bool vnet_hdr = false;  // reads and writes carry a 10-byte virtio_net_hdr
    bool csum = false, tso4 = false, tso6 = false, uso4 = false, uso6 = false;
  };

  // Opens /dev/net/tun and creates the interface. Throws std::system_error
  // whose what() names the step and the device ("open /dev/net/tun: ...",
  // "TUNSETIFF gw0: Device or resource busy"). Offloads the kernel refuses are
  // left off (falling back to no vnet header at all if need be), never fatal.
  static Tun open(const Options& options);

  Tun() = default;
  ~Tun();
  Tun(Tun&& other) noexcept;
  Tun& operator=(Tun&& other) noexcept;
  Tun(const Tun&) = delete;
  Tun& operator=(const Tun&) = delete;

  int fd() const noexcept { return fd_; }
  const std::string& name() const noexcept { return name_; }  // as the kernel named it
  unsigned ifindex() const noexcept { return ifindex_; }
  const Offloads& offloads() const noexcept { return offloads_; }

  // One read or write; -1 with errno set on failure (EAGAIN: nothing to read).
  ssize_t read(MutBytes buffer) const noexcept;
  ssize_t write(Bytes frame) const noexcept;
  void close() noexcept;

 private:
  int fd_ = -1;
  std::string name_;
  unsigned ifindex_ = 0;
  Offloads offloads_;
};

}  // namespace gw::platform
