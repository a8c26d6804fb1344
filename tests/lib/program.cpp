// SPDX-License-Identifier: MIT
// The complete example of docs/LIBRARY.md: two processes joined by a socket
// pair run a handshake over it (the parent initiates, the child responds), and
// the child echoes one sealed message. Exit 0 only if both sides agree.
// `program` runs gw's negotiated mode; `program NOISE_PROTOCOL_NAME` a fixed
// protocol. tests/lib/install_test.sh builds it against the installed library.
#include <gw/gw.hpp>

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace {

bool send_all(int fd, const std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

bool receive_all(int fd, std::uint8_t* p, std::size_t n) {
  while (n > 0) {
    const ssize_t k = recv(fd, p, n, 0);
    if (k <= 0) return false;  // closed, failed, or timed out (SO_RCVTIMEO)
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

// Over a stream, each message goes as a 2-byte big-endian length, then the
// message. Handshake messages and sealed messages never exceed 65,535 bytes.
bool send_frame(int fd, const std::vector<std::uint8_t>& message) {
  const std::uint8_t length[2] = {static_cast<std::uint8_t>(message.size() >> 8),
                                  static_cast<std::uint8_t>(message.size() & 0xff)};
  return send_all(fd, length, 2) && send_all(fd, message.data(), message.size());
}

bool receive_frame(int fd, std::vector<std::uint8_t>& message) {
  std::uint8_t length[2];
  if (!receive_all(fd, length, 2)) return false;
  message.resize(std::size_t{length[0]} << 8 | length[1]);
  return receive_all(fd, message.data(), message.size());
}

bool failed(const char* who, const gw::Status& st) {
  std::fprintf(stderr, "%s: %s: %s\n", who, gw::to_string(st.code), st.message.c_str());
  return false;
}

bool failed(const char* who, const char* what) {
  std::fprintf(stderr, "%s: %s\n", who, what);
  return false;
}

// Runs the handshake over `fd` until it is done, then yields the channel.
bool handshake(int fd, const gw::HandshakeOptions& options, gw::Channel& channel, const char* who) {
  gw::Handshake hs;
  gw::Status st = gw::Handshake::create(options, hs);
  std::vector<std::uint8_t> message;
  while (st && hs.next() != gw::Handshake::Next::done) {
    if (hs.next() == gw::Handshake::Next::write) {
      st = hs.write(message);
      if (st && !send_frame(fd, message)) return failed(who, "send failed");
    } else {
      if (!receive_frame(fd, message))
        return failed(who, "the peer closed the stream or went silent");
      st = hs.read(message);  // a refused peer or a failed negotiation ends here
    }
  }
  if (st) st = hs.finish(channel);
  if (!st) return failed(who, st);

  std::printf("%s: protocol %s\n", who, channel.protocol().c_str());
  if (const auto peer = channel.remote())
    std::printf("%s: peer %s\n", who, gw::to_base64(peer->key).c_str());
  std::printf("%s: handshake hash %s\n", who, gw::to_hex(channel.handshake_hash()).c_str());
  return true;
}

gw::HandshakeOptions options(gw::Role role, const std::string& protocol, const gw::Identity& me,
                             const gw::Key& peer) {
  gw::HandshakeOptions o;
  o.role = role;
  o.protocol = protocol;  // empty: negotiated mode
  o.identity = me;
  o.trust.add_key(peer);  // admit this peer and nobody else
  return o;
}

// The child: answer the handshake, open one message, seal it back.
bool respond(int fd, const gw::HandshakeOptions& o) {
  gw::Channel channel;
  if (!handshake(fd, o, channel, "responder")) return false;
  std::vector<std::uint8_t> message, plaintext;
  if (!receive_frame(fd, message)) return failed("responder", "no message");
  if (gw::Status st = channel.open(message, plaintext); !st) return failed("responder", st);
  if (gw::Status st = channel.seal(plaintext, message); !st) return failed("responder", st);
  if (!send_frame(fd, message)) return failed("responder", "send failed");
  std::printf("responder: echoed %zu bytes\n", plaintext.size());
  return true;
}

// The parent: start the handshake, send one message, check its echo.
bool initiate(int fd, const gw::HandshakeOptions& o) {
  gw::Channel channel;
  if (!handshake(fd, o, channel, "initiator")) return false;
  const std::string text = "hello over gw";
  const std::vector<std::uint8_t> sent(text.begin(), text.end());
  std::vector<std::uint8_t> message, echo;
  if (gw::Status st = channel.seal(sent, message); !st) return failed("initiator", st);
  if (!send_frame(fd, message) || !receive_frame(fd, message))
    return failed("initiator", "no echo");
  if (gw::Status st = channel.open(message, echo); !st) return failed("initiator", st);
  if (echo != sent) return failed("initiator", "the echo differs");
  std::printf("initiator: echo matches\n");
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string protocol = argc > 1 ? argv[1] : "";
  // Each side's key pair; each knows the other's public key beforehand (in real
  // use: Identity::load of its own key file, load_public_key of the peer's).
  const gw::Identity server = gw::Identity::generate();
  const gw::Identity client = gw::Identity::generate();

  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
    std::perror("socketpair");
    return 1;
  }
  const timeval limit{10, 0};  // the library keeps no timers: bound every wait
  for (int fd : fds)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    return 1;
  }
  if (pid == 0) {  // the child
    close(fds[0]);
    const auto o = options(gw::Role::responder, protocol, server, client.public_key());
    return respond(fds[1], o) ? 0 : 1;
  }
  close(fds[1]);
  const auto o = options(gw::Role::initiator, protocol, client, server.public_key());
  const bool ok = initiate(fds[0], o);
  close(fds[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) {
    std::perror("waitpid");
    return 1;
  }
  const bool child_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!child_ok) std::fprintf(stderr, "initiator: the responder failed\n");
  return ok && child_ok ? 0 : 1;
}
