// SPDX-License-Identifier: MIT
// doctest printers for the Noise layer's enums, so a failed CHECK shows
// "decrypt_failed" rather than a raw number. Found by argument-dependent lookup.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "gw/noise/error.hpp"
#include "gw/noise/handshake_state.hpp"
#include "gw/noise/protocol.hpp"

namespace gw::noise {

inline doctest::String toString(Error e) {
  switch (e) {
    case Error::ok:
      return "ok";
    case Error::wrong_state:
      return "wrong_state";
    case Error::missing_key:
      return "missing_key";
    case Error::unexpected_key:
      return "unexpected_key";
    case Error::psk_count:
      return "psk_count";
    case Error::message_too_large:
      return "message_too_large";
    case Error::message_too_short:
      return "message_too_short";
    case Error::buffer_too_small:
      return "buffer_too_small";
    case Error::decrypt_failed:
      return "decrypt_failed";
    case Error::dh_failed:
      return "dh_failed";
    case Error::nonce_exhausted:
      return "nonce_exhausted";
  }
  return "Error(?)";
}

inline doctest::String toString(ParseResult::Status s) {
  switch (s) {
    case ParseResult::Status::ok:
      return "ok";
    case ParseResult::Status::malformed:
      return "malformed";
    case ParseResult::Status::unsupported:
      return "unsupported";
  }
  return "Status(?)";
}

inline doctest::String toString(Token t) {
  return to_string(t);
}

inline doctest::String toString(HandshakeState::Action a) {
  switch (a) {
    case HandshakeState::Action::setup:
      return "setup";
    case HandshakeState::Action::write_message:
      return "write_message";
    case HandshakeState::Action::read_message:
      return "read_message";
    case HandshakeState::Action::split:
      return "split";
    case HandshakeState::Action::finished:
      return "finished";
    case HandshakeState::Action::failed:
      return "failed";
  }
  return "Action(?)";
}

inline doctest::String toString(Role r) {
  return r == Role::initiator ? "initiator" : "responder";
}

}  // namespace gw::noise

namespace gw::crypto {

inline doctest::String toString(HashAlg h) {
  return to_string(h);
}
inline doctest::String toString(CipherAlg c) {
  return c == CipherAlg::chachapoly ? "ChaChaPoly" : "AESGCM";
}

}  // namespace gw::crypto

namespace gw::test {

// The protocol called `name`, which the test expects gw to support.
inline noise::Protocol parsed_protocol(const std::string& name) {
  const auto r = noise::parse_protocol(name);
  REQUIRE_MESSAGE(r.status == noise::ParseResult::Status::ok, name);
  return *r.protocol;
}

}  // namespace gw::test
