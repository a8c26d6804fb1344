// SPDX-License-Identifier: MIT
// gwd's control socket (docs/CONTROL.md): a Unix stream socket that takes one
// JSON request a line from local clients whose credentials pass, and answers
// each with the line the handler returns. Framing, limits, timeouts and the
// credential check live here; what a request means is the handler's.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp lacks it

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "log.hpp"

namespace gw::daemon {

class ControlServer {
 public:
  // Takes a request line (no newline) and returns the reply line ('\n' ended).
  using Handler = std::function<std::string(std::string_view line)>;

  struct Options {
    std::string path;                       // the socket's path
    std::optional<gid_t> group;             // besides root: clients in this group
    std::string group_name;                 // for the log
    std::chrono::milliseconds idle{30000};  // a connection idle this long is closed
    std::size_t max_connections = 32;
  };

  ControlServer(boost::asio::io_context& io, Log& log, Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Creates the socket's folder if missing (and its parents), removes a stale socket (one
  // nobody answers on), binds with mode 0660 and the group, and accepts.
  // Throws std::runtime_error naming the path when that fails, or when another
  // process serves the path already.
  void open(const Options& options);
  // Stops accepting, closes every connection and removes the socket file.
  void close() noexcept;

  std::size_t connections() const noexcept { return *live_; }

 private:
  class Connection;
  void accept();

  boost::asio::io_context& io_;
  Log& log_;
  Handler handler_;
  Options options_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  // Shared with the connections, which may outlive a close() by a callback.
  std::shared_ptr<std::size_t> live_ = std::make_shared<std::size_t>(0);
  std::shared_ptr<bool> closed_ = std::make_shared<bool>(false);
  std::vector<std::weak_ptr<Connection>> conns_;
  bool bound_ = false;
};

}  // namespace gw::daemon
