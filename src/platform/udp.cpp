// SPDX-License-Identifier: MIT
#include "gw/platform/udp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

namespace gw::platform {

namespace {

using Clock = std::chrono::steady_clock;
using session::Endpoint;

// At most this many datagrams (UDP_MAX_SEGMENTS before Linux 6.13) and
// payload bytes go in one GSO message.
constexpr std::size_t kMaxSegments = 64;
constexpr std::size_t kMaxGsoBytes = 65000;
// Datagrams one receive buffer may hold: GRO coalesces up to 64, a local GSO
// sender's message arrives whole with up to 128 (UDP_MAX_SEGMENTS, Linux 6.13+).
constexpr std::size_t kMaxGroSegments = 128;

union SocketAddress {
  sockaddr_in v4;
  sockaddr_in6 v6;
};

// Room for one cmsg carrying an int (UDP_GRO) or a u16 (UDP_SEGMENT).
struct alignas(cmsghdr) Control {
  unsigned char bytes[CMSG_SPACE(sizeof(int))];
};

[[noreturn]] void fail(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

Endpoint endpoint_of(const SocketAddress& name, socklen_t length) noexcept {
  Endpoint endpoint;
  if (length >= sizeof(sockaddr_in6) && name.v6.sin6_family == AF_INET6) {
    const auto* a = name.v6.sin6_addr.s6_addr;
    endpoint.port = ntohs(name.v6.sin6_port);
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a, kMapped, sizeof kMapped) == 0) {
      endpoint.family = Endpoint::Family::ipv4;
      std::copy(a + 12, a + 16, endpoint.address.begin());
    } else {
      endpoint.family = Endpoint::Family::ipv6;
      std::copy(a, a + 16, endpoint.address.begin());
    }
  } else if (length >= sizeof(sockaddr_in) && name.v4.sin_family == AF_INET) {
    endpoint.family = Endpoint::Family::ipv4;
    endpoint.port = ntohs(name.v4.sin_port);
    std::memcpy(endpoint.address.data(), &name.v4.sin_addr, 4);
  }
  return endpoint;
}

// The socket address for `to`; false when this socket cannot reach it.
bool socket_address_of(const Endpoint& to, bool ipv6_socket, SocketAddress& name,
                       socklen_t& length) noexcept {
  name = {};
  if (ipv6_socket) {
    if (to.family == Endpoint::Family::none) return false;
    name.v6.sin6_family = AF_INET6;
    name.v6.sin6_port = htons(to.port);
    auto* a = name.v6.sin6_addr.s6_addr;
    if (to.family == Endpoint::Family::ipv4) {
      a[10] = a[11] = 0xff;
      std::copy(to.address.begin(), to.address.begin() + 4, a + 12);
    } else {
      std::copy(to.address.begin(), to.address.end(), a);
    }
    length = sizeof name.v6;
    return true;
  }
  const std::uint8_t* v4 = nullptr;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (to.family == Endpoint::Family::ipv4) {
    v4 = to.address.data();
  } else if (to.family == Endpoint::Family::ipv6 &&
             std::equal(kMapped, kMapped + 12, to.address.begin())) {
    v4 = to.address.data() + 12;
  } else {
    return false;
  }
  name.v4.sin_family = AF_INET;
  name.v4.sin_port = htons(to.port);
  std::memcpy(&name.v4.sin_addr, v4, 4);
  length = sizeof name.v4;
  return true;
}

// Waits until `fd` can take a datagram; false when `deadline` passes first.
bool wait_writable(int fd, Clock::time_point deadline) noexcept {
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (ready > 0) return (p.revents & (POLLOUT | POLLERR)) != 0;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

// ---- RecvBatch ----

struct RecvBatch::Impl {
  Impl(std::size_t messages, std::size_t buffer_size_)
      : buffer_size(buffer_size_),
        storage(messages * buffer_size_),
        headers(messages),
        iovs(messages),
        names(messages),
        controls(messages) {
    for (std::size_t i = 0; i < messages; ++i) {
      iovs[i].iov_base = storage.data() + i * buffer_size;
      iovs[i].iov_len = buffer_size;
    }
  }

  // recvmmsg rewrites the lengths and flags: set them afresh before each call.
  void prepare() noexcept {
    for (std::size_t i = 0; i < headers.size(); ++i) {
      msghdr& h = headers[i].msg_hdr;
      h.msg_name = &names[i];
      h.msg_namelen = sizeof(SocketAddress);
      h.msg_iov = &iovs[i];
      h.msg_iovlen = 1;
      h.msg_control = controls[i].bytes;
      h.msg_controllen = sizeof controls[i].bytes;
      h.msg_flags = 0;
      headers[i].msg_len = 0;
    }
  }

  std::size_t buffer_size;
  std::vector<std::uint8_t> storage;
  std::vector<mmsghdr> headers;
  std::vector<iovec> iovs;
  std::vector<SocketAddress> names;
  std::vector<Control> controls;
};

RecvBatch::RecvBatch(std::size_t messages, std::size_t buffer_size)
    : impl_(std::make_unique<Impl>(std::max<std::size_t>(messages, 1),
                                   std::max<std::size_t>(buffer_size, 1))) {
  const std::size_t per_buffer = std::min(kMaxGroSegments, impl_->buffer_size);
  datagrams_.resize(impl_->headers.size() * per_buffer);
}

RecvBatch::~RecvBatch() = default;

// ---- SendBatch ----

struct SendBatch::Impl {
  explicit Impl(std::size_t capacity)
      : headers(capacity),
        iovs(capacity),
        names(capacity),
        controls(capacity),
        first(capacity),
        segments(capacity) {}

  std::vector<mmsghdr> headers;       // one per message
  std::vector<iovec> iovs;            // one per datagram, indexed like the entries
  std::vector<SocketAddress> names;   // one per message
  std::vector<Control> controls;      // one per message
  std::vector<std::size_t> first;     // each message's first entry
  std::vector<std::size_t> segments;  // each message's datagram count
  std::size_t messages = 0;
};

SendBatch::SendBatch(std::size_t capacity)
    : entries_(std::max<std::size_t>(capacity, 1)),
      impl_(std::make_unique<Impl>(std::max<std::size_t>(capacity, 1))) {}

SendBatch::~SendBatch() = default;

bool SendBatch::add(const session::Endpoint& to, Bytes datagram) noexcept {
  if (full()) return false;
  entries_[count_++] = {to, datagram};
  return true;
}

namespace {

// Groups entries[from, count) into messages: consecutive datagrams to one
// endpoint, all of the first one's size but the last, which may be shorter,
// go as one UDP_SEGMENT message when `gso` (entries before `single_until`
// go one per message all the same). Entries the socket cannot address are
// skipped and counted in `errors`.
void build_messages(SendBatch::Impl& impl, const std::vector<SendBatch::Entry>& entries,
                    std::size_t from, std::size_t count, bool ipv6_socket, bool gso,
                    std::uint64_t& errors, std::size_t single_until = 0) noexcept {
  impl.messages = 0;
  std::size_t i = from;
  while (i < count) {
    const SendBatch::Entry& head = entries[i];
    const std::size_t m = impl.messages;
    socklen_t name_length = 0;
    if (!socket_address_of(head.to, ipv6_socket, impl.names[m], name_length)) {
      ++errors;
      ++i;
      continue;
    }
    const std::size_t size = head.data.size();
    std::size_t end = i + 1;
    if (gso && size != 0 && i >= single_until) {
      std::size_t total = size;
      while (end < count && end - i < kMaxSegments) {
        const SendBatch::Entry& next = entries[end];
        const std::size_t n = next.data.size();
        if (n == 0 || n > size || total + n > kMaxGsoBytes || !(next.to == head.to)) break;
        total += n;
        ++end;
        if (n < size) break;  // a shorter datagram ends the run
      }
    }
    for (std::size_t k = i; k < end; ++k) {
      impl.iovs[k].iov_base = const_cast<std::uint8_t*>(entries[k].data.data());
      impl.iovs[k].iov_len = entries[k].data.size();
    }
    msghdr& h = impl.headers[m].msg_hdr;
    h = {};
    h.msg_name = &impl.names[m];
    h.msg_namelen = name_length;
    h.msg_iov = &impl.iovs[i];
    h.msg_iovlen = end - i;
    if (end - i > 1) {
      h.msg_control = impl.controls[m].bytes;
      h.msg_controllen = CMSG_SPACE(sizeof(std::uint16_t));
      std::memset(impl.controls[m].bytes, 0, sizeof impl.controls[m].bytes);
      cmsghdr header{};
      header.cmsg_level = SOL_UDP;
      header.cmsg_type = UDP_SEGMENT;
      header.cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto segment = static_cast<std::uint16_t>(size);
      std::memcpy(impl.controls[m].bytes, &header, sizeof header);
      std::memcpy(impl.controls[m].bytes + CMSG_LEN(0), &segment, sizeof segment);
    }
    impl.headers[m].msg_len = 0;
    impl.first[m] = i;
    impl.segments[m] = end - i;
    ++impl.messages;
    i = end;
  }
}

}  // namespace

// ---- UdpSocket ----

UdpSocket UdpSocket::open(const Options& options) {
  UdpSocket s;
  s.ipv6_ = true;
  s.fd_ = ::socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s.fd_ < 0 && errno == EAFNOSUPPORT) {
    s.ipv6_ = false;
    s.fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (s.fd_ < 0) fail(errno, s.ipv6_ ? "socket AF_INET6" : "socket AF_INET");
  const int on = 1;
  const int off = 0;
  if (s.ipv6_ && ::setsockopt(s.fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0) {
    fail(errno, "setsockopt IPV6_V6ONLY");
  }

  // Large buffers: FORCE passes the system limit (needs CAP_NET_ADMIN);
  // without it the kernel caps the plain request at net.core.*mem_max.
  const int bytes = static_cast<int>(std::min<std::size_t>(options.buffer_bytes, INT_MAX / 2));
  if (::setsockopt(s.fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(s.fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  if (::setsockopt(s.fd_, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(s.fd_, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
  if (options.fwmark) {
    const std::uint32_t mark = *options.fwmark;
    if (::setsockopt(s.fd_, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) {
      fail(errno, "setsockopt SO_MARK " + std::to_string(mark));
    }
  }

  SocketAddress local{};
  socklen_t local_length = 0;
  if (s.ipv6_) {
    local.v6.sin6_family = AF_INET6;
    local.v6.sin6_addr = in6addr_any;
    local.v6.sin6_port = htons(options.port);
    local_length = sizeof local.v6;
  } else {
    local.v4.sin_family = AF_INET;
    local.v4.sin_addr.s_addr = htonl(INADDR_ANY);
    local.v4.sin_port = htons(options.port);
    local_length = sizeof local.v4;
  }
  if (::bind(s.fd_, reinterpret_cast<const sockaddr*>(&local), local_length) != 0) {
    fail(errno,
         std::string("bind ") + (s.ipv6_ ? "[::]:" : "0.0.0.0:") + std::to_string(options.port));
  }
  SocketAddress bound{};
  socklen_t bound_length = sizeof bound;
  if (::getsockname(s.fd_, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
    fail(errno, "getsockname");
  }
  s.port_ = ntohs(s.ipv6_ ? bound.v6.sin6_port : bound.v4.sin_port);

  if (options.gro) {
    s.gro_ = ::setsockopt(s.fd_, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
  }
  if (options.gso) {
    // Setting a segment size of 0 (none by default) succeeds where UDP_SEGMENT exists.
    s.gso_ = ::setsockopt(s.fd_, SOL_UDP, UDP_SEGMENT, &off, sizeof off) == 0;
  }
  return s;
}

UdpSocket::~UdpSocket() {
  close();
}

UdpSocket::UdpSocket(UdpSocket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      port_(std::exchange(other.port_, std::uint16_t{0})),
      ipv6_(std::exchange(other.ipv6_, false)),
      gso_(std::exchange(other.gso_, false)),
      gro_(std::exchange(other.gro_, false)),
      stats_(std::exchange(other.stats_, {})) {}

UdpSocket& UdpSocket::operator=(UdpSocket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    port_ = std::exchange(other.port_, std::uint16_t{0});
    ipv6_ = std::exchange(other.ipv6_, false);
    gso_ = std::exchange(other.gso_, false);
    gro_ = std::exchange(other.gro_, false);
    stats_ = std::exchange(other.stats_, {});
  }
  return *this;
}

void UdpSocket::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::size_t UdpSocket::receive(RecvBatch& batch) {
  RecvBatch::Impl& impl = *batch.impl_;
  batch.count_ = 0;
  impl.prepare();
  int got = -1;
  do {
    got = ::recvmmsg(fd_, impl.headers.data(), static_cast<unsigned>(impl.headers.size()),
                     MSG_DONTWAIT, nullptr);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    fail(errno, "recvmmsg");
  }
  for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
    msghdr& h = impl.headers[i].msg_hdr;
    const std::size_t length = impl.headers[i].msg_len;
    if ((h.msg_flags & MSG_TRUNC) != 0) {
      ++stats_.receive_truncated;
      continue;
    }
    const Endpoint from = endpoint_of(impl.names[i], h.msg_namelen);
    std::size_t segment = length;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
          c->cmsg_len >= CMSG_LEN(sizeof(int))) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(c), sizeof size);
        if (size > 0) segment = static_cast<std::size_t>(size);
      }
    }
    std::uint8_t* base = impl.storage.data() + i * impl.buffer_size;
    std::size_t offset = 0;
    do {
      if (batch.count_ == batch.datagrams_.size()) {
        ++stats_.receive_truncated;
        break;
      }
      const std::size_t n = std::min(segment, length - offset);
      batch.datagrams_[batch.count_++] = {from, MutBytes(base + offset, n)};
      offset += n;
    } while (offset < length);
  }
  return batch.count_;
}

std::size_t UdpSocket::send(SendBatch& batch, int max_wait_ms) {
  SendBatch::Impl& impl = *batch.impl_;
  const std::size_t count = batch.count_;
  batch.clear();
  if (fd_ < 0) {
    stats_.send_errors += count;
    return 0;
  }
  build_messages(impl, batch.entries_, 0, count, ipv6_, gso_, stats_.send_errors);
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(max_wait_ms, 0));
  std::size_t sent = 0;
  std::size_t next = 0;
  while (next < impl.messages) {
    const int done = ::sendmmsg(fd_, impl.headers.data() + next,
                                static_cast<unsigned>(impl.messages - next), MSG_DONTWAIT);
    if (done > 0) {
      for (std::size_t k = next; k < next + static_cast<std::size_t>(done); ++k) {
        sent += impl.segments[k];
      }
      next += static_cast<std::size_t>(done);
      continue;
    }
    const int error = done == 0 ? EAGAIN : errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      if (wait_writable(fd_, deadline)) continue;
      for (std::size_t k = next; k < impl.messages; ++k)
        stats_.send_dropped += impl.segments[k];
      break;
    }
    if (error == ENOBUFS) {  // a full device queue: this message is lost, go on
      stats_.send_dropped += impl.segments[next];
      ++next;
      continue;
    }
    if ((error == EIO || error == EINVAL) && impl.segments[next] > 1) {
      // The socket or the path cannot segment (no checksum, IPsec, an old
      // kernel): from here on, one datagram per message.
      gso_ = false;
      build_messages(impl, batch.entries_, impl.first[next], count, ipv6_, false,
                     stats_.send_errors);
      next = 0;
      continue;
    }
    if (error == EMSGSIZE && impl.segments[next] > 1) {
      // Segments above the path MTU: one by one, IP fragments them. A
      // matter of this destination, not of the socket: GSO stays on.
      const std::size_t first = impl.first[next];
      build_messages(impl, batch.entries_, first, count, ipv6_, gso_, stats_.send_errors,
                     first + impl.segments[next]);
      next = 0;
      continue;
    }
    stats_.send_errors += impl.segments[next];
    ++next;
  }
  return sent;
}

bool UdpSocket::send_one(const session::Endpoint& to, Bytes datagram) {
  SocketAddress name{};
  socklen_t length = 0;
  if (fd_ < 0 || !socket_address_of(to, ipv6_, name, length)) {
    ++stats_.send_errors;
    return false;
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(10);
  while (true) {
    const ssize_t r = ::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT,
                               reinterpret_cast<const sockaddr*>(&name), length);
    if (r >= 0) return true;
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      if (wait_writable(fd_, deadline)) continue;
      ++stats_.send_dropped;
    } else if (error == ENOBUFS) {
      ++stats_.send_dropped;
    } else {
      ++stats_.send_errors;
    }
    return false;
  }
}

}  // namespace gw::platform
