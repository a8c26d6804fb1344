// SPDX-License-Identifier: MIT
#include "netlink_parse.hpp"

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace gw::platform::nl {

namespace {

constexpr std::size_t align4(std::size_t n) noexcept {
  return (n + 3) & ~std::size_t{3};
}
constexpr std::size_t kHeaderLength = align4(sizeof(nlmsghdr));
constexpr std::size_t kAttributeHeader = align4(sizeof(rtattr));

template <class T>
T read_as(Bytes bytes) noexcept {
  T value{};
  std::memcpy(&value, bytes.data(), sizeof value);
  return value;
}

Result malformed() noexcept {
  return {Status::error, EBADMSG, false};
}

// Calls on(type, payload) for every message of `seq` that is neither an end
// nor an error; `on` returns false to stop at a malformed message.
template <class OnMessage>
Result walk(Bytes datagram, std::uint32_t seq, OnMessage&& on) {
  Result result;
  std::size_t offset = 0;
  while (offset < datagram.size()) {
    const std::size_t left = datagram.size() - offset;
    if (left < sizeof(nlmsghdr)) return malformed();
    const auto header = read_as<nlmsghdr>(datagram.subspan(offset));
    if (header.nlmsg_len < kHeaderLength || header.nlmsg_len > left) return malformed();
    const Bytes payload =
        datagram.subspan(offset + kHeaderLength, header.nlmsg_len - kHeaderLength);
    offset += std::min(align4(header.nlmsg_len), left);
    if (header.nlmsg_seq != seq) continue;
    if ((header.nlmsg_flags & NLM_F_DUMP_INTR) != 0) result.interrupted = true;
    switch (header.nlmsg_type) {
      case NLMSG_NOOP:
        continue;
      case NLMSG_OVERRUN:
        return {Status::error, EOVERFLOW, result.interrupted};
      case NLMSG_ERROR: {
        if (payload.size() < sizeof(int)) return malformed();
        const int error = read_as<int>(payload);
        if (error == 0) return {Status::done, 0, result.interrupted};
        if (error < 0 && error > -4096) return {Status::error, -error, result.interrupted};
        return malformed();
      }
      case NLMSG_DONE: {
        // The payload, when there is one, is the dump's own error code.
        if (payload.size() >= sizeof(int)) {
          const int error = read_as<int>(payload);
          if (error < 0 && error > -4096) return {Status::error, -error, result.interrupted};
        }
        return {Status::done, 0, result.interrupted};
      }
      default:
        if (!on(header.nlmsg_type, payload)) return malformed();
    }
  }
  return result;
}

// Calls on(type, value) for every attribute after a fixed header of
// `fixed` bytes; false when the attributes are malformed.
template <class OnAttribute>
bool attributes(Bytes payload, std::size_t fixed, OnAttribute&& on) {
  std::size_t offset = align4(fixed);
  if (payload.size() < fixed) return false;
  while (offset < payload.size()) {
    const std::size_t left = payload.size() - offset;
    if (left < sizeof(rtattr)) return false;
    const auto attribute = read_as<rtattr>(payload.subspan(offset));
    if (attribute.rta_len < kAttributeHeader || attribute.rta_len > left) return false;
    const Bytes value =
        payload.subspan(offset + kAttributeHeader, attribute.rta_len - kAttributeHeader);
    on(static_cast<unsigned>(attribute.rta_type & NLA_TYPE_MASK), value);
    offset += std::min(align4(attribute.rta_len), left);
  }
  return true;
}

std::optional<routing::Family> family_of(std::uint8_t af) noexcept {
  if (af == AF_INET) return routing::Family::v4;
  if (af == AF_INET6) return routing::Family::v6;
  return std::nullopt;
}

std::optional<std::uint32_t> u32(Bytes value) noexcept {
  if (value.size() < sizeof(std::uint32_t)) return std::nullopt;
  return read_as<std::uint32_t>(value);
}

}  // namespace

Result parse_ack(Bytes datagram, std::uint32_t seq) noexcept {
  // Anything but the end of `seq` is of no interest here.
  return walk(datagram, seq, [](std::uint16_t, Bytes) noexcept { return true; });
}

Result parse_addresses(Bytes datagram, std::uint32_t seq, std::vector<AddressEntry>& out) {
  return walk(datagram, seq, [&](std::uint16_t type, Bytes payload) {
    if (type != RTM_NEWADDR) return true;
    if (payload.size() < sizeof(ifaddrmsg)) return false;
    const auto header = read_as<ifaddrmsg>(payload);
    const auto family = family_of(header.ifa_family);
    std::optional<Bytes> local, address;
    const bool ok = attributes(payload, sizeof(ifaddrmsg), [&](unsigned attribute, Bytes value) {
      if (attribute == IFA_LOCAL) local = value;
      if (attribute == IFA_ADDRESS) address = value;
    });
    if (!ok) return false;
    if (!family) return true;
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's
    // on a point-to-point link, else the same address (IPv6 sends it alone).
    const std::optional<Bytes> mine = local ? local : address;
    if (!mine) return true;
    const auto prefix = routing::Prefix::from_bytes(*mine, header.ifa_prefixlen);
    if (!prefix || prefix->family != *family) return true;
    out.push_back({header.ifa_index, *prefix});
    return true;
  });
}

Result parse_routes(Bytes datagram, std::uint32_t seq, std::vector<RouteEntry>& out) {
  return walk(datagram, seq, [&](std::uint16_t type, Bytes payload) {
    if (type != RTM_NEWROUTE) return true;
    if (payload.size() < sizeof(rtmsg)) return false;
    const auto header = read_as<rtmsg>(payload);
    const auto family = family_of(header.rtm_family);
    RouteEntry entry;
    entry.table = header.rtm_table;
    entry.type = header.rtm_type;
    entry.protocol = header.rtm_protocol;
    std::optional<Bytes> destination;
    const bool ok = attributes(payload, sizeof(rtmsg), [&](unsigned attribute, Bytes value) {
      if (attribute == RTA_DST) destination = value;
      if (attribute == RTA_OIF) entry.oif = u32(value).value_or(0);
      if (attribute == RTA_TABLE) entry.table = u32(value).value_or(entry.table);
    });
    if (!ok) return false;
    if (!family) return true;
    const std::size_t width = routing::address_bits(*family) / 8;
    std::array<std::uint8_t, 16> zero{};
    const Bytes address = destination ? *destination : Bytes(zero.data(), width);
    const auto prefix = routing::Prefix::from_bytes(address, header.rtm_dst_len);
    if (!prefix || prefix->family != *family) return true;
    entry.destination = *prefix;
    out.push_back(entry);
    return true;
  });
}

Result parse_rules(Bytes datagram, std::uint32_t seq, std::vector<Rule>& out) {
  return walk(datagram, seq, [&](std::uint16_t type, Bytes payload) {
    if (type != RTM_NEWRULE) return true;
    if (payload.size() < sizeof(fib_rule_hdr)) return false;
    const auto header = read_as<fib_rule_hdr>(payload);
    const auto family = family_of(header.family);
    Rule rule;
    rule.table = header.table;
    rule.invert = (header.flags & FIB_RULE_INVERT) != 0;
    std::optional<std::uint32_t> mark, mask;
    bool expressible = header.action == FR_ACT_TO_TBL && header.dst_len == 0 &&
                       header.src_len == 0 && header.tos == 0;
    const bool ok = attributes(payload, sizeof(fib_rule_hdr), [&](unsigned attribute, Bytes value) {
      switch (attribute) {
        case FRA_PRIORITY:
          rule.priority = u32(value).value_or(0);
          break;
        case FRA_TABLE:
          rule.table = u32(value).value_or(rule.table);
          break;
        case FRA_FWMARK:
          mark = u32(value);
          break;
        case FRA_FWMASK:
          mask = u32(value);
          break;
        case FRA_SUPPRESS_PREFIXLEN: {
          const auto length = u32(value);
          if (length && *length <= 128) {
            rule.suppress_prefixlength = static_cast<std::uint8_t>(*length);
          }
          break;
        }
        case FRA_PROTOCOL:
          if (!value.empty()) rule.protocol = value[0];
          break;
        case FRA_UNSPEC:
        case FRA_PAD:
          break;
        default:  // a selector a Rule cannot express: source, interface, ports...
          expressible = false;
      }
    });
    if (!ok) return false;
    if (!family || !expressible) return true;
    if (mask && *mask != 0xffffffffu) return true;
    if (mark || mask) rule.fwmark = mark.value_or(0);
    rule.family = *family;
    out.push_back(rule);
    return true;
  });
}

}  // namespace gw::platform::nl
