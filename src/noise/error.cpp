// SPDX-License-Identifier: MIT
#include "gw/noise/error.hpp"

namespace gw::noise {

const char* to_string(Error e) noexcept {
  switch (e) {
    case Error::ok:
      return "ok";
    case Error::wrong_state:
      return "call not allowed in the current handshake state";
    case Error::missing_key:
      return "a key the pattern needs was not supplied";
    case Error::unexpected_key:
      return "a remote key was supplied that the pattern does not use";
    case Error::psk_count:
      return "number of PSKs does not match the pattern";
    case Error::message_too_large:
      return "message longer than 65535 bytes";
    case Error::message_too_short:
      return "message too short for its pattern";
    case Error::buffer_too_small:
      return "output buffer too small";
    case Error::decrypt_failed:
      return "decryption failed (bad tag)";
    case Error::dh_failed:
      return "Diffie-Hellman result is all zeros";
    case Error::nonce_exhausted:
      return "nonce exhausted";
  }
  return "unknown error";
}

}  // namespace gw::noise
