// SPDX-License-Identifier: MIT
// The byte layouts of gw's UDP messages (docs/PROTOCOL.md, sections 3-4).
//
// Parsers check the type and the size (exact for fixed-size messages, bounds
// for the others) and the reserved fields, and return views into the
// datagram: nothing is copied and no length is trusted. Writers fill a
// caller's buffer; for handshake messages they write the header and return
// where the Noise message goes, so that the Noise layer writes straight into
// the datagram. mac1 and mac2 are filled by session/cookie.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"

namespace gw::wire {

enum class MessageType : std::uint8_t {
  initiation = 1,
  response = 2,
  finish = 3,
  retry = 4,
  cookie_reply = 5,
  transport = 6,
};

enum class ParseStatus : std::uint8_t {
  ok,
  empty,             // no bytes at all
  wrong_type,        // the type byte is not this message's (or not any)
  wrong_size,        // not the exact size, or outside the bounds
  reserved_nonzero,  // a reserved field or flag bit is set
  bad_value,         // a field holds a value the protocol forbids
  later_version,     // an initiation of a later version: only its version and macs were read
};

const char* to_string(ParseStatus s) noexcept;
const char* to_string(MessageType t) noexcept;

// The type of a datagram, if its first byte names one.
std::optional<MessageType> peek_type(Bytes datagram) noexcept;

// --- Initiation (type 1) ---

struct InitiationFields {
  std::uint8_t flags = 0;  // wire_spec::kFlagPsk | wire_spec::kFlagRetried
  std::uint8_t suite = 0;
  std::uint32_t sender_index = 0;
  std::array<std::uint8_t, wire_spec::kHashLen> first_hash{};  // with kFlagRetried
  std::array<std::uint8_t, wire_spec::kMacLen> retry_tag{};    // with kFlagRetried
};

struct Initiation {
  // Byte 3: wire_spec::kInitiationVersionV1, or the later version whose
  // initiation this is (ParseStatus::later_version: nothing else is read).
  std::uint8_t version = wire_spec::kInitiationVersionV1;
  InitiationFields fields;
  Bytes header;  // bytes before the Noise message: part of the prologue
  Bytes noise;   // Noise message 1: e || offer
  Bytes mac1, mac2;
  bool psk() const noexcept { return (fields.flags & wire_spec::kFlagPsk) != 0; }
  bool retried() const noexcept { return (fields.flags & wire_spec::kFlagRetried) != 0; }
  bool certificate_requested() const noexcept {
    return (fields.flags & wire_spec::kFlagCertificate) != 0;
  }
};

// Exact size of an initiation with these flags; 0 for flags with unknown bits.
std::size_t initiation_size(std::uint8_t flags) noexcept;
std::size_t initiation_header_size(std::uint8_t flags) noexcept;
ParseStatus parse_initiation(Bytes datagram, Initiation& out) noexcept;
// Writes the header; returns its size (the Noise message's offset), or 0 if
// `out` is smaller than initiation_size(fields.flags).
std::size_t write_initiation_header(MutBytes out, const InitiationFields& fields) noexcept;

// --- Response (type 2) and finish (type 3) ---

struct Response {
  std::uint32_t sender_index = 0;
  std::uint32_t receiver_index = 0;
  Bytes noise;  // e || encrypted s || encrypted payload
  Bytes mac1;
};

struct Finish {
  std::uint32_t receiver_index = 0;
  Bytes noise;  // encrypted s || encrypted payload
  Bytes mac1;
};

ParseStatus parse_response(Bytes datagram, Response& out) noexcept;
ParseStatus parse_finish(Bytes datagram, Finish& out) noexcept;
// Write the header; return its size, or 0 if `out` cannot hold the header
// and mac1.
std::size_t write_response_header(MutBytes out, std::uint32_t sender_index,
                                  std::uint32_t receiver_index) noexcept;
std::size_t write_finish_header(MutBytes out, std::uint32_t receiver_index) noexcept;

// --- Retry (type 4) ---

struct Retry {
  std::uint8_t suite = 0;
  std::uint32_t receiver_index = 0;
  Bytes retry_tag;
  Bytes mac1;
};

ParseStatus parse_retry(Bytes datagram, Retry& out) noexcept;
// Writes the whole message with mac1 zeroed; returns wire_spec::kRetrySize or 0.
std::size_t write_retry(MutBytes out, std::uint8_t suite, std::uint32_t receiver_index,
                        Bytes retry_tag) noexcept;

// --- Cookie reply (type 5) ---

struct CookieReply {
  std::uint32_t receiver_index = 0;
  Bytes nonce;             // 24 bytes
  Bytes encrypted_cookie;  // 32 bytes: cookie + tag
};

ParseStatus parse_cookie_reply(Bytes datagram, CookieReply& out) noexcept;
std::size_t write_cookie_reply(MutBytes out, std::uint32_t receiver_index, Bytes nonce,
                               Bytes encrypted_cookie) noexcept;

// --- Transport (type 6) ---

struct Transport {
  std::uint32_t receiver_index = 0;
  std::uint64_t counter = 0;
  Bytes ciphertext;  // AEAD output: padded packet + tag
};

ParseStatus parse_transport(Bytes datagram, Transport& out) noexcept;
// Writes the 16-byte header; returns its size or 0.
std::size_t write_transport_header(MutBytes out, std::uint32_t receiver_index,
                                   std::uint64_t counter) noexcept;

}  // namespace gw::wire
