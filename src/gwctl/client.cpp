// SPDX-License-Identifier: MIT
#include "client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include <sodium.h>

#include "gw/control/request_builder.hpp"
#include "gw/unique_fd.hpp"

namespace gw::gwctl {

namespace {

// A string that is zeroed before its memory is given back.
struct WipedString {
  std::string text;
  ~WipedString() { sodium_memzero(text.data(), text.size()); }
};

// One line for a person: a newline or other control character in gwd's
// message must not break "every error is one line".
std::string one_line(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return text;
}

std::string reach_error(const std::string& iface, const std::string& path, int err,
                        int timeout_seconds) {
  std::string line = "cannot reach gwd for " + iface + " at " + path + ": " + std::strerror(err);
  if (err == ENOENT || err == ECONNREFUSED) {
    line += " (is gwd running?)";
  } else if (err == EACCES || err == EPERM) {
    line += " (run as root or as a member of the config's control_group)";
  } else if (err == EAGAIN || err == EWOULDBLOCK) {
    line += " (gwd did not accept the connection within " + std::to_string(timeout_seconds) +
            " s; gwctl --timeout waits longer)";
  }
  return line;
}

}  // namespace

std::string socket_path(const std::string& run_dir, const std::string& iface) {
  return (std::filesystem::path(run_dir) / (iface + ".sock")).string();
}

std::vector<std::string> running_interfaces(const std::string& run_dir) {
  namespace fs = std::filesystem;
  constexpr std::string_view kSuffix = ".sock";
  std::vector<std::string> names;
  std::error_code ec;
  fs::directory_iterator it(run_dir, ec);
  if (ec) return names;
  for (const fs::directory_entry& entry : it) {
    const std::string file = entry.path().filename().string();
    if (file.size() <= kSuffix.size() || !file.ends_with(kSuffix)) continue;
    // Leftovers that are not sockets (a file someone made) are nobody's gwd.
    if (!entry.is_socket(ec)) continue;
    names.push_back(file.substr(0, file.size() - kSuffix.size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

// A connected Unix stream socket to `path`, with `to`'s timeouts; an invalid
// fd and `error` otherwise.
UniqueFd connect_to(const Connection& to, const std::string& iface, const std::string& path,
                    std::string& error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    error = "cannot reach gwd for " + iface + " at " + path +
            ": the path is too long for a Unix socket (at most " +
            std::to_string(sizeof(addr.sun_path) - 1) + " bytes)";
    return UniqueFd(-1);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());

  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    error = std::string("cannot create a Unix socket: ") + std::strerror(errno);
    return UniqueFd(-1);
  }
  // On Linux the send timeout also bounds connect(): a gwd whose backlog is
  // full (or that is stopped) makes connect() wait, and then fail with EAGAIN.
  const timeval timeout{to.timeout_seconds, 0};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0 ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
    error = std::string("cannot set a timeout on a Unix socket: ") + std::strerror(errno);
    return UniqueFd(-1);
  }
  int rc = 0;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    error = reach_error(iface, path, errno, to.timeout_seconds);
    return UniqueFd(-1);
  }
  return fd;
}

// Sends all of `line`; the error names `server` and the wait.
std::optional<std::string> send_line(int fd, const std::string& line, const std::string& server,
                                     const std::string& waited) {
  std::size_t sent = 0;
  while (sent < line.size()) {
    // MSG_NOSIGNAL: a gwd that closed the connection is an error, not SIGPIPE.
    const ssize_t n = ::send(fd, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return errno == EAGAIN || errno == EWOULDBLOCK
                 ? server + " did not take the request within " + waited
                 : "cannot send the request to " + server + ": " + std::strerror(errno);
    }
    sent += static_cast<std::size_t>(n);
  }
  return std::nullopt;
}

// One reply line, without its newline, at most kMaxReply bytes.
std::optional<std::string> read_line(int fd, const std::string& server, const std::string& waited,
                                     std::string& error) {
  std::string text;
  std::array<char, 65536> buf{};
  std::size_t newline = std::string::npos;
  while (newline == std::string::npos) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno == EAGAIN || errno == EWOULDBLOCK
                  ? server + " did not answer within " + waited
                  : "cannot read the reply of " + server + ": " + std::strerror(errno);
      return std::nullopt;
    }
    if (n == 0) {
      error = server + " closed the connection without a complete reply";
      return std::nullopt;
    }
    const std::size_t old = text.size();
    text.append(buf.data(), static_cast<std::size_t>(n));
    newline = text.find('\n', old);
    if ((newline == std::string::npos ? text.size() : newline) > kMaxReply) {
      error = server + " sent a reply longer than " + std::to_string(kMaxReply >> 20) + " MiB";
      return std::nullopt;
    }
  }
  text.resize(newline);
  return text;
}

// The reply `text` as a Reply: its object, or the error it is or says.
Reply parse_reply(const std::string& text, const std::string& server) {
  Reply reply;
  reply.json = nlohmann::json::parse(text, nullptr, false);
  const auto& j = reply.json;
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    reply.error = server + " sent something that is not a control reply";
  } else if (!j["ok"].get<bool>()) {
    if (j.contains("message") && j["message"].is_string()) {
      reply.error = one_line(j["message"].get<std::string>());
    } else if (j.contains("error") && j["error"].is_string()) {
      reply.error = "gwd refused the request: " + one_line(j["error"].get<std::string>());
    } else {
      reply.error = "gwd refused the request";
    }
  }
  return reply;
}

// The exchange itself; `request`'s PSK text is wiped by call().
Reply exchange(const Connection& to, const std::string& iface, const nlohmann::json& request) {
  const std::string path = socket_path(to.run_dir, iface);
  const std::string waited =
      std::to_string(to.timeout_seconds) + " s (gwctl --timeout waits longer)";
  const std::string server = "gwd for " + iface + " (" + path + ")";
  Reply reply;
  const UniqueFd fd = connect_to(to, iface, path, reply.error);
  if (fd.get() < 0) return reply;
  {
    const WipedString line{request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                           "\n"};
    if (auto e = send_line(fd.get(), line.text, server, waited)) {
      reply.error = std::move(*e);
      return reply;
    }
  }
  const auto text = read_line(fd.get(), server, waited, reply.error);
  if (!text) return reply;
  return parse_reply(*text, server);
}

}  // namespace

Reply call(const Connection& to, const std::string& iface, nlohmann::json& request) {
  Reply reply = exchange(to, iface, request);
  control::wipe_psks(request);
  return reply;
}

}  // namespace gw::gwctl
