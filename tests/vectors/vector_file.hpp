// SPDX-License-Identifier: MIT
// Reading and replaying Noise test vectors in the cacophony JSON format
// (also written by snow and other implementations):
//   {"vectors": [{"protocol_name": ..., "init_prologue": hex, "init_psks": [hex],
//     "init_static": hex, "init_ephemeral": hex, "init_remote_static": hex,
//     "resp_...": ..., "handshake_hash": hex, "fail": bool,
//     "messages": [{"payload": hex, "ciphertext": hex}, ...]}]}
// Older files name the protocol "name" and give one PSK as "init_psk".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gw::vectors {

using ByteVec = std::vector<std::uint8_t>;

struct Message {
  ByteVec payload;
  ByteVec ciphertext;
};

struct Side {
  ByteVec prologue;
  std::vector<ByteVec> psks;
  std::optional<ByteVec> static_key;        // private
  std::optional<ByteVec> ephemeral_key;     // private
  std::optional<ByteVec> remote_static;     // public
  std::optional<ByteVec> remote_ephemeral;  // public
};

struct Vector {
  std::size_t index = 0;  // position in its file
  std::string protocol_name;
  Side init, resp;
  std::optional<ByteVec> handshake_hash;
  bool expect_failure = false;  // "fail": true
  std::vector<Message> messages;
  // Set when a field could not be read; such a vector fails with this reason.
  std::string format_error;
};

struct VectorFile {
  std::vector<Vector> vectors;
  std::string error;  // non-empty when the file as a whole could not be read
};

// Decodes hex (either case); nullopt on odd length or a non-hex character.
std::optional<ByteVec> from_hex(std::string_view hex);
std::string to_hex(const ByteVec& bytes);

VectorFile parse_vector_file(std::string_view json_text);
VectorFile load_vector_file(const std::string& path);

enum class Outcome { pass, fail, skip };

struct ReplayResult {
  Outcome outcome = Outcome::fail;
  std::string reason;  // why it failed or was skipped
};

// Runs both sides of the vector's handshake with its fixed keys and checks
// every ciphertext, every decrypted payload and the handshake hash. With
// "fail": true the vector passes only if the replay fails somewhere.
ReplayResult replay(const Vector& vector);

}  // namespace gw::vectors
