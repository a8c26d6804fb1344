// SPDX-License-Identifier: MIT
// Tun: creating devices with and without offloads, and a real round trip
// through the kernel (an ICMP echo request in, the kernel's reply out).
#include <doctest/doctest.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include "gw/platform/netlink.hpp"
#include "gw/platform/tun.hpp"
#include "gw/platform/udp.hpp"
#include "support.hpp"
#include "support/hang_guard.hpp"

using gw::platform::Netlink;
using gw::platform::Tun;
using gw::platform::test::get16;
using gw::platform::test::internet_checksum;
using gw::platform::test::prefix;
using gw::platform::test::put16;

namespace {

// TUN_F_USO4/6 arrived in Linux 6.2.
bool kernel_has_uso() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  return major > 6 || (major == 6 && minor >= 2);
}

unsigned tun_flags(const Tun& tun) {
  ifreq r{};
  REQUIRE(::ioctl(tun.fd(), TUNGETIFF, &r) == 0);
  return static_cast<unsigned short>(r.ifr_flags);
}

constexpr std::size_t kVnetHeader = 10;

}  // namespace

TEST_CASE("Tun opens with offloads: vnet header, checksum, TSO and USO") {
  const Tun tun = Tun::open({.name = "gwoff0", .offloads = true});
  CHECK(tun.fd() >= 0);
  CHECK(tun.name() == "gwoff0");
  CHECK(tun.ifindex() == ::if_nametoindex("gwoff0"));
  CHECK(tun.ifindex() != 0);
  const auto& off = tun.offloads();
  CHECK(off.vnet_hdr);
  CHECK(off.csum);
  CHECK(off.tso4);
  CHECK(off.tso6);
  if (kernel_has_uso()) {
    CHECK(off.uso4);
    CHECK(off.uso6);
  }
  const unsigned flags = tun_flags(tun);
  CHECK((flags & IFF_TUN) != 0);
  CHECK((flags & IFF_NO_PI) != 0);
  CHECK((flags & IFF_VNET_HDR) != 0);
  int header_size = 0;
  REQUIRE(::ioctl(tun.fd(), TUNGETVNETHDRSZ, &header_size) == 0);
  CHECK(header_size == 10);
}

TEST_CASE("Tun opens without offloads: no vnet header") {
  const Tun tun = Tun::open({.name = "gwplain0", .offloads = false});
  CHECK(tun.name() == "gwplain0");
  CHECK(tun.ifindex() == ::if_nametoindex("gwplain0"));
  const auto& off = tun.offloads();
  CHECK_FALSE(off.vnet_hdr);
  CHECK_FALSE(off.csum);
  CHECK_FALSE(off.tso4);
  CHECK_FALSE(off.tso6);
  CHECK_FALSE(off.uso4);
  CHECK_FALSE(off.uso6);
  const unsigned flags = tun_flags(tun);
  CHECK((flags & IFF_TUN) != 0);
  CHECK((flags & IFF_NO_PI) != 0);
  CHECK((flags & IFF_VNET_HDR) == 0);
}

TEST_CASE("Tun without a name gets one from the kernel") {
  const Tun tun = Tun::open({.name = "", .offloads = false});
  CHECK_FALSE(tun.name().empty());
  CHECK(tun.ifindex() == ::if_nametoindex(tun.name().c_str()));
}

TEST_CASE("Tun: a busy name fails with a message naming the step and the device") {
  Tun first = Tun::open({.name = "gwbusy0", .offloads = true});
  for (const bool offloads : {true, false}) {
    CAPTURE(offloads);
    try {
      (void)Tun::open({.name = "gwbusy0", .offloads = offloads});
      FAIL("a second open of a busy TUN succeeded");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == EBUSY);
      CHECK(std::string(e.what()) == "TUNSETIFF gwbusy0: Device or resource busy");
    }
  }
  // Once the first is closed, the device is gone and the name free again.
  first.close();
  CHECK(first.fd() == -1);
  CHECK(::if_nametoindex("gwbusy0") == 0);
  const Tun again = Tun::open({.name = "gwbusy0", .offloads = false});
  CHECK(again.ifindex() != 0);
}

TEST_CASE("Tun: a name too long is refused") {
  try {
    (void)Tun::open({.name = "gw-name-much-too-long", .offloads = false});
    FAIL("an over-long name was accepted");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == ENAMETOOLONG);
    CHECK(std::string(e.what()).find("TUNSETIFF gw-name-much-too-long") == 0);
  }
}

TEST_CASE("Tun moves its descriptor") {
  Tun a = Tun::open({.name = "gwmove0", .offloads = false});
  const int fd = a.fd();
  Tun b(std::move(a));
  CHECK(a.fd() == -1);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(b.fd() == fd);
  CHECK(b.name() == "gwmove0");
  Tun c;
  c = std::move(b);
  CHECK(c.fd() == fd);
  CHECK(b.fd() == -1);  // NOLINT(bugprone-use-after-move)
  CHECK(c.ifindex() == ::if_nametoindex("gwmove0"));
}

namespace {

// An ICMP echo request 10.0.0.2 -> 10.0.0.1 with a 32-byte payload.
std::vector<std::uint8_t> echo_request() {
  std::vector<std::uint8_t> p(20 + 8 + 32, 0);
  p[0] = 0x45;
  put16(&p[2], static_cast<std::uint16_t>(p.size()));
  put16(&p[4], 0x1234);
  p[8] = 64;  // TTL
  p[9] = 1;   // ICMP
  const std::array<std::uint8_t, 8> addresses = {10, 0, 0, 2, 10, 0, 0, 1};
  std::copy(addresses.begin(), addresses.end(), p.begin() + 12);
  put16(&p[10], internet_checksum(p.data(), 20));
  p[20] = 8;              // echo request
  put16(&p[24], 0x4242);  // identifier
  put16(&p[26], 7);       // sequence
  for (std::size_t i = 0; i < 32; ++i)
    p[28 + i] = static_cast<std::uint8_t>(i * 3 + 1);
  put16(&p[22], internet_checksum(p.data() + 20, p.size() - 20));
  return p;
}

// Reads from the TUN until an ICMP echo reply shows up (the kernel may send
// other things first, e.g. IPv6 router solicitations); empty on timeout.
std::vector<std::uint8_t> read_echo_reply(const Tun& tun) {
  std::vector<std::uint8_t> buffer(70000);
  const std::size_t skip = tun.offloads().vnet_hdr ? kVnetHeader : 0;
  for (int attempt = 0; attempt < 50; ++attempt) {
    pollfd p{tun.fd(), POLLIN, 0};
    if (::poll(&p, 1, gw::test::hang_guard_ms(5000)) <= 0) return {};
    const ssize_t n = tun.read(buffer);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return {};
    }
    const auto size = static_cast<std::size_t>(n);
    if (size < skip + 28) continue;
    const std::uint8_t* ip = buffer.data() + skip;
    if ((ip[0] >> 4) != 4 || ip[9] != 1 || ip[20] != 0) continue;
    return std::vector<std::uint8_t>(buffer.begin(), buffer.begin() + n);
  }
  return {};
}

}  // namespace

TEST_CASE("Tun round trip: the kernel answers an ICMP echo written into the TUN") {
  for (const bool offloads : {true, false}) {
    CAPTURE(offloads);
    const Tun tun = Tun::open({.name = "gwping0", .offloads = offloads});
    REQUIRE(tun.offloads().vnet_hdr == offloads);
    Netlink netlink;
    netlink.add_address(tun.ifindex(), prefix("10.0.0.1/24"));
    netlink.set_up(tun.ifindex(), true);

    const std::vector<std::uint8_t> request = echo_request();
    std::vector<std::uint8_t> frame(offloads ? kVnetHeader : 0, 0);  // zero vnet header
    frame.insert(frame.end(), request.begin(), request.end());
    REQUIRE(tun.write(frame) == static_cast<ssize_t>(frame.size()));

    const std::vector<std::uint8_t> reply = read_echo_reply(tun);
    REQUIRE_FALSE(reply.empty());
    const std::size_t skip = offloads ? kVnetHeader : 0;
    if (offloads) {
      // A plain packet: no segmentation and no checksum left to do.
      for (std::size_t i = 0; i < kVnetHeader; ++i)
        CHECK(reply[i] == 0);
    }
    const std::uint8_t* ip = reply.data() + skip;
    const std::size_t length = reply.size() - skip;
    REQUIRE(length == request.size());
    CHECK(get16(ip + 2) == request.size());
    CHECK(internet_checksum(ip, 20) == 0);
    CHECK(std::equal(ip + 12, ip + 16, request.begin() + 16));  // source: 10.0.0.1
    CHECK(std::equal(ip + 16, ip + 20, request.begin() + 12));  // destination: 10.0.0.2
    CHECK(ip[20] == 0);                                         // echo reply
    CHECK(get16(ip + 24) == 0x4242);
    CHECK(get16(ip + 26) == 7);
    CHECK(internet_checksum(ip + 20, length - 20) == 0);
    CHECK(std::equal(ip + 28, ip + length, request.begin() + 28));
  }
}

TEST_CASE("Tun with USO: a UDP GSO batch comes out as one super-packet with a vnet header") {
  const Tun tun = Tun::open({.name = "gwuso0", .offloads = true});
  if (!tun.offloads().uso4) {
    MESSAGE("kernel without USO on TUN: skipped");
    return;
  }
  Netlink netlink;
  netlink.add_address(tun.ifindex(), prefix("10.0.2.1/24"));
  netlink.set_up(tun.ifindex(), true);
  gw::platform::UdpSocket socket = gw::platform::UdpSocket::open({});
  REQUIRE(socket.gso());

  std::vector<std::vector<std::uint8_t>> datagrams;
  for (std::size_t i = 0; i < 30; ++i) {
    datagrams.emplace_back(1200, static_cast<std::uint8_t>(i));
  }
  datagrams.emplace_back(300, std::uint8_t{0xee});
  gw::platform::SendBatch batch(64);
  const auto to = gw::session::Endpoint::ipv4({10, 0, 2, 2}, 5555);
  for (const auto& d : datagrams)
    REQUIRE(batch.add(to, d));
  REQUIRE(socket.send(batch) == datagrams.size());
  CHECK(socket.gso());

  std::vector<std::uint8_t> buffer(70000);
  const std::size_t udp_payload = 30 * 1200 + 300;
  bool found = false;
  for (int reads = 0; reads < 50 && !found; ++reads) {
    pollfd p{tun.fd(), POLLIN, 0};
    if (::poll(&p, 1, gw::test::hang_guard_ms(5000)) <= 0) break;
    const ssize_t n = tun.read(buffer);
    if (n < static_cast<ssize_t>(kVnetHeader + 28)) continue;
    const std::uint8_t* ip = buffer.data() + kVnetHeader;
    if ((ip[0] >> 4) != 4 || ip[9] != 17) continue;
    found = true;
    // virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset (little-endian).
    const std::uint8_t* vnet = buffer.data();
    CHECK((vnet[0] & 1) != 0);                // VIRTIO_NET_HDR_F_NEEDS_CSUM
    CHECK(vnet[1] == 5);                      // VIRTIO_NET_HDR_GSO_UDP_L4
    CHECK((vnet[4] | vnet[5] << 8) == 1200);  // gso_size
    CHECK((vnet[6] | vnet[7] << 8) == 20);    // csum_start: the UDP header
    CHECK((vnet[8] | vnet[9] << 8) == 6);     // csum_offset: the UDP checksum
    CHECK(static_cast<std::size_t>(n) == kVnetHeader + 28 + udp_payload);
    for (std::size_t i = 0; i < datagrams.size(); ++i) {
      CAPTURE(i);
      const std::uint8_t* at = ip + 28 + i * 1200;
      CHECK(std::equal(datagrams[i].begin(), datagrams[i].end(), at));
    }
  }
  CHECK(found);
}
