// SPDX-License-Identifier: MIT
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp lacks it

#include "metrics_server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace gw::daemon {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Duration = std::chrono::steady_clock::duration;

namespace {

// After a failed accept (out of file descriptors, say) the pause before the
// next: accepting again at once would spin on the same error.
constexpr std::chrono::milliseconds kAcceptRetry{100};

struct Reply {
  const char* status;  // "404 Not Found"
  std::string body;
  const char* content_type = "text/plain; charset=utf-8";
  const char* extra_headers = "";  // whole lines, "\r\n" ended
};

Reply error_reply(const char* status, const char* text) {
  return {status, std::string(text) + "\n"};
}

bool has_control_char(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) {
             return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
           };
           return lower(x) == lower(y);
         });
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// A Host header's value naming this machine's loopback: localhost, 127.0.0.1
// or [::1], each with or without a port. A browser sends the name of the page's
// own site, so a page whose DNS name was rebound to 127.0.0.1 is told apart.
bool loopback_host(std::string_view value) noexcept {
  value = trim_ows(value);
  const std::size_t end = value.starts_with('[') ? value.find(']') + 1 : value.find(':');
  const std::string_view name = value.substr(0, end);
  const std::string_view port = end == std::string_view::npos ? "" : value.substr(end);
  if (!port.empty() &&
      (port.size() < 2 || port.size() > 6 || port[0] != ':' ||
       !std::all_of(port.begin() + 1, port.end(), [](char c) { return c >= '0' && c <= '9'; }))) {
    return false;
  }
  return iequals(name, "localhost") || name == "127.0.0.1" || name == "[::1]";
}

// Checks the header lines after the request line: each is "name: value";
// `hosts` counts the Host headers, `host` holds the last one's value.
bool parse_headers(std::string_view rest, std::size_t& hosts, std::string_view& host) {
  while (!rest.empty()) {
    const std::string_view header = rest.substr(0, rest.find("\r\n"));
    const std::size_t colon = header.find(':');
    if (colon == 0 || colon == std::string_view::npos || header[0] == ' ' || header[0] == '\t') {
      return false;
    }
    if (iequals(header.substr(0, colon), "host")) {
      ++hosts;
      host = header.substr(colon + 1);
    }
    rest.remove_prefix(std::min(rest.size(), header.size() + 2));
  }
  return true;
}

// The reply to a request head (without its final "\r\n\r\n").
Reply answer(std::string_view head, const MetricsServer::Render& render) {
  const std::size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos ||
      has_control_char(line)) {
    return error_reply("400 Bad Request", "bad request line");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || target.empty() || (version != "HTTP/1.0" && version != "HTTP/1.1")) {
    return error_reply("400 Bad Request", "bad request line");
  }
  // Of the headers only Host is used, but each must be one ("name: value").
  std::size_t hosts = 0;
  std::string_view host;
  if (!parse_headers(eol == std::string_view::npos ? "" : head.substr(eol + 2), hosts, host)) {
    return error_reply("400 Bad Request", "bad header line");
  }
  // RFC 9112, 3.2: an HTTP/1.1 request has exactly one Host, any request at most one.
  if (hosts > 1 || (hosts == 0 && version == "HTTP/1.1")) {
    return error_reply("400 Bad Request", "expected one Host header");
  }
  if (hosts == 1 && !loopback_host(host)) {
    return error_reply("421 Misdirected Request",
                       "the metrics answer only to Host localhost, 127.0.0.1 or [::1]");
  }
  if (method != "GET") {
    Reply r = error_reply("405 Method Not Allowed", "only GET");
    r.extra_headers = "Allow: GET\r\n";
    return r;
  }
  // A query string is allowed: Prometheus adds one for a scrape config's `params`.
  if (target.substr(0, target.find('?')) != "/metrics") {
    return error_reply("404 Not Found", "not found: the metrics are at /metrics");
  }
  try {
    return {"200 OK", render(), "text/plain; version=0.0.4; charset=utf-8"};
  } catch (const std::exception& e) {
    return error_reply("500 Internal Server Error", e.what());
  }
}

}  // namespace

class MetricsServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, std::uint16_t port, Render render, Duration deadline)
      : port_(port), render_(std::move(render)), deadline_(deadline), acceptor_(io), retry_(io) {
    connections_.reserve(kMaxConnections);
  }

  void start();
  void stop() noexcept;
  void accept();
  // Accepting again after a pause.
  void accept_later() noexcept;
  void on_accept(const error_code& ec, tcp::socket socket) noexcept;
  // A connection closed itself.
  void forget(const Connection* c) noexcept;

  std::uint16_t port_;
  Render render_;
  Duration deadline_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::vector<std::shared_ptr<Connection>> connections_;  // kMaxConnections at most
  bool stopped_ = false;
};

class MetricsServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::weak_ptr<Impl> server)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), server_(std::move(server)) {}

  // Closes the connection when it cannot start (out of memory).
  void start(Duration deadline) noexcept;
  void close() noexcept;

 private:
  void on_head(const error_code& ec, std::size_t size) noexcept;
  void send(const Reply& reply);
  void drain() noexcept;

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::string in_;
  std::string out_;
  std::array<char, 1024> discard_{};
  std::weak_ptr<Impl> server_;
  bool closed_ = false;
};

void MetricsServer::Impl::start() {
  const tcp::endpoint ep(asio::ip::address_v4::loopback(), port_);
  error_code ec;
  acceptor_.open(ep.protocol(), ec);
  // A restart finds the port free although connections of the last run linger in TIME_WAIT.
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    throw std::runtime_error("metrics: cannot listen on 127.0.0.1:" + std::to_string(port_) + ": " +
                             ec.message());
  }
  port_ = acceptor_.local_endpoint(ec).port();
  stopped_ = false;
  accept();
}

void MetricsServer::Impl::stop() noexcept {
  stopped_ = true;
  error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
  // Each close() calls forget(), which must not change the list being walked.
  const std::vector<std::shared_ptr<Connection>> open = std::move(connections_);
  connections_.clear();
  for (const auto& c : open)
    c->close();
}

void MetricsServer::Impl::accept() {
  acceptor_.async_accept([self = shared_from_this()](const error_code& ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void MetricsServer::Impl::on_accept(const error_code& ec, tcp::socket socket) noexcept {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  try {
    if (ec) {
      // Out of file descriptors, say: accepting again at once would spin on the error.
      accept_later();
      return;
    }
    // Over the limit, `socket` closes unanswered as it goes out of scope.
    if (connections_.size() < kMaxConnections) {
      auto c = std::make_shared<Connection>(std::move(socket), weak_from_this());
      connections_.push_back(c);  // reserved: never throws
      c->start(deadline_);
    }
    accept();
  } catch (const std::exception&) {
    // Out of memory: this connection is lost.
    accept_later();
  }
}

void MetricsServer::Impl::accept_later() noexcept {
  try {
    retry_.expires_after(kAcceptRetry);
    retry_.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e && !self->stopped_) self->accept();
    });
  } catch (const std::exception&) {
    // Out of memory even for this: the endpoint stays silent; the tunnel is unaffected.
  }
}

void MetricsServer::Impl::forget(const Connection* c) noexcept {
  const auto it = std::find_if(connections_.begin(), connections_.end(),
                               [c](const auto& p) { return p.get() == c; });
  if (it != connections_.end()) connections_.erase(it);
}

void MetricsServer::Connection::start(Duration deadline) noexcept {
  try {
    timer_.expires_after(deadline);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->close();
    });
    asio::async_read_until(socket_, asio::dynamic_buffer(in_, kMaxHead), "\r\n\r\n",
                           [self = shared_from_this()](const error_code& ec, std::size_t size) {
                             self->on_head(ec, size);
                           });
  } catch (const std::exception&) {
    close();
  }
}

void MetricsServer::Connection::on_head(const error_code& ec, std::size_t size) noexcept {
  if (closed_) return;
  try {
    // not_found: kMaxHead bytes came without the end of the head.
    if (ec == asio::error::not_found) {
      send(error_reply("400 Bad Request", "request head too large"));
      return;
    }
    if (ec) {
      close();
      return;
    }
    const auto server = server_.lock();
    if (!server) {
      close();
      return;
    }
    send(answer(std::string_view(in_).substr(0, size - 4), server->render_));
  } catch (const std::exception&) {
    close();
  }
}

void MetricsServer::Connection::send(const Reply& reply) {
  out_ = "HTTP/1.1 ";
  out_ += reply.status;
  out_ += "\r\nContent-Type: ";
  out_ += reply.content_type;
  out_ += "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n";
  out_ += reply.extra_headers;
  out_ += "Connection: close\r\n\r\n";
  out_ += reply.body;
  asio::async_write(socket_, asio::buffer(out_),
                    [self = shared_from_this()](const error_code& ec, std::size_t) {
                      if (ec) {
                        self->close();
                        return;
                      }
                      // Closing with request bytes still unread would reset the
                      // connection, which can destroy the reply before the client
                      // reads it: end our side, read to the client's end, then close.
                      error_code ignored;
                      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                      self->drain();
                    });
}

void MetricsServer::Connection::drain() noexcept {
  if (closed_) return;
  try {
    socket_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](const error_code& ec, std::size_t) {
                              if (ec) {
                                self->close();
                              } else {
                                self->drain();
                              }
                            });
  } catch (const std::exception&) {
    close();
  }
}

void MetricsServer::Connection::close() noexcept {
  if (closed_) return;
  closed_ = true;
  timer_.cancel();
  error_code ignored;
  socket_.close(ignored);
  if (const auto server = server_.lock()) server->forget(this);
}

MetricsServer::MetricsServer(asio::io_context& io, std::uint16_t port, Render render,
                             Duration deadline)
    : impl_(std::make_shared<Impl>(io, port, std::move(render), deadline)) {}

MetricsServer::~MetricsServer() {
  stop();
}

void MetricsServer::start() {
  impl_->start();
}

void MetricsServer::stop() noexcept {
  impl_->stop();
}

std::uint16_t MetricsServer::port() const noexcept {
  return impl_->port_;
}

}  // namespace gw::daemon
