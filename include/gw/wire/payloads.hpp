// SPDX-License-Identifier: MIT
// The Noise payloads of gw's handshake (docs/PROTOCOL.md, sections 4.1 and 6):
// the suite offer of message 1 and the extension list of messages 2 and 3.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/wire/messages.hpp"

namespace gw::wire {

struct Offer {
  std::uint8_t version = wire_spec::kProtocolVersion;
  std::uint8_t count = 0;
  std::array<std::uint8_t, wire_spec::kMaxOfferedSuites> suites{};

  std::span<const std::uint8_t> list() const noexcept { return {suites.data(), count}; }
  bool contains(std::uint8_t suite) const noexcept;
};

// Reads an offer. The version is returned as sent (the caller reports an
// unsupported one); count, duplicates, zeros and the padding are checked.
ParseStatus parse_offer(Bytes payload, Offer& out) noexcept;
// Writes wire_spec::kOfferSize bytes; returns that or 0.
std::size_t write_offer(MutBytes out, const Offer& offer) noexcept;

struct Extension {
  std::uint16_t type = 0;
  std::uint8_t flags = 0;
  Bytes value;
  bool critical() const noexcept { return (flags & wire_spec::kExtensionCritical) != 0; }
};

struct ExtensionList {
  std::array<Extension, wire_spec::kMaxExtensions> entries{};
  std::size_t count = 0;

  std::span<const Extension> view() const noexcept { return {entries.data(), count}; }
  const Extension* find(std::uint16_t type) const noexcept;
};

// Reads a whole extension list: the version, every entry in bounds, the list
// filling the payload exactly, no type twice. Unknown types are kept; the
// caller refuses unknown critical ones.
ParseStatus parse_extensions(Bytes payload, ExtensionList& out) noexcept;

// The extension types gw defines (docs/PROTOCOL.md, section 6), with the
// length rule of each value: the one table every receiver checks against.
struct ExtensionType {
  std::uint16_t type = 0;
  const char* name = "";
  std::size_t min_len = 0, max_len = 0;
};
inline constexpr std::array<ExtensionType, 4> kExtensionTypes{{
    {wire_spec::kExtCertificate, "certificate", 1, wire_spec::kMaxCertificateSize},
    {wire_spec::kExtSuites, "suites", 1, wire_spec::kMaxOfferedSuites},
    {wire_spec::kExtFeatures, "features", wire_spec::kFeaturesSize, wire_spec::kFeaturesSize},
    {wire_spec::kExtPadding, "padding", 0, wire_spec::kMaxHandshakeSize},
}};
// The table's entry for `type`; nullptr for a type gw does not define.
const ExtensionType* extension_type(std::uint16_t type) noexcept;

// What a receiver refuses in an extension list.
enum class ExtensionFault : std::uint8_t {
  none,
  malformed,         // parse_extensions refused the list
  wrong_length,      // a defined type whose value breaks its length rule
  unknown_critical,  // a type gw does not define, marked critical
};
struct ExtensionCheck {
  ExtensionFault fault = ExtensionFault::none;
  std::uint16_t type = 0;  // the entry at fault, with wrong_length and unknown_critical
  std::size_t length = 0;  // its value's length
  explicit operator bool() const noexcept { return fault == ExtensionFault::none; }
};
// Parses a received list, then checks its entries in order against the table.
ExtensionCheck read_extensions(Bytes payload, ExtensionList& out) noexcept;

// Builds an extension list in a caller's buffer.
class ExtensionWriter {
 public:
  explicit ExtensionWriter(MutBytes out) noexcept;
  // Appends an entry; false if it does not fit or the list is full.
  bool add(std::uint16_t type, std::uint8_t flags, Bytes value) noexcept;
  // The list's size so far (at least 2: version and count).
  std::size_t size() const noexcept { return ok_ ? pos_ : 0; }

 private:
  MutBytes out_;
  std::size_t pos_ = 0;
  std::uint8_t count_ = 0;
  bool ok_ = true;
};

}  // namespace gw::wire
