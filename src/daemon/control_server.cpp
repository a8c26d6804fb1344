// SPDX-License-Identifier: MIT
#include "control_server.hpp"

#include <malloc.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <sodium.h>

#include "gw/control/request.hpp"
#include "gw/control/wipe_heap.hpp"

namespace gw::daemon {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

struct Credentials {
  ucred cred{};
  std::vector<gid_t> groups;
};

std::optional<Credentials> peer_credentials(int fd) {
  Credentials c;
  socklen_t len = sizeof c.cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c.cred, &len) != 0) return std::nullopt;
  c.groups.resize(64);
  for (int tries = 0; tries < 4; ++tries) {
    socklen_t glen = static_cast<socklen_t>(c.groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, c.groups.data(), &glen) == 0) {
      c.groups.resize(glen / sizeof(gid_t));
      return c;
    }
    if (errno != ERANGE) return std::nullopt;
    c.groups.resize(glen / sizeof(gid_t) + 1);
  }
  return std::nullopt;
}

}  // namespace

class ControlServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(local::socket socket, ControlServer& server)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        server_(server),
        live_(server.live_),
        closed_(server.closed_) {
    // Reserved once: the buffer never moves, so no copy of a request line
    // (which may carry a PSK) is left in memory freed unwiped.
    buffer_.reserve(control::kMaxRequestLine);
    ++*live_;
  }
  ~Connection() {
    wipe_unused();
    sodium_memzero(buffer_.data(), buffer_.size());
    --*live_;
  }

  // A refused client gets its error reply in answer to its first request
  // (not before it: a client busy sending would see a broken pipe instead).
  void start(bool allowed, const std::string& refusal) {
    if (!allowed) refusal_ = control::error_reply({"permission_denied", refusal});
    read();
  }

  void close() noexcept {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.shutdown(local::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

 private:
  void arm_idle() {
    timer_.expires_after(server_.options_.idle);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->close();  // idle too long
    });
  }

  void read() {
    arm_idle();
    asio::async_read_until(
        socket_, asio::dynamic_buffer(buffer_, control::kMaxRequestLine), '\n',
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
          if (*self->closed_) return;
          if (ec == asio::error::not_found && self->refusal_.empty()) {
            // The line outgrew the buffer: its end cannot be found to resync.
            self->reply_and_close(
                control::error_reply({"too_large", "a request line is at most " +
                                                       std::to_string(control::kMaxRequestLine) +
                                                       " bytes, newline included"}));
            return;
          }
          if (ec) {
            self->close();
            return;
          }
          if (!self->refusal_.empty()) {
            self->reply_and_close(std::move(self->refusal_));
            return;
          }
          // A request may carry a pre-shared key: every copy of the line
          // is wiped, and so is whatever the handling frees.
          const control::WipeFreedMemory wiping;
          std::string line(self->buffer_.data(), n - 1);
          sodium_memzero(self->buffer_.data(), n);
          self->buffer_.erase(0, n);
          self->wipe_unused();  // the erase left a copy of what followed the line
          if (!line.empty() && line.back() == '\r') line.pop_back();
          self->reply_ = self->server_.handler_(line);
          // A request may carry a pre-shared key: no copy of it stays around.
          sodium_memzero(line.data(), line.size());
          self->write_reply();
        });
  }

  void write_reply() {
    arm_idle();
    asio::async_write(
        socket_, asio::buffer(reply_),
        [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
          if (*self->closed_) return;
          if (ec) {
            self->close();
            return;
          }
          self->reply_.clear();
          self->reply_.shrink_to_fit();
          // A show of thousands of peers, or a config rewritten for one
          // change, built megabytes of JSON: give them back (control
          // requests are rare, and a trim is cheap next to them).
          ::malloc_trim(0);
          self->read();
        });
  }

  void reply_and_close(std::string reply) {
    reply_ = std::move(reply);
    arm_idle();
    asio::async_write(socket_, asio::buffer(reply_),
                      [self = shared_from_this()](const boost::system::error_code&, std::size_t) {
                        self->close();
                      });
  }

  // Zeros over the buffer's room past its content.
  void wipe_unused() noexcept {
    const std::size_t used = buffer_.size();
    buffer_.resize(buffer_.capacity());
    sodium_memzero(buffer_.data() + used, buffer_.size() - used);
    buffer_.resize(used);
  }

  local::socket socket_;
  asio::steady_timer timer_;
  std::string buffer_;  // what has been read and not yet handled
  std::string reply_;
  std::string refusal_;  // the reply for a refused client
  ControlServer& server_;
  std::shared_ptr<std::size_t> live_;
  std::shared_ptr<bool> closed_;
};

ControlServer::ControlServer(asio::io_context& io, Log& log, Handler handler)
    : io_(io), log_(log), handler_(std::move(handler)), acceptor_(io) {}

ControlServer::~ControlServer() {
  close();
}

void ControlServer::open(const Options& options) {
  options_ = options;
  const std::filesystem::path path(options.path);
  const std::filesystem::path dir = path.parent_path();
  if (std::error_code ec; !dir.empty() && !std::filesystem::create_directories(dir, ec) && ec) {
    throw std::runtime_error("control socket: cannot create " + dir.string() + ": " + ec.message());
  }
  // A socket file left behind: in use if someone answers on it.
  if (struct stat st{}; ::lstat(options.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::runtime_error("control socket: " + options.path +
                               " exists and is not a socket; remove it");
    }
    local::socket probe(io_);
    boost::system::error_code ec;
    probe.connect(local::endpoint(options.path), ec);
    if (!ec) {
      throw std::runtime_error("control socket: another gwd serves " + options.path);
    }
    ::unlink(options.path.c_str());
  }
  boost::system::error_code ec;
  acceptor_.open(local(), ec);
  // Created 0660 (umask), so no client gets in between bind and chmod.
  const mode_t old_mask = ::umask(0117);
  if (!ec) acceptor_.bind(local::endpoint(options.path), ec);
  ::umask(old_mask);
  if (ec) {
    acceptor_.close();
    throw std::runtime_error("control socket: cannot bind " + options.path + ": " + ec.message());
  }
  bound_ = true;
  if (::chmod(options.path.c_str(), 0660) != 0 ||
      (options.group &&
       ::chown(options.path.c_str(), static_cast<uid_t>(-1), *options.group) != 0)) {
    const int err = errno;
    close();
    throw std::runtime_error("control socket: cannot give " + options.path + " mode 0660" +
                             (options.group ? " and group " + options.group_name : "") + ": " +
                             errno_text(err));
  }
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    close();
    throw std::runtime_error("control socket: cannot listen on " + options.path + ": " +
                             ec.message());
  }
  *closed_ = false;
  accept();
}

void ControlServer::accept() {
  acceptor_.async_accept([this, closed = closed_](const boost::system::error_code& ec,
                                                  local::socket socket) {
    if (*closed) return;
    if (ec) {
      if (ec != asio::error::operation_aborted) {
        log_.warn("control socket: accept: " + ec.message());
        accept();
      }
      return;
    }
    std::erase_if(conns_, [](const std::weak_ptr<Connection>& c) { return c.expired(); });
    if (*live_ >= options_.max_connections) {
      log_.warn("control socket: " + std::to_string(*live_) +
                " connections open already; one more closed");
      boost::system::error_code ignored;
      socket.close(ignored);
      accept();
      return;
    }
    bool allowed = false;
    std::string refusal;
    if (const auto creds = peer_credentials(socket.native_handle())) {
      const bool in_group = options_.group && (creds->cred.gid == *options_.group ||
                                               std::find(creds->groups.begin(), creds->groups.end(),
                                                         *options_.group) != creds->groups.end());
      allowed = creds->cred.uid == 0 || creds->cred.uid == ::geteuid() || in_group;
      if (!allowed) {
        refusal = "uid " + std::to_string(creds->cred.uid) + " is not root" +
                  (options_.group ? " and not in group " + options_.group_name : "") +
                  " (docs/CONTROL.md)";
        log_.warn("control socket: refused a client (pid " + std::to_string(creds->cred.pid) +
                  "): " + refusal);
      }
    } else {
      refusal = "the client's credentials cannot be read";
      log_.warn("control socket: refused a client: " + refusal + ": " + errno_text(errno));
    }
    auto conn = std::make_shared<Connection>(std::move(socket), *this);
    conns_.push_back(conn);
    conn->start(allowed, refusal);
    accept();
  });
}

void ControlServer::close() noexcept {
  *closed_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (const auto& weak : conns_) {
    if (const auto conn = weak.lock()) conn->close();
  }
  conns_.clear();
  if (bound_) {
    ::unlink(options_.path.c_str());
    bound_ = false;
  }
}

}  // namespace gw::daemon
