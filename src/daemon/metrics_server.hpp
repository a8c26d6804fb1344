// SPDX-License-Identifier: MIT
// gwd's Prometheus endpoint: a minimal HTTP/1.0 and 1.1 server on
// 127.0.0.1 that answers `GET /metrics` with the text render() returns, one
// request per connection. Loopback only: the metrics name peers and their
// keys, so anything wider goes through a proxy the operator configures.
// And only for a request whose Host is localhost, 127.0.0.1 or [::1] (with or
// without a port; none at all in HTTP/1.0): any other gets 421 Misdirected
// Request, so that a web page whose DNS name was rebound to 127.0.0.1 cannot
// make a local browser read them (DNS rebinding). HTTP/1.1 without a Host,
// or any request with two, gets 400 (RFC 9112, 3.2).
//
// Every connection is closed after its reply, and at the latest when its
// deadline passes, so a client that sends slowly or never reads holds one of
// the few connection slots for a bounded time only.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp lacks it

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace gw::daemon {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;

  // Connections served at once; one more is closed unanswered.
  static constexpr std::size_t kMaxConnections = 16;
  // The request line and headers, "\r\n\r\n" included; more gets 400.
  static constexpr std::size_t kMaxHead = 8192;

  // `port` 0 picks any free port (see port()). `deadline` bounds a whole
  // connection, from accept to close. The io_context must outlive the server.
  // Not thread-safe: start(), stop() and the destructor run on the
  // io_context's thread, or while it does not run.
  MetricsServer(boost::asio::io_context& io, std::uint16_t port, Render render,
                std::chrono::steady_clock::duration deadline = std::chrono::seconds(5));
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds 127.0.0.1:port and accepts. Throws std::runtime_error naming the
  // address when it cannot listen ("metrics: cannot listen on
  // 127.0.0.1:9586: Address already in use").
  void start();
  // Stops accepting and closes every connection.
  void stop() noexcept;
  // The port listened on: after start() the one bound, even for port 0.
  std::uint16_t port() const noexcept;

 private:
  class Impl;
  class Connection;
  // Shared with the callbacks in flight, which may run after a stop().
  std::shared_ptr<Impl> impl_;
};

}  // namespace gw::daemon
