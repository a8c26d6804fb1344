// SPDX-License-Identifier: MIT
#include "gw/platform/tun.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "gw/unique_fd.hpp"

// Debian 12's kernel headers predate UDP segmentation offload on TUN (6.2).
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

namespace gw::platform {

namespace {

constexpr int kVnetHeaderSize = 10;  // struct virtio_net_hdr, without num_buffers

[[noreturn]] void fail(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// Opens the device and attaches it to `name`; the kernel's name for it in `name`.
UniqueFd attach(std::string& name, bool vnet_hdr) {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) fail(errno, "open /dev/net/tun");
  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), name.size());
  request.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0));
  if (::ioctl(fd.get(), TUNSETIFF, &request) != 0) {
    fail(errno, "TUNSETIFF " + (name.empty() ? std::string("(any name)") : name));
  }
  name.assign(request.ifr_name, ::strnlen(request.ifr_name, IFNAMSIZ));
  return fd;
}

bool set_offload(int fd, unsigned flags) noexcept {
  return ::ioctl(fd, TUNSETOFFLOAD, static_cast<unsigned long>(flags)) == 0;
}

}  // namespace

Tun Tun::open(const Options& options) {
  if (options.name.size() >= IFNAMSIZ) {
    fail(ENAMETOOLONG, "TUNSETIFF " + options.name);
  }
  if (options.name.find('\0') != std::string::npos) fail(EINVAL, "TUNSETIFF (name has a NUL)");

  Tun tun;
  std::string name = options.name;
  if (options.offloads) {
    UniqueFd fd = attach(name, true);
    int header_size = kVnetHeaderSize;
    Offloads accepted;
    accepted.vnet_hdr = true;
    if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &header_size) == 0) {
      constexpr unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
      if (set_offload(fd.get(), base | TUN_F_USO4 | TUN_F_USO6)) {
        accepted.csum = accepted.tso4 = accepted.tso6 = accepted.uso4 = accepted.uso6 = true;
      } else if (set_offload(fd.get(), base)) {
        accepted.csum = accepted.tso4 = accepted.tso6 = true;
      }
    }
    if (accepted.csum) {
      tun.fd_ = fd.release();
      tun.offloads_ = accepted;
    }
    // Otherwise the device goes away with `fd`, to come back without a vnet header.
  }
  if (tun.fd_ < 0) {
    name = options.name;
    tun.fd_ = attach(name, false).release();
    tun.offloads_ = {};
  }
  tun.name_ = name;
  tun.ifindex_ = if_nametoindex(name.c_str());
  if (tun.ifindex_ == 0) fail(errno, "if_nametoindex " + name);
  return tun;
}

Tun::~Tun() {
  close();
}

Tun::Tun(Tun&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      ifindex_(std::exchange(other.ifindex_, 0u)),
      offloads_(std::exchange(other.offloads_, {})) {}

Tun& Tun::operator=(Tun&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    name_ = std::move(other.name_);
    ifindex_ = std::exchange(other.ifindex_, 0u);
    offloads_ = std::exchange(other.offloads_, {});
  }
  return *this;
}

ssize_t Tun::read(MutBytes buffer) const noexcept {
  return ::read(fd_, buffer.data(), buffer.size());
}

ssize_t Tun::write(Bytes frame) const noexcept {
  return ::write(fd_, frame.data(), frame.size());
}

void Tun::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace gw::platform
