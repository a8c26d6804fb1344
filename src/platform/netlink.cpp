// SPDX-License-Identifier: MIT
#include "gw/platform/netlink.hpp"

#include <arpa/inet.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <system_error>
#include <utility>

#include "netlink_parse.hpp"

namespace gw::platform {

namespace {

std::string device_name(unsigned ifindex) {
  return Netlink::device_name(ifindex);
}

constexpr std::size_t align4(std::size_t n) noexcept {
  return (n + 3) & ~std::size_t{3};
}

static_assert(kProtocolUnspec == RTPROT_UNSPEC && kProtocolKernel == RTPROT_KERNEL &&
              kProtocolStatic == RTPROT_STATIC);

constexpr std::size_t kReceiveBuffer = 64 * 1024;
constexpr int kReplyTimeoutSeconds = 5;
constexpr int kDumpAttempts = 5;  // retries of a dump torn by a concurrent change

// One rtnetlink request: a header, a fixed message and attributes.
constexpr std::size_t kRequestRoom = 256;
class Request {
 public:
  Request(std::uint16_t type, std::uint16_t flags) {
    // Room for every request gw makes, reserved at once: growing from the
    // header's 16 bytes trips a false -Warray-bounds in g++ 12 at -O3.
    bytes_.reserve(kRequestRoom);
    bytes_.resize(align4(sizeof(nlmsghdr)), 0);
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = static_cast<std::uint16_t>(flags | NLM_F_REQUEST);
    std::memcpy(bytes_.data(), &header, sizeof header);
  }

  template <class T>
  void fixed(const T& value) {
    append(&value, sizeof value);
  }
  void attribute(std::uint16_t type, const void* value, std::size_t size) {
    rtattr header{};
    header.rta_type = type;
    header.rta_len = static_cast<unsigned short>(align4(sizeof(rtattr)) + size);
    append(&header, sizeof header);
    append(value, size);
  }
  void attribute_u32(std::uint16_t type, std::uint32_t value) {
    attribute(type, &value, sizeof value);
  }
  void attribute_address(std::uint16_t type, const routing::Prefix& prefix) {
    attribute(type, prefix.address.data(), routing::address_bits(prefix.family) / 8);
  }

  // The finished message, numbered `seq`.
  Bytes finish(std::uint32_t seq) {
    nlmsghdr header{};
    std::memcpy(&header, bytes_.data(), sizeof header);
    header.nlmsg_len = static_cast<std::uint32_t>(bytes_.size());
    header.nlmsg_seq = seq;
    std::memcpy(bytes_.data(), &header, sizeof header);
    return bytes_;
  }

 private:
  void append(const void* data, std::size_t size) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + align4(size), 0);
    if (size != 0) std::memcpy(bytes_.data() + at, data, size);
  }

  std::vector<std::uint8_t> bytes_;
};

std::uint8_t address_family(routing::Family family) noexcept {
  return family == routing::Family::v4 ? AF_INET : AF_INET6;
}

std::string table_name(std::uint32_t table) {
  switch (table) {
    case RT_TABLE_MAIN:
      return "main";
    case RT_TABLE_LOCAL:
      return "local";
    case RT_TABLE_DEFAULT:
      return "default";
    default:
      return std::to_string(table);
  }
}

std::string describe(const Rule& rule) {
  std::string text = rule.family == routing::Family::v4 ? "ipv4" : "ipv6";
  if (rule.priority != 0) text += " priority " + std::to_string(rule.priority);
  if (rule.invert) text += " not";
  if (rule.fwmark) {
    char mark[16];
    std::snprintf(mark, sizeof mark, "0x%x", *rule.fwmark);
    text += std::string(" fwmark ") + mark;
  }
  text += " lookup " + table_name(rule.table);
  if (rule.suppress_prefixlength) {
    text += " suppress_prefixlength " + std::to_string(*rule.suppress_prefixlength);
  }
  if (rule.protocol != kProtocolUnspec) text += " proto " + std::to_string(rule.protocol);
  return text;
}

[[noreturn]] void fail(const std::string& what, int error) {
  throw NetlinkError(what + ": " + std::strerror(error), error);
}

// The socket round trip: send one request, read replies until its end.
// `parse(datagram, seq)` consumes each datagram and says how it ended.
template <class Parse>
nl::Result exchange(int fd, std::uint32_t seq, Request& request, const std::string& what,
                    Parse&& parse) {
  const Bytes message = request.finish(seq);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  while (true) {
    const ssize_t sent = ::sendto(fd, message.data(), message.size(), 0,
                                  reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
    if (sent >= 0) break;
    if (errno != EINTR) fail(what + " (send)", errno);
  }
  std::vector<std::uint8_t> buffer(kReceiveBuffer);
  bool interrupted = false;
  while (true) {
    sockaddr_nl from{};
    iovec iov{buffer.data(), buffer.size()};
    msghdr header{};
    header.msg_name = &from;
    header.msg_namelen = sizeof from;
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    const ssize_t got = ::recvmsg(fd, &header, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) fail(what + " (no reply)", ETIMEDOUT);
      fail(what + " (receive)", errno);
    }
    if ((header.msg_flags & MSG_TRUNC) != 0) fail(what + " (reply too long)", EMSGSIZE);
    if (from.nl_pid != 0) continue;  // not from the kernel
    const nl::Result result = parse(Bytes(buffer.data(), static_cast<std::size_t>(got)), seq);
    interrupted = interrupted || result.interrupted;
    if (result.status == nl::Status::error) fail(what, result.error);
    if (result.status == nl::Status::done) return {nl::Status::done, 0, interrupted};
  }
}

}  // namespace

Netlink::Netlink() {
  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket NETLINK_ROUTE");
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "bind NETLINK_ROUTE");
  }
  // A reply never takes this long; a missing one must not hang the daemon.
  timeval timeout{kReplyTimeoutSeconds, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  // Errors need not echo the whole request back.
  const int on = 1;
  ::setsockopt(fd_, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
}

Netlink::~Netlink() {
  if (fd_ >= 0) ::close(fd_);
}

unsigned Netlink::ifindex(const std::string& name) const {
  const unsigned index = if_nametoindex(name.c_str());
  if (index == 0) {
    const int error = errno == 0 ? ENODEV : errno;
    fail("interface '" + name + "'", error);
  }
  return index;
}

void Netlink::set_mtu(unsigned ifindex, unsigned mtu) {
  Request request(RTM_NEWLINK, NLM_F_ACK);
  ifinfomsg link{};
  link.ifi_family = AF_UNSPEC;
  link.ifi_index = static_cast<int>(ifindex);
  request.fixed(link);
  request.attribute_u32(IFLA_MTU, mtu);
  const std::string what = "set mtu " + std::to_string(mtu) + " dev " + device_name(ifindex);
  exchange(fd_, ++seq_, request, what, nl::parse_ack);
}

void Netlink::set_up(unsigned ifindex, bool up) {
  Request request(RTM_NEWLINK, NLM_F_ACK);
  ifinfomsg link{};
  link.ifi_family = AF_UNSPEC;
  link.ifi_index = static_cast<int>(ifindex);
  link.ifi_flags = up ? static_cast<unsigned>(IFF_UP) : 0u;
  link.ifi_change = static_cast<unsigned>(IFF_UP);
  request.fixed(link);
  const std::string what =
      std::string("set link ") + (up ? "up" : "down") + " dev " + device_name(ifindex);
  exchange(fd_, ++seq_, request, what, nl::parse_ack);
}

namespace {

Request address_request(std::uint16_t type, std::uint16_t flags, unsigned ifindex,
                        const routing::Prefix& address) {
  Request request(type, flags);
  ifaddrmsg header{};
  header.ifa_family = address_family(address.family);
  header.ifa_prefixlen = address.length;
  header.ifa_scope = RT_SCOPE_UNIVERSE;
  header.ifa_index = ifindex;
  if (address.family == routing::Family::v6) header.ifa_flags = IFA_F_NODAD;
  request.fixed(header);
  request.attribute_address(IFA_LOCAL, address);
  request.attribute_address(IFA_ADDRESS, address);
  if (address.family == routing::Family::v6) {
    request.attribute_u32(IFA_FLAGS, IFA_F_NODAD);
  } else if (type == RTM_NEWADDR && address.length <= 30) {
    routing::Prefix broadcast = address;
    for (unsigned bit = address.length; bit < 32; ++bit) {
      broadcast.address[bit / 8] =
          static_cast<std::uint8_t>(broadcast.address[bit / 8] | (0x80u >> (bit % 8)));
    }
    request.attribute_address(IFA_BROADCAST, broadcast);
  }
  return request;
}

}  // namespace

void Netlink::add_address(unsigned ifindex, const routing::Prefix& address) {
  Request request =
      address_request(RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ifindex, address);
  exchange(fd_, ++seq_, request,
           "add address " + address.to_string() + " dev " + device_name(ifindex), nl::parse_ack);
}

void Netlink::remove_address(unsigned ifindex, const routing::Prefix& address) {
  Request request = address_request(RTM_DELADDR, NLM_F_ACK, ifindex, address);
  exchange(fd_, ++seq_, request,
           "remove address " + address.to_string() + " dev " + device_name(ifindex), nl::parse_ack);
}

namespace {

// Runs a dump, again when a concurrent change tore it, and returns its entries.
template <class Entry, class Parse>
std::vector<Entry> dump(int fd, std::uint32_t& seq, const std::function<Request()>& make,
                        const std::string& what, Parse parse) {
  std::vector<Entry> entries;
  for (int attempt = 0;; ++attempt) {
    entries.clear();
    Request request = make();
    const nl::Result result =
        exchange(fd, ++seq, request, what,
                 [&](Bytes datagram, std::uint32_t s) { return parse(datagram, s, entries); });
    if (!result.interrupted || attempt + 1 >= kDumpAttempts) return entries;
  }
}

}  // namespace

namespace {

std::vector<nl::AddressEntry> dump_addresses(int fd, std::uint32_t& seq) {
  return dump<nl::AddressEntry>(
      fd, seq,
      [] {
        Request request(RTM_GETADDR, NLM_F_DUMP);
        ifaddrmsg header{};
        header.ifa_family = AF_UNSPEC;
        request.fixed(header);
        return request;
      },
      "list addresses", nl::parse_addresses);
}

}  // namespace

std::vector<routing::Prefix> Netlink::addresses(unsigned ifindex) {
  std::vector<routing::Prefix> result;
  for (const auto& entry : dump_addresses(fd_, seq_)) {
    if (entry.ifindex == ifindex) result.push_back(entry.prefix);
  }
  return result;
}

std::vector<routing::Prefix> Netlink::all_addresses() {
  std::vector<routing::Prefix> result;
  for (const auto& entry : dump_addresses(fd_, seq_))
    result.push_back(entry.prefix);
  return result;
}

namespace {

Request route_request(std::uint16_t type, std::uint16_t flags, unsigned ifindex,
                      const routing::Prefix& destination, std::uint32_t table,
                      std::uint8_t protocol) {
  const bool add = type == RTM_NEWROUTE;
  Request request(type, flags);
  rtmsg header{};
  header.rtm_family = address_family(destination.family);
  header.rtm_dst_len = destination.length;
  header.rtm_table = table < 256 ? static_cast<std::uint8_t>(table) : std::uint8_t{RT_TABLE_UNSPEC};
  // A removal matches any scope, and any protocol when it names none, as
  // `ip route del` does.
  header.rtm_protocol = protocol;
  header.rtm_scope = add ? std::uint8_t{RT_SCOPE_LINK} : std::uint8_t{RT_SCOPE_NOWHERE};
  header.rtm_type = RTN_UNICAST;
  request.fixed(header);
  if (destination.length != 0) request.attribute_address(RTA_DST, destination);
  request.attribute_u32(RTA_OIF, ifindex);
  request.attribute_u32(RTA_TABLE, table);
  return request;
}

std::string route_text(const char* verb, unsigned ifindex, const routing::Prefix& destination,
                       std::uint32_t table) {
  return std::string(verb) + " route " + destination.to_string() + " dev " + device_name(ifindex) +
         " table " + table_name(table);
}

}  // namespace

void Netlink::add_route(unsigned ifindex, const routing::Prefix& destination, std::uint32_t table,
                        std::uint8_t protocol) {
  const routing::Prefix masked = destination.masked();
  Request request = route_request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, ifindex,
                                  masked, table, protocol);
  exchange(fd_, ++seq_, request, route_text("add", ifindex, masked, table), nl::parse_ack);
}

void Netlink::remove_route(unsigned ifindex, const routing::Prefix& destination,
                           std::uint32_t table, std::uint8_t protocol) {
  const routing::Prefix masked = destination.masked();
  Request request = route_request(RTM_DELROUTE, NLM_F_ACK, ifindex, masked, table, protocol);
  exchange(fd_, ++seq_, request, route_text("remove", ifindex, masked, table), nl::parse_ack);
}

std::vector<routing::Prefix> Netlink::routes(unsigned ifindex, std::uint32_t table) {
  std::vector<routing::Prefix> result;
  for (const DeviceRoute& r : table_routes(table)) {
    if (r.ifindex == ifindex) result.push_back(r.destination);
  }
  return result;
}

std::vector<Netlink::DeviceRoute> Netlink::table_routes(std::uint32_t table) {
  std::vector<DeviceRoute> result;
  for (const std::uint8_t family : {std::uint8_t{AF_INET}, std::uint8_t{AF_INET6}}) {
    const auto entries = dump<nl::RouteEntry>(
        fd_, seq_,
        [family] {
          Request request(RTM_GETROUTE, NLM_F_DUMP);
          rtmsg header{};
          header.rtm_family = family;
          request.fixed(header);
          return request;
        },
        "list routes table " + table_name(table), nl::parse_routes);
    for (const auto& entry : entries) {
      if (entry.table == table && entry.type == RTN_UNICAST) {
        result.push_back({entry.destination, entry.oif, entry.protocol});
      }
    }
  }
  return result;
}

namespace {

Request rule_request(std::uint16_t type, std::uint16_t flags, const Rule& rule) {
  Request request(type, flags);
  fib_rule_hdr header{};
  header.family = address_family(rule.family);
  header.table =
      rule.table < 256 ? static_cast<std::uint8_t>(rule.table) : std::uint8_t{RT_TABLE_UNSPEC};
  header.action = FR_ACT_TO_TBL;
  header.flags = rule.invert ? FIB_RULE_INVERT : 0u;
  request.fixed(header);
  if (rule.priority != 0) request.attribute_u32(FRA_PRIORITY, rule.priority);
  request.attribute_u32(FRA_TABLE, rule.table);
  if (rule.fwmark) {
    request.attribute_u32(FRA_FWMARK, *rule.fwmark);
    request.attribute_u32(FRA_FWMASK, 0xffffffffu);
  }
  if (rule.suppress_prefixlength) {
    request.attribute_u32(FRA_SUPPRESS_PREFIXLEN, *rule.suppress_prefixlength);
  }
  if (rule.protocol != kProtocolUnspec) request.attribute(FRA_PROTOCOL, &rule.protocol, 1);
  return request;
}

}  // namespace

void Netlink::add_rule(const Rule& rule) {
  Request request = rule_request(RTM_NEWRULE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, rule);
  exchange(fd_, ++seq_, request, "add rule " + describe(rule), nl::parse_ack);
}

void Netlink::remove_rule(const Rule& rule) {
  Request request = rule_request(RTM_DELRULE, NLM_F_ACK, rule);
  exchange(fd_, ++seq_, request, "remove rule " + describe(rule), nl::parse_ack);
}

std::vector<Rule> Netlink::rules(routing::Family family) {
  const std::uint8_t af = address_family(family);
  return dump<Rule>(
      fd_, seq_,
      [af] {
        Request request(RTM_GETRULE, NLM_F_DUMP);
        fib_rule_hdr header{};
        header.family = af;
        request.fixed(header);
        return request;
      },
      std::string("list rules ") + (family == routing::Family::v4 ? "ipv4" : "ipv6"),
      nl::parse_rules);
}

std::string Netlink::device_name(unsigned ifindex) {
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(ifindex, name) != nullptr) return name;
  return "ifindex " + std::to_string(ifindex);
}

}  // namespace gw::platform
