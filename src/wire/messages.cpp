// SPDX-License-Identifier: MIT
#include "gw/wire/messages.hpp"

#include <algorithm>

#include "gw/wire/buffer.hpp"

namespace gw::wire {

using namespace wire_spec;

namespace {

constexpr std::uint8_t kKnownFlags = kFlagPsk | kFlagRetried | kFlagCertificate;
constexpr std::size_t kNoiseMessage1 = 32 + kOfferSize;  // e || offer
constexpr std::size_t kPskTag = 16;                      // the offer is encrypted with a PSK

ParseStatus check_type(Bytes datagram, MessageType type) noexcept {
  if (datagram.empty()) return ParseStatus::empty;
  return datagram[0] == static_cast<std::uint8_t>(type) ? ParseStatus::ok : ParseStatus::wrong_type;
}

// Reads the three reserved bytes after the type.
bool reserved3_zero(Reader& r) noexcept {
  return r.u8() == 0 && r.u16() == 0;
}

// The trailing mac1 || mac2 of a handshake message.
void take_macs(Bytes datagram, Bytes& mac1, Bytes& mac2) noexcept {
  mac1 = datagram.subspan(datagram.size() - kMacsSize, kMacLen);
  mac2 = datagram.subspan(datagram.size() - kMacLen, kMacLen);
}

// An initiation whose byte 3 names a later version: every version keeps that
// byte and ends with mac1 || mac2, which is all version 1 reads of it.
ParseStatus later_version(Bytes datagram, Initiation& out) noexcept {
  if (datagram.size() < kMinInitiationAnyVersion || datagram.size() > kMaxHandshakeSize) {
    return ParseStatus::wrong_size;
  }
  out.fields = {};
  out.header = out.noise = {};
  take_macs(datagram, out.mac1, out.mac2);
  return ParseStatus::later_version;
}

}  // namespace

const char* to_string(ParseStatus s) noexcept {
  switch (s) {
    case ParseStatus::ok:
      return "ok";
    case ParseStatus::empty:
      return "empty datagram";
    case ParseStatus::wrong_type:
      return "wrong message type";
    case ParseStatus::wrong_size:
      return "wrong size for its type";
    case ParseStatus::reserved_nonzero:
      return "reserved field not zero";
    case ParseStatus::bad_value:
      return "forbidden field value";
    case ParseStatus::later_version:
      return "initiation of a later protocol version";
  }
  return "?";
}

const char* to_string(MessageType t) noexcept {
  switch (t) {
    case MessageType::initiation:
      return "initiation";
    case MessageType::response:
      return "response";
    case MessageType::finish:
      return "finish";
    case MessageType::retry:
      return "retry";
    case MessageType::cookie_reply:
      return "cookie reply";
    case MessageType::transport:
      return "transport";
  }
  return "?";
}

std::optional<MessageType> peek_type(Bytes datagram) noexcept {
  if (datagram.empty() || datagram[0] < 1 || datagram[0] > 6) return std::nullopt;
  return static_cast<MessageType>(datagram[0]);
}

// --- Initiation ---

std::size_t initiation_header_size(std::uint8_t flags) noexcept {
  if ((flags & ~kKnownFlags) != 0) return 0;
  return kInitiationHeaderSize + ((flags & kFlagRetried) != 0 ? kRetryBlockSize : 0);
}

std::size_t initiation_size(std::uint8_t flags) noexcept {
  const std::size_t header = initiation_header_size(flags);
  if (header == 0) return 0;
  return header + kNoiseMessage1 + ((flags & kFlagPsk) != 0 ? kPskTag : 0) + kMacsSize;
}

ParseStatus parse_initiation(Bytes datagram, Initiation& out) noexcept {
  if (const ParseStatus s = check_type(datagram, MessageType::initiation); s != ParseStatus::ok) {
    return s;
  }
  if (datagram.size() < kInitiationHeaderSize) return ParseStatus::wrong_size;
  out.version = datagram[kInitiationVersionOffset];
  if (out.version != kInitiationVersionV1) return later_version(datagram, out);
  Reader r(datagram);
  r.u8();
  out.fields.flags = r.u8();
  out.fields.suite = r.u8();
  r.u8();  // the version
  out.fields.sender_index = r.u32();
  if ((out.fields.flags & ~kKnownFlags) != 0) return ParseStatus::reserved_nonzero;
  if (datagram.size() != initiation_size(out.fields.flags)) return ParseStatus::wrong_size;
  if (out.fields.suite == 0 || out.fields.sender_index == 0) return ParseStatus::bad_value;
  if (out.retried()) {
    const Bytes hash = r.bytes(kHashLen), tag = r.bytes(kMacLen);
    std::copy(hash.begin(), hash.end(), out.fields.first_hash.begin());
    std::copy(tag.begin(), tag.end(), out.fields.retry_tag.begin());
  } else {
    out.fields.first_hash.fill(0);
    out.fields.retry_tag.fill(0);
  }
  out.header = datagram.first(r.position());
  out.noise = r.bytes(datagram.size() - r.position() - kMacsSize);
  take_macs(datagram, out.mac1, out.mac2);
  return ParseStatus::ok;
}

std::size_t write_initiation_header(MutBytes out, const InitiationFields& fields) noexcept {
  const std::size_t size = initiation_size(fields.flags);
  if (size == 0 || out.size() < size) return 0;
  Writer w(out);
  w.u8(static_cast<std::uint8_t>(MessageType::initiation));
  w.u8(fields.flags);
  w.u8(fields.suite);
  w.u8(kInitiationVersionV1);
  w.u32(fields.sender_index);
  if ((fields.flags & kFlagRetried) != 0) {
    w.bytes(fields.first_hash);
    w.bytes(fields.retry_tag);
  }
  return w.ok() ? w.position() : 0;
}

// --- Response and finish ---

ParseStatus parse_response(Bytes datagram, Response& out) noexcept {
  if (const ParseStatus s = check_type(datagram, MessageType::response); s != ParseStatus::ok) {
    return s;
  }
  if (datagram.size() < kResponseMinSize || datagram.size() > kMaxHandshakeSize) {
    return ParseStatus::wrong_size;
  }
  Reader r(datagram);
  r.u8();
  if (!reserved3_zero(r)) return ParseStatus::reserved_nonzero;
  out.sender_index = r.u32();
  out.receiver_index = r.u32();
  if (out.sender_index == 0 || out.receiver_index == 0) return ParseStatus::bad_value;
  out.noise = r.bytes(datagram.size() - r.position() - kMacLen);
  out.mac1 = r.bytes(kMacLen);
  return ParseStatus::ok;
}

ParseStatus parse_finish(Bytes datagram, Finish& out) noexcept {
  if (const ParseStatus s = check_type(datagram, MessageType::finish); s != ParseStatus::ok) {
    return s;
  }
  if (datagram.size() < kFinishMinSize || datagram.size() > kMaxHandshakeSize) {
    return ParseStatus::wrong_size;
  }
  Reader r(datagram);
  r.u8();
  if (!reserved3_zero(r)) return ParseStatus::reserved_nonzero;
  out.receiver_index = r.u32();
  if (out.receiver_index == 0) return ParseStatus::bad_value;
  out.noise = r.bytes(datagram.size() - r.position() - kMacLen);
  out.mac1 = r.bytes(kMacLen);
  return ParseStatus::ok;
}

std::size_t write_response_header(MutBytes out, std::uint32_t sender_index,
                                  std::uint32_t receiver_index) noexcept {
  if (out.size() < kResponseHeaderSize + kMacLen) return 0;
  Writer w(out);
  w.u8(static_cast<std::uint8_t>(MessageType::response));
  w.zeros(3);
  w.u32(sender_index);
  w.u32(receiver_index);
  return w.position();
}

std::size_t write_finish_header(MutBytes out, std::uint32_t receiver_index) noexcept {
  if (out.size() < kFinishHeaderSize + kMacLen) return 0;
  Writer w(out);
  w.u8(static_cast<std::uint8_t>(MessageType::finish));
  w.zeros(3);
  w.u32(receiver_index);
  return w.position();
}

// --- Retry ---

ParseStatus parse_retry(Bytes datagram, Retry& out) noexcept {
  if (const ParseStatus s = check_type(datagram, MessageType::retry); s != ParseStatus::ok) {
    return s;
  }
  if (datagram.size() != kRetrySize) return ParseStatus::wrong_size;
  Reader r(datagram);
  r.u8();
  out.suite = r.u8();
  if (r.u16() != 0) return ParseStatus::reserved_nonzero;
  out.receiver_index = r.u32();
  if (out.suite == 0 || out.receiver_index == 0) return ParseStatus::bad_value;
  out.retry_tag = r.bytes(kMacLen);
  out.mac1 = r.bytes(kMacLen);
  return ParseStatus::ok;
}

std::size_t write_retry(MutBytes out, std::uint8_t suite, std::uint32_t receiver_index,
                        Bytes retry_tag) noexcept {
  if (out.size() < kRetrySize || retry_tag.size() != kMacLen) return 0;
  Writer w(out);
  w.u8(static_cast<std::uint8_t>(MessageType::retry));
  w.u8(suite);
  w.u16(0);
  w.u32(receiver_index);
  w.bytes(retry_tag);
  w.zeros(kMacLen);
  return w.ok() ? w.position() : 0;
}

// --- Cookie reply ---

ParseStatus parse_cookie_reply(Bytes datagram, CookieReply& out) noexcept {
  if (const ParseStatus s = check_type(datagram, MessageType::cookie_reply); s != ParseStatus::ok) {
    return s;
  }
  if (datagram.size() != kCookieReplySize) return ParseStatus::wrong_size;
  Reader r(datagram);
  r.u8();
  if (!reserved3_zero(r)) return ParseStatus::reserved_nonzero;
  out.receiver_index = r.u32();
  if (out.receiver_index == 0) return ParseStatus::bad_value;
  out.nonce = r.bytes(kCookieNonceSize);
  out.encrypted_cookie = r.bytes(kEncryptedCookieSize);
  return ParseStatus::ok;
}

std::size_t write_cookie_reply(MutBytes out, std::uint32_t receiver_index, Bytes nonce,
                               Bytes encrypted_cookie) noexcept {
  if (out.size() < kCookieReplySize || nonce.size() != kCookieNonceSize ||
      encrypted_cookie.size() != kEncryptedCookieSize) {
    return 0;
  }
  Writer w(out);
  w.u8(static_cast<std::uint8_t>(MessageType::cookie_reply));
  w.zeros(3);
  w.u32(receiver_index);
  w.bytes(nonce);
  w.bytes(encrypted_cookie);
  return w.ok() ? w.position() : 0;
}

// --- Transport ---

ParseStatus parse_transport(Bytes datagram, Transport& out) noexcept {
  if (const ParseStatus s = check_type(datagram, MessageType::transport); s != ParseStatus::ok) {
    return s;
  }
  if (datagram.size() < kTransportMinSize) return ParseStatus::wrong_size;
  Reader r(datagram);
  r.u8();
  if (!reserved3_zero(r)) return ParseStatus::reserved_nonzero;
  out.receiver_index = r.u32();
  out.counter = r.u64();
  if (out.receiver_index == 0) return ParseStatus::bad_value;
  out.ciphertext = r.rest();
  return ParseStatus::ok;
}

std::size_t write_transport_header(MutBytes out, std::uint32_t receiver_index,
                                   std::uint64_t counter) noexcept {
  if (out.size() < kTransportHeaderSize) return 0;
  Writer w(out);
  w.u8(static_cast<std::uint8_t>(MessageType::transport));
  w.zeros(3);
  w.u32(receiver_index);
  w.u64(counter);
  return w.position();
}

}  // namespace gw::wire
