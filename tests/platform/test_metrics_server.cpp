// SPDX-License-Identifier: MIT
// gwd's Prometheus endpoint (src/daemon/metrics_server.hpp) on loopback, its
// io_context on a thread of its own, driven by plain blocking clients: the
// metrics, 404, 405, 400 and (for a Host that is not loopback's) 421
// replies, a slow client cut at the deadline, the
// connection limit, and a busy port refused with a clear message. Nothing
// asserts how long anything takes: only that connections end.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "metrics_server.hpp"
#include "support/hang_guard.hpp"

using gw::daemon::MetricsServer;

namespace {

const char* const kBody = "# TYPE gw_peers gauge\ngw_peers{interface=\"gw0\"} 1\n";

// A server on an ephemeral port whose io_context runs on a thread; stopped
// on that thread, so that everything ends and the thread's run() returns.
class Running {
 public:
  explicit Running(
      std::chrono::steady_clock::duration deadline = gw::test::hang_guard(std::chrono::seconds(5)))
      : server_(
            io_, 0,
            [this] {
              ++renders_;
              return std::string(kBody);
            },
            deadline) {
    server_.start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Running() {
    boost::asio::post(io_, [this] { server_.stop(); });
    thread_.join();
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

  std::uint16_t port() const { return server_.port(); }
  int renders() const { return renders_; }

 private:
  boost::asio::io_context io_;
  std::atomic<int> renders_{0};
  MetricsServer server_;
  std::thread thread_;
};

// A blocking TCP client on 127.0.0.1.
class Client {
 public:
  explicit Client(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect");
    }
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n < 0) throw std::runtime_error("send");
      done += static_cast<std::size_t>(n);
    }
  }

  // Reads until the server ends the connection (or resets it). `ended` is
  // false only if nothing happened for 10 s: a generous bound that no
  // correct run comes near, so that a broken server fails the test rather
  // than hanging it.
  std::string read_all(bool& ended) {
    std::string got;
    ended = false;
    while (true) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, gw::test::hang_guard_ms(10000)) <= 0) return got;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        ended = n == 0 || errno == ECONNRESET;
        return got;
      }
      got.append(buf, static_cast<std::size_t>(n));
    }
  }

  std::string read_all() {
    bool ended = false;
    std::string got = read_all(ended);
    CHECK(ended);
    return got;
  }

 private:
  int fd_;
};

std::string exchange(std::uint16_t port, const std::string& request) {
  Client c(port);
  c.send(request);
  return c.read_all();
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("metrics server: GET /metrics, HTTP/1.1 and 1.0") {
  Running r;
  REQUIRE(r.port() != 0);
  const std::string expected = std::string(
                                   "HTTP/1.1 200 OK\r\n"
                                   "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                                   "Content-Length: ") +
                               std::to_string(std::string(kBody).size()) +
                               "\r\n"
                               "Connection: close\r\n\r\n" +
                               kBody;
  CHECK(exchange(r.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n") ==
        expected);
  CHECK(exchange(r.port(), "GET /metrics HTTP/1.0\r\n\r\n") == expected);
  CHECK(exchange(r.port(), "GET /metrics?target=x HTTP/1.1\r\nHost: 127.0.0.1:9586\r\n\r\n") ==
        expected);
  CHECK(r.renders() == 3);
}

TEST_CASE("metrics server: other paths 404, other methods 405, no render") {
  Running r;
  CHECK(starts_with(exchange(r.port(), "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
                    "HTTP/1.1 404 Not Found\r\n"));
  CHECK(starts_with(exchange(r.port(), "GET /metrics/x HTTP/1.0\r\n\r\n"),
                    "HTTP/1.1 404 Not Found\r\n"));
  const std::string post = exchange(
      r.port(), "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(starts_with(post, "HTTP/1.1 405 Method Not Allowed\r\n"));
  CHECK(post.find("\r\nAllow: GET\r\n") != std::string::npos);
  CHECK(starts_with(exchange(r.port(), "HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"),
                    "HTTP/1.1 405 Method Not Allowed\r\n"));
  CHECK(r.renders() == 0);
}

TEST_CASE("metrics server: malformed and oversized heads get 400") {
  Running r;
  for (const char* bad :
       {"GET\r\n\r\n", "GET /metrics\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n",
        "GET  /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1 x\r\n\r\n",
        "GET /met\x01rics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n: empty name\r\n\r\n"}) {
    CAPTURE(bad);
    CHECK(starts_with(exchange(r.port(), bad), "HTTP/1.1 400 Bad Request\r\n"));
  }
  // The cap counts the whole head: just under it is served, just over it is not.
  const std::string head = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Pad: ";
  const std::size_t fits = MetricsServer::kMaxHead - head.size() - 4;
  CHECK(starts_with(exchange(r.port(), head + std::string(fits, 'a') + "\r\n\r\n"),
                    "HTTP/1.1 200 OK\r\n"));
  CHECK(starts_with(exchange(r.port(), head + std::string(fits + 1, 'a') + "\r\n\r\n"),
                    "HTTP/1.1 400 Bad Request\r\n"));
  // Far over the cap, and still sending: the 400 arrives all the same.
  CHECK(starts_with(exchange(r.port(), head + std::string(64 * 1024, 'a')),
                    "HTTP/1.1 400 Bad Request\r\n"));
  CHECK(r.renders() == 1);
}

TEST_CASE("metrics server: a Host other than loopback's gets 421, nothing rendered") {
  // DNS rebinding: a web page of evil.example whose name now resolves to
  // 127.0.0.1 makes the browser send its requests here, with its own Host.
  Running r;
  for (const char* host : {"evil.example", "evil.example:9586", "localhost.evil.example",
                           "127.0.0.1.nip.io", "127.0.0.2", "[::2]", "::1", "localhost:abc",
                           "localhost:123456", "localhost:9586:1", "[::1]x", "", "local host"}) {
    CAPTURE(host);
    const std::string reply =
        exchange(r.port(), std::string("GET /metrics HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    CHECK(starts_with(reply, "HTTP/1.1 421 Misdirected Request\r\n"));
    CHECK(reply.find("gw_peers") == std::string::npos);
  }
  // Before the method and the path are looked at: nothing tells what is here.
  CHECK(starts_with(exchange(r.port(), "POST /x HTTP/1.1\r\nHost: evil.example\r\n\r\n"),
                    "HTTP/1.1 421 Misdirected Request\r\n"));
  CHECK(r.renders() == 0);
}

TEST_CASE("metrics server: Host localhost, 127.0.0.1 or [::1], with or without a port") {
  Running r;
  for (const char* host : {"localhost", "localhost:9586", "127.0.0.1", "127.0.0.1:1", "[::1]",
                           "[::1]:9586", "LocalHost", "  localhost\t", "LOCALHOST:80"}) {
    CAPTURE(host);
    CHECK(starts_with(
        exchange(r.port(), std::string("GET /metrics HTTP/1.1\r\nHost: ") + host + "\r\n\r\n"),
        "HTTP/1.1 200 OK\r\n"));
  }
  CHECK(starts_with(exchange(r.port(), "GET /metrics HTTP/1.1\r\nhOsT: 127.0.0.1\r\n\r\n"),
                    "HTTP/1.1 200 OK\r\n"));
  CHECK(r.renders() == 10);
}

TEST_CASE("metrics server: HTTP/1.1 needs exactly one Host; HTTP/1.0 may have none") {
  Running r;
  CHECK(starts_with(exchange(r.port(), "GET /metrics HTTP/1.1\r\n\r\n"),
                    "HTTP/1.1 400 Bad Request\r\n"));
  CHECK(starts_with(
      exchange(r.port(), "GET /metrics HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n"),
      "HTTP/1.1 400 Bad Request\r\n"));
  CHECK(starts_with(
      exchange(r.port(), "GET /metrics HTTP/1.0\r\nHost: localhost\r\nHost: evil.example\r\n\r\n"),
      "HTTP/1.1 400 Bad Request\r\n"));
  CHECK(r.renders() == 0);
  CHECK(starts_with(exchange(r.port(), "GET /metrics HTTP/1.0\r\n\r\n"), "HTTP/1.1 200 OK\r\n"));
  CHECK(r.renders() == 1);
}

TEST_CASE("metrics server: a slow client is cut at the deadline") {
  Running r(std::chrono::milliseconds(200));
  Client silent(r.port());
  Client slow(r.port());
  slow.send("GET /metrics HTTP/1.1\r\n");
  CHECK(silent.read_all().empty());
  CHECK(slow.read_all().empty());
  CHECK(r.renders() == 0);
}

TEST_CASE("metrics server: one connection over the limit is closed unanswered") {
  Running r;
  std::vector<std::unique_ptr<Client>> idle;
  for (std::size_t i = 0; i < MetricsServer::kMaxConnections; ++i)
    idle.push_back(std::make_unique<Client>(r.port()));
  // Accepted after the others (the listen queue is in order), so over the limit.
  CHECK(exchange(r.port(), "GET /metrics HTTP/1.1\r\n\r\n").empty());
  // The idle ones were accepted and are served.
  idle.front()->send("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
  CHECK(starts_with(idle.front()->read_all(), "HTTP/1.1 200 OK\r\n"));
  CHECK(r.renders() == 1);
}

TEST_CASE("metrics server: a busy port is refused with the address and the reason") {
  Running r;
  boost::asio::io_context io;
  MetricsServer second(io, r.port(), [] { return std::string(); });
  try {
    second.start();
    FAIL("a second server listened on the same port");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()) == "metrics: cannot listen on 127.0.0.1:" +
                                       std::to_string(r.port()) + ": Address already in use");
  }
}
