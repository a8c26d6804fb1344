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
#include <system_error>

#include <sodium.h>

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

Reply call(const Connection& to, const std::string& iface, const nlohmann::json& request) {
  const std::string path = socket_path(to.run_dir, iface);
  const std::string waited =
      std::to_string(to.timeout_seconds) + " s (gwctl --timeout waits longer)";
  Reply reply;
  const std::string server = "gwd for " + iface + " (" + path + ")";

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    reply.error = "cannot reach gwd for " + iface + " at " + path +
                  ": the path is too long for a Unix socket (at most " +
                  std::to_string(sizeof(addr.sun_path) - 1) + " bytes)";
    return reply;
  }
  std::memcpy(addr.sun_path, path.data(), path.size());

  const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    reply.error = std::string("cannot create a Unix socket: ") + std::strerror(errno);
    return reply;
  }
  // On Linux the send timeout also bounds connect(): a gwd whose backlog is
  // full (or that is stopped) makes connect() wait, and then fail with EAGAIN.
  const timeval timeout{to.timeout_seconds, 0};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) != 0 ||
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
    reply.error = std::string("cannot set a timeout on a Unix socket: ") + std::strerror(errno);
    return reply;
  }
  int rc = 0;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    reply.error = reach_error(iface, path, errno, to.timeout_seconds);
    return reply;
  }

  WipedString line{request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
  std::size_t sent = 0;
  while (sent < line.text.size()) {
    // MSG_NOSIGNAL: a gwd that closed the connection is an error, not SIGPIPE.
    const ssize_t n =
        ::send(fd.get(), line.text.data() + sent, line.text.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      reply.error = errno == EAGAIN || errno == EWOULDBLOCK
                        ? server + " did not take the request within " + waited
                        : "cannot send the request to " + server + ": " + std::strerror(errno);
      return reply;
    }
    sent += static_cast<std::size_t>(n);
  }

  std::string text;
  std::array<char, 65536> buf{};
  std::size_t newline = std::string::npos;
  while (newline == std::string::npos) {
    const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      reply.error = errno == EAGAIN || errno == EWOULDBLOCK
                        ? server + " did not answer within " + waited
                        : "cannot read the reply of " + server + ": " + std::strerror(errno);
      return reply;
    }
    if (n == 0) {
      reply.error = server + " closed the connection without a complete reply";
      return reply;
    }
    const std::size_t old = text.size();
    text.append(buf.data(), static_cast<std::size_t>(n));
    newline = text.find('\n', old);
    if ((newline == std::string::npos ? text.size() : newline) > kMaxReply) {
      reply.error =
          server + " sent a reply longer than " + std::to_string(kMaxReply >> 20) + " MiB";
      return reply;
    }
  }
  text.resize(newline);

  reply.json = nlohmann::json::parse(text, nullptr, false);
  if (reply.json.is_discarded() || !reply.json.is_object() || !reply.json.contains("ok") ||
      !reply.json["ok"].is_boolean()) {
    reply.error = server + " sent something that is not a control reply";
    return reply;
  }
  if (!reply.json["ok"].get<bool>()) {
    const auto& j = reply.json;
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

}  // namespace gw::gwctl
