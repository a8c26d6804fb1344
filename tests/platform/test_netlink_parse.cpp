// SPDX-License-Identifier: MIT
// The rtnetlink reply parser on hand-made bytes: ends, errors, stale
// sequence numbers, dumps, and malformed input.
#include <doctest/doctest.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "../../src/platform/netlink_parse.hpp"
#include "support.hpp"

namespace nl = gw::platform::nl;
using gw::platform::Rule;
using gw::platform::test::prefix;
using gw::routing::Family;

namespace {

class Builder {
 public:
  // Starts a message; attributes and fixed parts follow until the next one.
  Builder& message(std::uint16_t type, std::uint32_t seq, std::uint16_t flags = 0) {
    start_ = bytes_.size();
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_seq = seq;
    h.nlmsg_flags = flags;
    append(&h, sizeof h);
    finish();
    return *this;
  }
  template <class T>
  Builder& fixed(const T& value) {
    append(&value, sizeof value);
    finish();
    return *this;
  }
  Builder& attribute(std::uint16_t type, const void* value, std::size_t size) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<unsigned short>(sizeof a + size);
    append(&a, sizeof a);
    append(value, size);
    finish();
    return *this;
  }
  Builder& u32(std::uint16_t type, std::uint32_t value) {
    return attribute(type, &value, sizeof value);
  }
  gw::Bytes bytes() const { return bytes_; }
  std::vector<std::uint8_t>& raw() { return bytes_; }

 private:
  void append(const void* data, std::size_t size) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + ((size + 3) & ~std::size_t{3}), 0);
    std::memcpy(bytes_.data() + at, data, size);
  }
  void finish() {
    const auto length = static_cast<std::uint32_t>(bytes_.size() - start_);
    std::memcpy(bytes_.data() + start_, &length, sizeof length);
  }
  std::vector<std::uint8_t> bytes_;
  std::size_t start_ = 0;
};

Builder& error(Builder& b, std::uint32_t seq, int code) {
  nlmsgerr e{};
  e.error = code;
  return b.message(NLMSG_ERROR, seq).fixed(e);
}

}  // namespace

TEST_CASE("parse_ack: the ACK or error of the right sequence number ends the exchange") {
  Builder ack;
  error(ack, 5, 0);
  CHECK(nl::parse_ack(ack.bytes(), 5).status == nl::Status::done);
  CHECK(nl::parse_ack(ack.bytes(), 6).status == nl::Status::more);  // stale: skipped

  Builder refused;
  error(refused, 4, 0);  // an old ACK first
  error(refused, 5, -EEXIST);
  const nl::Result r = nl::parse_ack(refused.bytes(), 5);
  CHECK(r.status == nl::Status::error);
  CHECK(r.error == EEXIST);

  CHECK(nl::parse_ack({}, 1).status == nl::Status::more);
}

TEST_CASE("parse_ack: malformed bytes are an error, never a read past the end") {
  Builder ack;
  error(ack, 5, 0);
  std::vector<std::uint8_t> bytes = ack.raw();
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    CAPTURE(cut);
    const nl::Result r = nl::parse_ack(gw::Bytes(bytes.data(), cut), 5);
    CHECK(r.status == nl::Status::error);
    CHECK(r.error == EBADMSG);
  }
  std::uint32_t huge = 0xffffffff;
  std::memcpy(bytes.data(), &huge, sizeof huge);
  CHECK(nl::parse_ack(bytes, 5).error == EBADMSG);
  Builder odd;
  error(odd, 5, 1);  // a positive error code is not one the kernel sends
  CHECK(nl::parse_ack(odd.bytes(), 5).error == EBADMSG);
}

TEST_CASE("parse_addresses: IPv4 local address, IPv6 address, other families skipped") {
  Builder b;
  ifaddrmsg a4{};
  a4.ifa_family = AF_INET;
  a4.ifa_prefixlen = 24;
  a4.ifa_index = 7;
  const std::uint8_t peer[4] = {10, 0, 0, 9}, local[4] = {10, 0, 0, 1};
  b.message(RTM_NEWADDR, 3, NLM_F_MULTI)
      .fixed(a4)
      .attribute(IFA_ADDRESS, peer, 4)
      .attribute(IFA_LOCAL, local, 4);
  ifaddrmsg a6{};
  a6.ifa_family = AF_INET6;
  a6.ifa_prefixlen = 64;
  a6.ifa_index = 8;
  const auto v6 = prefix("fd00::5/64");
  b.message(RTM_NEWADDR, 3, NLM_F_MULTI).fixed(a6).attribute(IFA_ADDRESS, v6.address.data(), 16);
  ifaddrmsg other{};
  other.ifa_family = AF_PACKET;
  b.message(RTM_NEWADDR, 3, NLM_F_MULTI).fixed(other).attribute(IFA_ADDRESS, local, 4);

  std::vector<nl::AddressEntry> out;
  CHECK(nl::parse_addresses(b.bytes(), 3, out).status == nl::Status::more);
  REQUIRE(out.size() == 2);
  CHECK(out[0] == nl::AddressEntry{7, prefix("10.0.0.1/24")});
  CHECK(out[1] == nl::AddressEntry{8, v6});

  Builder done;
  done.message(NLMSG_DONE, 3).u32(0, 0);
  CHECK(nl::parse_addresses(done.bytes(), 3, out).status == nl::Status::done);
}

TEST_CASE("parse_routes: destination, table attribute over header, default route") {
  Builder b;
  rtmsg r{};
  r.rtm_family = AF_INET;
  r.rtm_dst_len = 16;
  r.rtm_table = RT_TABLE_UNSPEC;
  r.rtm_type = RTN_UNICAST;
  r.rtm_protocol = 103;
  const std::uint8_t dst[4] = {10, 78, 0, 0};
  b.message(RTM_NEWROUTE, 9, NLM_F_MULTI | NLM_F_DUMP_INTR)
      .fixed(r)
      .attribute(RTA_DST, dst, 4)
      .u32(RTA_OIF, 4)
      .u32(RTA_TABLE, 51820);
  rtmsg d{};
  d.rtm_family = AF_INET6;
  d.rtm_table = RT_TABLE_MAIN;
  d.rtm_type = RTN_UNICAST;
  b.message(RTM_NEWROUTE, 9, NLM_F_MULTI).fixed(d).u32(RTA_OIF, 5);
  b.message(NLMSG_DONE, 9).u32(0, 0);

  std::vector<nl::RouteEntry> out;
  const nl::Result result = nl::parse_routes(b.bytes(), 9, out);
  CHECK(result.status == nl::Status::done);
  CHECK(result.interrupted);
  REQUIRE(out.size() == 2);
  CHECK(out[0] == nl::RouteEntry{4, 51820, RTN_UNICAST, prefix("10.78.0.0/16"), 103});
  CHECK(out[1] == nl::RouteEntry{5, RT_TABLE_MAIN, RTN_UNICAST, prefix("::/0"), 0});
}

TEST_CASE("parse_rules: what a Rule expresses, and nothing it cannot") {
  Builder b;
  fib_rule_hdr h{};
  h.family = AF_INET;
  h.table = RT_TABLE_UNSPEC;
  h.action = FR_ACT_TO_TBL;
  h.flags = FIB_RULE_INVERT;
  b.message(RTM_NEWRULE, 2, NLM_F_MULTI)
      .fixed(h)
      .u32(FRA_PRIORITY, 1000)
      .u32(FRA_TABLE, 51820)
      .u32(FRA_FWMARK, 0xca6c)
      .u32(FRA_FWMASK, 0xffffffff);
  fib_rule_hdr s{};
  s.family = AF_INET6;
  s.table = RT_TABLE_MAIN;
  s.action = FR_ACT_TO_TBL;
  const std::uint8_t gw_protocol = 103;
  b.message(RTM_NEWRULE, 2, NLM_F_MULTI)
      .fixed(s)
      .u32(FRA_PRIORITY, 1001)
      .u32(FRA_TABLE, RT_TABLE_MAIN)
      .u32(FRA_SUPPRESS_PREFIXLEN, 0)
      .attribute(FRA_PROTOCOL, &gw_protocol, 1);
  // Skipped: a partial mark mask, a source selector, a non-table action.
  b.message(RTM_NEWRULE, 2, NLM_F_MULTI)
      .fixed(h)
      .u32(FRA_TABLE, 7)
      .u32(FRA_FWMARK, 1)
      .u32(FRA_FWMASK, 0xff);
  fib_rule_hdr src = h;
  src.src_len = 8;
  b.message(RTM_NEWRULE, 2, NLM_F_MULTI).fixed(src).u32(FRA_TABLE, 7);
  b.message(RTM_NEWRULE, 2, NLM_F_MULTI).fixed(h).u32(FRA_TABLE, 7).u32(FRA_IIFNAME, 0);
  fib_rule_hdr blackhole = h;
  blackhole.action = FR_ACT_BLACKHOLE;
  b.message(RTM_NEWRULE, 2, NLM_F_MULTI).fixed(blackhole);

  std::vector<Rule> out;
  CHECK(nl::parse_rules(b.bytes(), 2, out).status == nl::Status::more);
  REQUIRE(out.size() == 2);
  CHECK(out[0] == Rule{Family::v4, 1000, 51820, 0xca6cu, true, std::nullopt});
  CHECK(out[1] == Rule{Family::v6, 1001, RT_TABLE_MAIN, std::nullopt, false, 0, 103});
}

TEST_CASE("parse_rules: a malformed attribute is an error") {
  Builder b;
  fib_rule_hdr h{};
  h.family = AF_INET;
  h.action = FR_ACT_TO_TBL;
  b.message(RTM_NEWRULE, 2).fixed(h).u32(FRA_TABLE, 9);
  std::vector<std::uint8_t>& raw = b.raw();
  // Claim the last attribute runs past its message.
  const std::size_t at = raw.size() - 8;
  const unsigned short bad = 64;
  std::memcpy(raw.data() + at, &bad, sizeof bad);
  std::vector<Rule> out;
  CHECK(nl::parse_rules(raw, 2, out).error == EBADMSG);
  CHECK(out.empty());
}
