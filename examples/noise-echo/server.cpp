// SPDX-License-Identifier: MIT
// noise-echo-server: accepts TCP connections one at a time, runs a Noise
// handshake as the responder, then opens each message and sends it back
// sealed until the client closes the connection.
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "common.hpp"

namespace {

constexpr const char* kHelp =
    "usage: noise-echo-server [options]\n"
    "  --count N              serve N connections, then exit (default 1)\n"
    "  --forever              serve until killed\n";

// One connection, from the handshake to the client's close.
void serve(echo::Stream& stream, const gw::HandshakeOptions& options, bool one_way) {
  gw::Handshake hs;
  echo::check(gw::Handshake::create(options, hs), echo::kUsage, "starting the handshake");
  gw::Channel ch = echo::run_handshake(hs, stream);
  echo::print_channel(ch);

  std::vector<std::uint8_t> message, plaintext, sealed;
  // The timeout bounds the client's silence between two messages too.
  while (stream.receive_frame(message, "the next message")) {
    echo::check(ch.open(message, plaintext), echo::kFailed, "opening a message");
    if (one_way) {  // the responder of N, K or X cannot send
      const std::string_view text = echo::text(plaintext);
      std::printf("received: %.*s\n", static_cast<int>(text.size()), text.data());
      continue;
    }
    echo::check(ch.seal(plaintext, sealed), echo::kFailed, "sealing the echo");
    stream.send_frame(sealed, "the echo");
    std::printf("echoed %zu bytes\n", plaintext.size());
  }
  std::printf("connection closed\n");
}

int run(int argc, char** argv) {
  echo::Options o;
  int count = 1;
  echo::Args args(argc, argv);
  while (args.more()) {
    const std::string opt = args.option();
    if (opt == "--count") {
      count = args.number(opt, 1, 1000000);
    } else if (opt == "--forever") {
      count = 0;
    } else if (opt == "--help") {
      std::printf("%s%s", kHelp, echo::kCommonUsage);
      return 0;
    } else if (!echo::common_option(opt, args, o)) {
      echo::fail(echo::kUsage, "unknown option " + opt + " (see --help)");
    }
  }

  // Everything the command line can get wrong fails here, before listening.
  const echo::Pattern pattern = echo::pattern_of(o.protocol);
  const gw::HandshakeOptions options = echo::handshake_options(o, gw::Role::responder, pattern);
  gw::Handshake check_only;
  echo::check(gw::Handshake::create(options, check_only), echo::kUsage, "starting the handshake");
  if (pattern.own(options.role) != echo::KeyUse::none) {
    echo::print_key("local static key", options.identity.public_key());
  }

  std::string bound;
  const int listener = echo::listen_on(o, bound);
  std::printf("listening on %s\n", bound.c_str());

  int failures = 0;
  for (int served = 0; count == 0 || served < count; ++served) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    // Waiting for a client is not waiting on a peer: no timeout here.
    const int fd =
        ::accept4(listener, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) echo::fail(echo::kFailed, echo::error_text("accept"));
    std::printf("connection from %s\n",
                echo::address_text(reinterpret_cast<const sockaddr*>(&peer), len).c_str());
    echo::Stream stream(fd, o.timeout_seconds);
    try {
      serve(stream, options, pattern.one_way);
    } catch (const echo::Fatal& f) {  // a failed connection does not stop the server
      std::fprintf(stderr, "noise-echo-server: %s\n", f.message.c_str());
      ++failures;
    }
  }
  ::close(listener);
  return failures == 0 ? 0 : echo::kFailed;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);             // a closed socket or stdout is an error, not a signal
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line reaches a pipe at once
  try {
    return run(argc, argv);
  } catch (const echo::Fatal& f) {
    std::fprintf(stderr, "noise-echo-server: %s\n", f.message.c_str());
    return f.code;
  }
}
