// SPDX-License-Identifier: MIT
// UdpSocket on loopback: single datagrams and batches to itself and to a
// second socket, over IPv4 and IPv6, with segmentation (GSO) and receive
// offload (GRO) each on and off. Every datagram must arrive, whole, in order.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gw/platform/netlink.hpp"
#include "gw/platform/tun.hpp"
#include "gw/platform/udp.hpp"
#include "support.hpp"
#include "support/hang_guard.hpp"

using gw::Bytes;
using gw::platform::RecvBatch;
using gw::platform::SendBatch;
using gw::platform::UdpSocket;
using gw::session::Endpoint;

namespace {

Endpoint loopback4(std::uint16_t port) {
  return Endpoint::ipv4({127, 0, 0, 1}, port);
}

Endpoint loopback6(std::uint16_t port) {
  std::array<std::uint8_t, 16> a{};
  a[15] = 1;
  return Endpoint::ipv6(a, port);
}

struct Received {
  Endpoint from;
  std::vector<std::uint8_t> data;
};

// Receives until `want` datagrams came or nothing more arrives within the
// poll timeout (a generous bound for loopback: the test asserts what came, never when).
std::vector<Received> receive(UdpSocket& socket, RecvBatch& batch, std::size_t want) {
  std::vector<Received> got;
  while (got.size() < want) {
    const std::size_t n = socket.receive(batch);
    for (std::size_t i = 0; i < n; ++i) {
      got.push_back({batch[i].from, {batch[i].data.begin(), batch[i].data.end()}});
    }
    if (n != 0) continue;
    pollfd p{socket.fd(), POLLIN, 0};
    if (::poll(&p, 1, gw::test::hang_guard_ms(2000)) <= 0) break;
  }
  return got;
}

// A datagram that says which it is: its index in the first two bytes, then a pattern.
std::vector<std::uint8_t> numbered(std::size_t index, std::size_t size, std::uint8_t salt) {
  std::vector<std::uint8_t> d(size);
  for (std::size_t i = 0; i < size; ++i)
    d[i] = static_cast<std::uint8_t>(i * 7 + index + salt);
  if (size >= 2) {
    d[0] = static_cast<std::uint8_t>(index >> 8);
    d[1] = static_cast<std::uint8_t>(index);
  }
  return d;
}

UdpSocket open(bool gso = true, bool gro = true, std::uint16_t port = 0) {
  UdpSocket::Options options;
  options.port = port;
  options.gso = gso;
  options.gro = gro;
  return UdpSocket::open(options);
}

}  // namespace

TEST_CASE("UdpSocket binds a free port and reports its offloads") {
  UdpSocket socket = open();
  CHECK(socket.fd() >= 0);
  CHECK(socket.port() != 0);
  CHECK(socket.gso());  // Linux 4.18+ and 5.0+: present on any supported kernel
  CHECK(socket.gro());
  const UdpSocket plain = open(false, false);
  CHECK_FALSE(plain.gso());
  CHECK_FALSE(plain.gro());
  CHECK(plain.port() != socket.port());

  // The port is taken now: a second bind to it fails, naming the step.
  try {
    (void)open(true, true, socket.port());
    FAIL("a second bind to a taken port succeeded");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EADDRINUSE);
    CHECK(std::string(e.what()).find("bind [::]:" + std::to_string(socket.port())) == 0);
  }
}

TEST_CASE("UdpSocket sets its fwmark and buffers") {
  UdpSocket::Options options;
  options.buffer_bytes = 4u << 20;
  options.fwmark = 0xca6c;
  const UdpSocket socket = UdpSocket::open(options);
  std::uint32_t mark = 0;
  socklen_t length = sizeof mark;
  REQUIRE(::getsockopt(socket.fd(), SOL_SOCKET, SO_MARK, &mark, &length) == 0);
  CHECK(mark == 0xca6cu);
  int bytes = 0;
  length = sizeof bytes;
  REQUIRE(::getsockopt(socket.fd(), SOL_SOCKET, SO_RCVBUF, &bytes, &length) == 0);
  CHECK(bytes >= 4 << 20);  // FORCE passes rmem_max as root (the kernel doubles the value)
}

TEST_CASE("UdpSocket send_one to itself over IPv4 and IPv6") {
  UdpSocket socket = open();
  RecvBatch batch(8, 2048);
  for (const bool v6 : {false, true}) {
    CAPTURE(v6);
    const Endpoint self = v6 ? loopback6(socket.port()) : loopback4(socket.port());
    const std::vector<std::uint8_t> hello = numbered(1, 100, 3);
    REQUIRE(socket.send_one(self, hello));
    const auto got = receive(socket, batch, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == hello);
    // IPv4 comes back as IPv4, not as ::ffff:127.0.0.1.
    CHECK(got[0].from == self);
    CHECK(got[0].from.family == (v6 ? Endpoint::Family::ipv6 : Endpoint::Family::ipv4));

    // And a small batch to itself.
    SendBatch out(4);
    const std::vector<std::uint8_t> a = numbered(2, 700, 3), b = numbered(3, 700, 3),
                                    c = numbered(4, 20, 3);
    REQUIRE(out.add(self, a));
    REQUIRE(out.add(self, b));
    REQUIRE(out.add(self, c));
    CHECK(socket.send(out) == 3);
    const auto three = receive(socket, batch, 3);
    REQUIRE(three.size() == 3);
    CHECK(three[0].data == a);
    CHECK(three[1].data == b);
    CHECK(three[2].data == c);
    CHECK(three[2].from == self);
  }
  CHECK(socket.stats().send_errors == 0);
  CHECK(socket.stats().send_dropped == 0);
}

TEST_CASE("UdpSocket batch: 40 equal datagrams and a shorter last, GSO and GRO on and off") {
  for (const bool gso : {true, false}) {
    for (const bool gro : {true, false}) {
      for (const bool v6 : {false, true}) {
        CAPTURE(gso);
        CAPTURE(gro);
        CAPTURE(v6);
        UdpSocket sender = open(gso, gro);
        UdpSocket receiver = open(gso, gro);
        REQUIRE(sender.gso() == gso);
        REQUIRE(receiver.gro() == gro);
        const Endpoint to = v6 ? loopback6(receiver.port()) : loopback4(receiver.port());
        const Endpoint from = v6 ? loopback6(sender.port()) : loopback4(sender.port());

        std::vector<std::vector<std::uint8_t>> datagrams;
        for (std::size_t i = 0; i < 40; ++i)
          datagrams.push_back(numbered(i, 1200, 5));
        datagrams.push_back(numbered(40, 500, 5));
        SendBatch batch(64);
        for (const auto& d : datagrams)
          REQUIRE(batch.add(to, d));
        CHECK(batch.size() == 41);
        CHECK(sender.send(batch) == 41);
        CHECK(batch.size() == 0);
        CHECK(sender.stats().send_errors == 0);
        CHECK(sender.stats().send_dropped == 0);
        CHECK(sender.gso() == gso);  // loopback segments fine: GSO stays on

        RecvBatch received(16, 65536);
        const auto got = receive(receiver, received, datagrams.size());
        REQUIRE(got.size() == datagrams.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
          CAPTURE(i);
          CHECK(got[i].data == datagrams[i]);
          CHECK(got[i].from == from);
        }
        CHECK(receiver.stats().receive_truncated == 0);
      }
    }
  }
}

TEST_CASE("UdpSocket batch: runs split by endpoint, size and the 64-segment and 65000-byte caps") {
  UdpSocket sender = open();
  UdpSocket a = open();
  UdpSocket b = open();
  REQUIRE(sender.gso());
  const Endpoint to_a = loopback4(a.port());
  const Endpoint to_b = loopback6(b.port());

  // 150 of 1400 bytes to a (more than 65000 bytes: several messages), then
  // interleavings, sizes that grow mid-run, an empty datagram, and 70 tiny
  // ones (more than 64 segments).
  struct Planned {
    bool to_a;
    std::vector<std::uint8_t> data;
  };
  std::vector<Planned> plan;
  std::size_t index = 0;
  for (int i = 0; i < 150; ++i)
    plan.push_back({true, numbered(index++, 1400, 1)});
  plan.push_back({false, numbered(index++, 300, 2)});
  plan.push_back({true, numbered(index++, 300, 3)});
  plan.push_back({true, numbered(index++, 600, 3)});  // larger than the run's first
  plan.push_back({true, numbered(index++, 600, 3)});
  plan.push_back({true, {}});
  plan.push_back({true, numbered(index++, 100, 4)});
  for (int i = 0; i < 70; ++i)
    plan.push_back({false, numbered(index++, 20, 6)});
  plan.push_back({false, numbered(index++, 19, 6)});
  plan.push_back({false, numbered(index++, 20, 6)});

  SendBatch batch(512);
  for (const auto& p : plan)
    REQUIRE(batch.add(p.to_a ? to_a : to_b, p.data));
  CHECK(sender.send(batch) == plan.size());
  CHECK(sender.stats().send_errors == 0);

  std::vector<std::vector<std::uint8_t>> want_a, want_b;
  for (const auto& p : plan)
    (p.to_a ? want_a : want_b).push_back(p.data);
  RecvBatch received(32, 65536);
  const auto got_a = receive(a, received, want_a.size());
  REQUIRE(got_a.size() == want_a.size());
  for (std::size_t i = 0; i < got_a.size(); ++i) {
    CAPTURE(i);
    CHECK(got_a[i].data == want_a[i]);
    CHECK(got_a[i].from == loopback4(sender.port()));
  }
  const auto got_b = receive(b, received, want_b.size());
  REQUIRE(got_b.size() == want_b.size());
  for (std::size_t i = 0; i < got_b.size(); ++i) {
    CAPTURE(i);
    CHECK(got_b[i].data == want_b[i]);
    CHECK(got_b[i].from == loopback6(sender.port()));
  }
}

TEST_CASE("UdpSocket batch: an unaddressable entry is counted, the rest still go") {
  UdpSocket socket = open();
  const std::vector<std::uint8_t> d = numbered(0, 64, 9);
  SendBatch batch(4);
  REQUIRE(batch.add(loopback4(socket.port()), d));
  REQUIRE(batch.add(Endpoint{}, d));  // no family
  REQUIRE(batch.add(loopback4(socket.port()), d));
  CHECK(socket.send(batch) == 2);
  CHECK(socket.stats().send_errors == 1);
  CHECK_FALSE(socket.send_one(Endpoint{}, d));
  CHECK(socket.stats().send_errors == 2);
  RecvBatch received(4, 2048);
  CHECK(receive(socket, received, 2).size() == 2);
}

TEST_CASE("SendBatch: add refuses when full; clear empties") {
  SendBatch batch(2);
  const std::array<std::uint8_t, 1> d{1};
  CHECK(batch.add(loopback4(1), d));
  CHECK_FALSE(batch.full());
  CHECK(batch.add(loopback4(1), d));
  CHECK(batch.full());
  CHECK_FALSE(batch.add(loopback4(1), d));
  CHECK(batch.size() == 2);
  batch.clear();
  CHECK(batch.size() == 0);
  CHECK(batch.add(loopback4(1), d));
}

TEST_CASE("UdpSocket: a datagram longer than the receive buffer is dropped and counted") {
  for (const bool gro : {true, false}) {
    CAPTURE(gro);
    UdpSocket socket = open(true, gro);
    RecvBatch small(4, 100);
    REQUIRE(socket.send_one(loopback4(socket.port()), numbered(0, 200, 1)));
    REQUIRE(socket.send_one(loopback4(socket.port()), numbered(1, 50, 1)));
    const auto got = receive(socket, small, 1);
    REQUIRE(got.size() == 1);
    CHECK(got[0].data == numbered(1, 50, 1));
    CHECK(socket.stats().receive_truncated == 1);
  }
}

TEST_CASE("UdpSocket: receive with nothing waiting returns 0 without blocking") {
  UdpSocket socket = open();
  RecvBatch batch(4, 2048);
  CHECK(socket.receive(batch) == 0);
  CHECK(batch.size() == 0);
}

TEST_CASE("UdpSocket moves its descriptor") {
  UdpSocket a = open();
  const int fd = a.fd();
  const std::uint16_t port = a.port();
  UdpSocket b(std::move(a));
  CHECK(a.fd() == -1);  // NOLINT(bugprone-use-after-move)
  CHECK(b.fd() == fd);
  CHECK(b.port() == port);
  UdpSocket c;
  c = std::move(b);
  CHECK(c.fd() == fd);
  CHECK(c.send_one(loopback4(port), numbered(0, 10, 0)));
  RecvBatch batch(2, 64);
  CHECK(receive(c, batch, 1).size() == 1);
}

TEST_CASE("UdpSocket: with GSO and GRO the run travels as one message, split on receipt") {
  for (const bool v6 : {false, true}) {
    CAPTURE(v6);
    UdpSocket sender = open(true, true);
    UdpSocket receiver = open(true, true);
    const Endpoint to = v6 ? loopback6(receiver.port()) : loopback4(receiver.port());
    std::vector<std::vector<std::uint8_t>> datagrams;
    for (std::size_t i = 0; i < 40; ++i)
      datagrams.push_back(numbered(i, 1200, 8));
    datagrams.push_back(numbered(40, 500, 8));
    SendBatch batch(64);
    for (const auto& d : datagrams)
      REQUIRE(batch.add(to, d));
    REQUIRE(sender.send(batch) == 41);
    // Loopback keeps the GSO message whole for a GRO socket: one buffer,
    // read by one receive() into a batch of a single message.
    RecvBatch one(1, 65536);
    pollfd p{receiver.fd(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, gw::test::hang_guard_ms(2000)) == 1);
    REQUIRE(receiver.receive(one) == 41);
    for (std::size_t i = 0; i < 41; ++i) {
      CAPTURE(i);
      CHECK(std::equal(one[i].data.begin(), one[i].data.end(), datagrams[i].begin(),
                       datagrams[i].end()));
    }
  }
}

TEST_CASE("UdpSocket: GSO segments above the path MTU go one by one, fragmented") {
  using gw::platform::Netlink;
  using gw::platform::Tun;
  // Segments larger than the route's MTU cannot go as one GSO message (the
  // kernel says EMSGSIZE, older ones EINVAL): the socket resends them one
  // per message, where IP fragments them, and loses nothing.
  const Tun tun = Tun::open({.name = "gwnogso0", .offloads = false});
  Netlink netlink;
  netlink.set_mtu(tun.ifindex(), 1000);
  netlink.add_address(tun.ifindex(), gw::platform::test::prefix("10.0.1.1/24"));
  netlink.set_up(tun.ifindex(), true);

  UdpSocket sender = open(true, true);
  REQUIRE(sender.gso());
  const Endpoint to = Endpoint::ipv4({10, 0, 1, 2}, 4242);
  std::vector<std::vector<std::uint8_t>> datagrams;
  for (std::size_t i = 0; i < 20; ++i)
    datagrams.push_back(numbered(i, 1200, 2));
  datagrams.push_back(numbered(20, 10, 2));
  SendBatch batch(32);
  for (const auto& d : datagrams)
    REQUIRE(batch.add(to, d));
  CHECK(sender.send(batch) == datagrams.size());
  CHECK(sender.stats().send_errors == 0);
  CHECK(sender.stats().send_dropped == 0);

  // Each datagram reaches the TUN as its own IPv4 packet (the large ones in
  // fragments), in order: check the first fragment of each.
  std::vector<std::uint8_t> buffer(70000);
  std::size_t seen = 0;
  for (int reads = 0; reads < 200 && seen < datagrams.size(); ++reads) {
    pollfd p{tun.fd(), POLLIN, 0};
    if (::poll(&p, 1, gw::test::hang_guard_ms(2000)) <= 0) break;
    const ssize_t n = tun.read(buffer);
    if (n < 28) continue;
    const std::uint8_t* ip = buffer.data();
    if ((ip[0] >> 4) != 4 || ip[9] != 17) continue;  // not IPv4 UDP (e.g. IPv6 chatter)
    if ((gw::platform::test::get16(ip + 6) & 0x1fff) != 0) continue;  // a later fragment
    CAPTURE(seen);
    REQUIRE(seen < datagrams.size());
    const auto& want = datagrams[seen];
    CHECK(gw::platform::test::get16(ip + 24) == want.size() + 8);  // the UDP length
    CHECK(static_cast<std::size_t>(n) <= 1000);
    const std::size_t carried = static_cast<std::size_t>(n) - 28;
    CHECK(std::equal(ip + 28, ip + n, want.begin(), want.begin() + carried));
    ++seen;
  }
  CHECK(seen == datagrams.size());
}

TEST_CASE("UdpSocket: a socket that refuses GSO (EINVAL) turns it off and loses nothing") {
  // Without UDP checksums (SO_NO_CHECK) the kernel refuses segmentation offload.
  UdpSocket sender = open(true, true);
  UdpSocket receiver = open(true, true);
  REQUIRE(sender.gso());
  const int on = 1;
  REQUIRE(::setsockopt(sender.fd(), SOL_SOCKET, SO_NO_CHECK, &on, sizeof on) == 0);
  const Endpoint to = loopback4(receiver.port());
  std::vector<std::vector<std::uint8_t>> datagrams;
  datagrams.push_back(numbered(0, 10, 4));  // a lone datagram first: no GSO needed
  for (std::size_t i = 1; i < 31; ++i)
    datagrams.push_back(numbered(i, 1100, 4));
  datagrams.push_back(numbered(31, 30, 4));
  SendBatch batch(64);
  for (const auto& d : datagrams)
    REQUIRE(batch.add(to, d));
  CHECK(sender.send(batch) == datagrams.size());
  CHECK_FALSE(sender.gso());
  CHECK(sender.stats().send_errors == 0);

  RecvBatch received(16, 65536);
  const auto got = receive(receiver, received, datagrams.size());
  REQUIRE(got.size() == datagrams.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i].data == datagrams[i]);
  }
}
