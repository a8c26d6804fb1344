// SPDX-License-Identifier: MIT
// gw's UDP socket: one non-blocking socket for IPv4 and IPv6 (a dual-stack
// IPv6 socket, or IPv4 alone where IPv6 is off), large kernel buffers, and
// batched I/O: recvmmsg/sendmmsg, with UDP generic segmentation (GSO) on send
// and generic receive offload (GRO) on receive where the kernel has them.
// Nothing here allocates per datagram: the batches own their memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "gw/bytes.hpp"
#include "gw/session/endpoint.hpp"

namespace gw::platform {

// Datagrams received by one UdpSocket::receive() call.
class RecvBatch {
 public:
  // `messages` buffers of `buffer_size` bytes each. With GRO one buffer holds
  // several datagrams of one sender (up to 64 KiB in all).
  RecvBatch(std::size_t messages, std::size_t buffer_size);
  ~RecvBatch();
  RecvBatch(const RecvBatch&) = delete;
  RecvBatch& operator=(const RecvBatch&) = delete;

  // The datagrams of the last receive, GRO buffers already split: writable,
  // valid until the next receive.
  struct Datagram {
    session::Endpoint from;
    MutBytes data;
  };
  std::size_t size() const noexcept { return count_; }
  const Datagram& operator[](std::size_t i) const noexcept { return datagrams_[i]; }

  struct Impl;  // mmsghdr, iovec, sockaddr and cmsg storage

 private:
  friend class UdpSocket;
  std::unique_ptr<Impl> impl_;
  std::vector<Datagram> datagrams_;  // capacity fixed at construction
  std::size_t count_ = 0;
};

// Datagrams queued for one UdpSocket::send() call. The batch refers to the
// caller's bytes, which must stay valid until send() returns.
class SendBatch {
 public:
  explicit SendBatch(std::size_t capacity);
  ~SendBatch();
  SendBatch(const SendBatch&) = delete;
  SendBatch& operator=(const SendBatch&) = delete;

  // False when the batch is full (send it, then add again).
  bool add(const session::Endpoint& to, Bytes datagram) noexcept;
  std::size_t size() const noexcept { return count_; }
  bool full() const noexcept { return count_ == entries_.size(); }
  void clear() noexcept { count_ = 0; }

  struct Entry {
    session::Endpoint to;
    Bytes data;
  };
  struct Impl;  // mmsghdr, iovec, sockaddr and cmsg storage

 private:
  friend class UdpSocket;
  std::vector<Entry> entries_;  // size fixed at construction
  std::size_t count_ = 0;
  std::unique_ptr<Impl> impl_;
};

class UdpSocket {
 public:
  struct Options {
    std::uint16_t port = 0;               // 0: any free port
    std::size_t buffer_bytes = 8u << 20;  // SO_RCVBUF and SO_SNDBUF (FORCE when permitted)
    std::optional<std::uint32_t> fwmark;  // SO_MARK, for policy routing around the tunnel
    bool gso = true;                      // UDP_SEGMENT on send, when the kernel has it
    bool gro = true;                      // UDP_GRO on receive, when the kernel has it
  };
  struct Stats {
    std::uint64_t send_errors = 0;        // datagrams the kernel refused (other than full buffers)
    std::uint64_t send_dropped = 0;       // datagrams dropped because the buffer stayed full
    std::uint64_t receive_truncated = 0;  // datagrams longer than a RecvBatch buffer, dropped
  };

  // Binds [::]:port with IPV6_V6ONLY off, or 0.0.0.0:port when the host has
  // no IPv6. Throws std::system_error naming the step ("bind [::]:51820: ...").
  static UdpSocket open(const Options& options);

  UdpSocket() = default;
  ~UdpSocket();
  UdpSocket(UdpSocket&& other) noexcept;
  UdpSocket& operator=(UdpSocket&& other) noexcept;

  int fd() const noexcept { return fd_; }
  std::uint16_t port() const noexcept { return port_; }  // the bound port
  bool gso() const noexcept { return gso_; }
  bool gro() const noexcept { return gro_; }
  const Stats& stats() const noexcept { return stats_; }

  // Receives what is waiting, up to the batch's capacity, without blocking.
  // Returns the number of datagrams (0: nothing waiting). IPv4-mapped IPv6
  // sources come back as IPv4 endpoints. Throws std::system_error only on an
  // error other than EAGAIN/EINTR (a dead socket).
  std::size_t receive(RecvBatch& batch);

  // Sends the whole batch: consecutive datagrams to one endpoint of one size
  // (the last of a run may be shorter) go as one GSO message when possible.
  // When the socket buffer is full it waits up to `max_wait_ms` for room, then
  // drops the rest and counts them. IPv4 endpoints go out as IPv4-mapped on a
  // dual-stack socket. Clears the batch; returns the datagrams sent.
  std::size_t send(SendBatch& batch, int max_wait_ms = 10);
  // One datagram, for the odd handshake message. False if it was not sent.
  bool send_one(const session::Endpoint& to, Bytes datagram);

  void close() noexcept;

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  bool ipv6_ = false;
  bool gso_ = false;
  bool gro_ = false;
  Stats stats_;
};

}  // namespace gw::platform
