// SPDX-License-Identifier: MIT
// noise-echo-client: connects over TCP, runs a Noise handshake as the
// initiator, then seals each message (the --message options, else each line
// of stdin), sends it, and checks that the server echoes it back unchanged.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common.hpp"

namespace {

constexpr const char* kHelp =
    "usage: noise-echo-client [options]\n"
    "  --message TEXT         send TEXT (repeatable); default: each line of stdin\n";

int run(int argc, char** argv) {
  echo::Options o;
  std::vector<std::string> messages;
  echo::Args args(argc, argv);
  while (args.more()) {
    const std::string opt = args.option();
    if (opt == "--message") {
      messages.push_back(args.value(opt));
    } else if (opt == "--help") {
      std::printf("%s%s", kHelp, echo::kCommonUsage);
      return 0;
    } else if (!echo::common_option(opt, args, o)) {
      echo::fail(echo::kUsage, "unknown option " + opt + " (see --help)");
    }
  }

  // Everything the command line can get wrong fails here, before connecting.
  const echo::Pattern pattern = echo::pattern_of(o.protocol);
  const gw::HandshakeOptions options = echo::handshake_options(o, gw::Role::initiator, pattern);
  gw::Handshake hs;
  echo::check(gw::Handshake::create(options, hs), echo::kUsage, "starting the handshake");
  if (pattern.own(options.role) != echo::KeyUse::none) {
    echo::print_key("local static key", options.identity.public_key());
  }

  echo::Stream stream(echo::connect_to(o), o.timeout_seconds);
  gw::Channel ch = echo::run_handshake(hs, stream);
  echo::print_channel(ch);

  std::size_t next = 0;
  const auto next_message = [&](std::string& m) {
    if (!messages.empty()) {
      if (next == messages.size()) return false;
      m = messages[next++];
      return true;
    }
    return static_cast<bool>(std::getline(std::cin, m));
  };
  std::string message;
  std::vector<std::uint8_t> sealed, reply, echoed;
  while (next_message(message)) {
    if (message.size() > gw::Channel::kMaxPlaintext) {
      echo::fail(echo::kUsage, "a message of " + std::to_string(message.size()) +
                                   " bytes: a Noise message holds at most " +
                                   std::to_string(gw::Channel::kMaxPlaintext));
    }
    echo::check(ch.seal(echo::bytes(message), sealed), echo::kFailed, "sealing a message");
    stream.send_frame(sealed, "a message");
    const int size = static_cast<int>(message.size());
    if (pattern.one_way) {  // the responder of N, K or X cannot send
      std::printf("sent: %.*s\n", size, message.data());
      continue;
    }
    if (!stream.receive_frame(reply, "the echo")) {
      echo::fail(echo::kFailed, "the server closed the connection before the echo");
    }
    echo::check(ch.open(reply, echoed), echo::kFailed, "opening the echo");
    if (echo::text(echoed) != message)
      echo::fail(echo::kFailed, "the echo differs from the message");
    std::printf("echo: %.*s\n", size, message.data());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);             // a closed socket or stdout is an error, not a signal
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line reaches a pipe at once
  try {
    return run(argc, argv);
  } catch (const echo::Fatal& f) {
    std::fprintf(stderr, "noise-echo-client: %s\n", f.message.c_str());
    return f.code;
  }
}
