// SPDX-License-Identifier: MIT
// noise-echo: what the client and the server share: the options, the
// HandshakeOptions they make, and TCP with every Noise message framed by a
// 2-byte big-endian length, each wait bounded by --timeout.
#pragma once

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gw/gw.hpp>

namespace echo {

constexpr int kFailed = 1;  // the peer, the network, a timeout, a rejected message
constexpr int kUsage = 2;   // options, key files, the protocol name

// Ends the program: main() catches it, so destructors still wipe the keys.
struct Fatal {
  int code;
  std::string message;
};

[[noreturn]] inline void fail(int code, std::string message) {
  throw Fatal{code, std::move(message)};
}

inline void check(const gw::Status& st, int code, const std::string& doing) {
  if (!st) fail(code, doing + ": " + st.message + " (" + gw::to_string(st.code) + ")");
}

inline gw::ByteView bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string_view text(const std::vector<std::uint8_t>& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// Options both programs take.
struct Options {
  std::string protocol = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
  std::string static_key_file;
  std::string remote_key;  // base64
  std::string remote_key_file;
  std::vector<std::string> psk_files;  // one per psk token, in order
  std::string prologue_hex;
  std::string host = "127.0.0.1";
  std::string port = "7007";
  int timeout_seconds = 10;
};

constexpr const char* kCommonUsage =
    "  --protocol NAME        Noise protocol (default Noise_XX_25519_ChaChaPoly_BLAKE2b)\n"
    "  --static-key FILE      our private key (base64, mode 0600); default: a fresh one\n"
    "  --remote-key KEY       admit only this peer key (base64)\n"
    "  --remote-key-file FILE the same, from a public key file\n"
    "  --psk FILE             a PSK file, once per psk token (XXpsk3...)\n"
    "  --prologue HEX         bytes both sides must agree on\n"
    "  --host ADDR            address (default 127.0.0.1)\n"
    "  --port N               TCP port (default 7007)\n"
    "  --timeout SECONDS      longest wait for the peer (default 10)\n";

// The command line, one argument at a time.
class Args {
 public:
  Args(int argc, char** argv) : args_(argv + 1, argv + argc) {}
  bool more() const { return next_ < args_.size(); }
  std::string option() { return args_[next_++]; }
  std::string value(const std::string& option) {
    if (!more()) fail(kUsage, option + " needs a value");
    return args_[next_++];
  }
  int number(const std::string& option, int min, int max) {
    const std::string v = value(option);
    int n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
      fail(kUsage, option + " takes a number from " + std::to_string(min) + " to " +
                       std::to_string(max) + ", not '" + v + "'");
    }
    return n;
  }

 private:
  std::vector<std::string> args_;
  std::size_t next_ = 0;
};

// Takes `opt` and its value if it is an option both programs have.
inline bool common_option(const std::string& opt, Args& args, Options& o) {
  if (opt == "--protocol") {
    o.protocol = args.value(opt);
  } else if (opt == "--static-key") {
    o.static_key_file = args.value(opt);
  } else if (opt == "--remote-key") {
    o.remote_key = args.value(opt);
  } else if (opt == "--remote-key-file") {
    o.remote_key_file = args.value(opt);
  } else if (opt == "--psk") {
    o.psk_files.push_back(args.value(opt));
  } else if (opt == "--prologue") {
    o.prologue_hex = args.value(opt);
  } else if (opt == "--host") {
    o.host = args.value(opt);
  } else if (opt == "--port") {
    o.port = std::to_string(args.number(opt, 0, 65535));
  } else if (opt == "--timeout") {
    o.timeout_seconds = args.number(opt, 1, 86400);
  } else {
    return false;
  }
  return true;
}

// How a pattern handles a party's static key.
enum class KeyUse { none, known, sent };  // N; K (pre-message); X or I (in a message)

struct Pattern {
  KeyUse initiator = KeyUse::sent;
  KeyUse responder = KeyUse::sent;
  bool one_way = false;  // N, K, X: only the initiator sends on the channel

  KeyUse own(gw::Role role) const { return role == gw::Role::initiator ? initiator : responder; }
  KeyUse peer(gw::Role role) const { return role == gw::Role::initiator ? responder : initiator; }
};

// Reads the pattern's letters from the name: "Noise_XK1psk2_..." is X, K.
// One-way patterns name the initiator only; their responder's key is always
// known. A name this misreads fails Handshake::create() anyway.
inline Pattern pattern_of(std::string_view protocol) {
  Pattern p;
  if (!protocol.starts_with("Noise_")) return p;
  std::string letters;
  for (const char c : protocol.substr(6)) {
    if (c == 'N' || c == 'K' || c == 'X' || c == 'I') {
      letters += c;
    } else if (c != '1') {  // "1" marks a deferred pattern: the key is still N, K or X
      break;
    }
  }
  const auto use = [](char c) {
    return c == 'N' ? KeyUse::none : c == 'K' ? KeyUse::known : KeyUse::sent;
  };
  if (letters.size() == 1) {
    p = {use(letters[0]), KeyUse::known, true};
  } else if (letters.size() == 2) {
    p = {use(letters[0]), use(letters[1]), false};
  }
  return p;
}

// The HandshakeOptions for `role`. A peer key given on the command line is
// the only key admitted: as remote_key when the pattern's pre-message holds
// it, else in the Trust. Without one, a peer that sends its key is admitted
// whatever it is (Trust::any()) and the caller prints the key it proved.
inline gw::HandshakeOptions handshake_options(const Options& o, gw::Role role,
                                              const Pattern& pattern) {
  gw::HandshakeOptions h;
  h.role = role;
  h.protocol = o.protocol;
  const KeyUse mine = pattern.own(role);
  const KeyUse peer = pattern.peer(role);

  if (!o.static_key_file.empty()) {
    check(gw::Identity::load(o.static_key_file, h.identity), kUsage, "--static-key");
  } else if (mine != KeyUse::none) {
    h.identity = gw::Identity::generate();
  }

  std::optional<gw::Key> remote;
  if (!o.remote_key.empty()) {
    check(gw::parse_key(o.remote_key, remote.emplace()), kUsage, "--remote-key");
  } else if (!o.remote_key_file.empty()) {
    check(gw::load_public_key(o.remote_key_file, remote.emplace()), kUsage, "--remote-key-file");
  }
  if (remote && peer == KeyUse::known) {
    h.remote_key = remote;
  } else if (remote) {
    h.trust.add_key(*remote);  // create() refuses it if the pattern never authenticates the peer
  } else if (peer == KeyUse::sent) {
    h.trust = gw::Trust::any();
  }

  for (const std::string& file : o.psk_files) {
    check(gw::Psk::load(file, h.psks.emplace_back()), kUsage, "--psk");
  }
  check(gw::parse_hex(o.prologue_hex, h.prologue), kUsage, "--prologue");
  return h;
}

inline void print_key(const char* label, const gw::Key& key) {
  std::printf("%s: %s\n%s (base64): %s\n", label, gw::to_hex(key).c_str(), label,
              gw::to_base64(key).c_str());
}

// What the handshake established, for the user to check.
inline void print_channel(const gw::Channel& ch) {
  std::printf("protocol: %s\n", ch.protocol().c_str());
  if (const auto remote = ch.remote()) {
    print_key("remote static key", remote->key);
  } else {
    std::printf("remote static key: none\n");
  }
  std::printf("handshake hash: %s\n", gw::to_hex(ch.handshake_hash()).c_str());
}

inline std::string error_text(const std::string& doing) {
  return doing + ": " + std::strerror(errno);
}

// A connected TCP socket carrying length-framed Noise messages. Every wait
// for the peer ends after the timeout: the library keeps no timers.
class Stream {
 public:
  Stream(int fd, int timeout_seconds) : fd_(fd), timeout_(timeout_seconds) {}
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() { ::close(fd_); }

  void send_frame(gw::ByteView message, const std::string& what) {
    if (message.empty() || message.size() > 65535) {
      fail(kFailed, what + ": a frame holds 1 to 65535 bytes");
    }
    std::vector<std::uint8_t> frame{static_cast<std::uint8_t>(message.size() >> 8),
                                    static_cast<std::uint8_t>(message.size() & 0xff)};
    frame.insert(frame.end(), message.begin(), message.end());
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_);
    for (std::size_t sent = 0; sent < frame.size();) {
      wait(POLLOUT, deadline, "sending " + what);
      const ssize_t n =
          ::send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN && errno != EINTR) fail(kFailed, error_text("sending " + what));
      if (n > 0) sent += static_cast<std::size_t>(n);
    }
  }

  // False when the peer closed the connection cleanly, before the frame.
  bool receive_frame(std::vector<std::uint8_t>& message, const std::string& what) {
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_);
    std::uint8_t length[2];
    const std::size_t got = receive(length, 2, deadline, what);
    if (got == 0) return false;
    if (got < 2) fail(kFailed, "connection closed in the middle of " + what);
    message.resize(std::size_t{length[0]} << 8 | length[1]);
    if (message.empty()) fail(kFailed, what + ": empty frame (no Noise message is empty)");
    if (receive(message.data(), message.size(), deadline, what) < message.size()) {
      fail(kFailed, "connection closed in the middle of " + what);
    }
    return true;
  }

 private:
  using Clock = std::chrono::steady_clock;

  void wait(short events, Clock::time_point deadline, const std::string& what) {
    for (;;) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        fail(kFailed, "timed out after " + std::to_string(timeout_) + " s " + what);
      }
      pollfd p{fd_, events, 0};
      const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
      if (n > 0) return;
      if (n < 0 && errno != EINTR) fail(kFailed, error_text("poll"));
    }
  }

  // Reads up to `size` bytes; fewer only at the end of the stream.
  std::size_t receive(std::uint8_t* out, std::size_t size, Clock::time_point deadline,
                      const std::string& what) {
    std::size_t got = 0;
    while (got < size) {
      wait(POLLIN, deadline, "waiting for " + what);
      const ssize_t n = ::recv(fd_, out + got, size - got, MSG_DONTWAIT);
      if (n == 0) break;
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        fail(kFailed, error_text("receiving " + what));
      }
      if (n > 0) got += static_cast<std::size_t>(n);
    }
    return got;
  }

  int fd_;
  int timeout_;
};

// Runs the handshake to the end over `s` and returns the channel.
inline gw::Channel run_handshake(gw::Handshake& hs, Stream& s) {
  std::vector<std::uint8_t> message;
  for (int n = 1; hs.next() != gw::Handshake::Next::done; ++n) {
    const std::string what = "handshake message " + std::to_string(n);
    if (hs.next() == gw::Handshake::Next::write) {
      check(hs.write(message), kFailed, "handshake");
      s.send_frame(message, what);
    } else if (hs.next() == gw::Handshake::Next::read) {
      if (!s.receive_frame(message, what)) {
        fail(kFailed, "the peer closed the connection before " + what);
      }
      // Over a stream nothing else can come: a message that fails to read ends it.
      check(hs.read(message), kFailed, "handshake");
    } else {
      fail(kFailed, "the handshake failed");
    }
  }
  gw::Channel ch;
  check(hs.finish(ch), kFailed, "finishing the handshake");
  return ch;
}

// The addresses `o` names; the listening side passes AI_PASSIVE.
inline addrinfo* resolve(const Options& o, int flags) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  if (const int rc = ::getaddrinfo(o.host.c_str(), o.port.c_str(), &hints, &list); rc != 0) {
    fail(kUsage, o.host + " port " + o.port + ": " + ::gai_strerror(rc));
  }
  return list;
}

// "127.0.0.1:7007" or "[::1]:7007".
inline std::string address_text(const sockaddr* addr, socklen_t len) {
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  if (::getnameinfo(addr, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  const std::string h = addr->sa_family == AF_INET6 ? "[" + std::string(host) + "]" : host;
  return h + ":" + port;
}

// Connects to the first address that answers, each attempt bounded by the timeout.
inline int connect_to(const Options& o) {
  addrinfo* list = resolve(o, 0);
  std::string error = "no address";
  int fd = -1;
  for (const addrinfo* a = list; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const std::string where = "connecting to " + address_text(a->ai_addr, a->ai_addrlen);
    int err = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      socklen_t len = sizeof err;
      if (::poll(&p, 1, o.timeout_seconds * 1000) != 1) {
        err = ETIMEDOUT;
      } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
      }
    }
    if (err != 0) {
      error = where + ": " + (err == ETIMEDOUT ? "timed out" : std::strerror(err));
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(list);
  if (fd < 0) fail(kFailed, error);
  return fd;
}

// Listens on the first address; `bound` is where, with the port the OS picked for --port 0.
inline int listen_on(const Options& o, std::string& bound) {
  addrinfo* list = resolve(o, AI_PASSIVE);
  const int fd = ::socket(list->ai_family, list->ai_socktype | SOCK_CLOEXEC, list->ai_protocol);
  const int yes = 1;
  if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0 ||
      ::bind(fd, list->ai_addr, list->ai_addrlen) != 0 || ::listen(fd, 8) != 0) {
    const std::string error = error_text("listening on " + o.host + " port " + o.port);
    ::freeaddrinfo(list);
    fail(kFailed, error);
  }
  ::freeaddrinfo(list);
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  bound = address_text(reinterpret_cast<const sockaddr*>(&addr), len);
  return fd;
}

}  // namespace echo
