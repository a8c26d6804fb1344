// SPDX-License-Identifier: MIT
#include "gw/wire/payloads.hpp"

#include <algorithm>

#include "gw/wire/buffer.hpp"

namespace gw::wire {

using namespace wire_spec;

bool Offer::contains(std::uint8_t suite) const noexcept {
  const auto l = list();
  return std::find(l.begin(), l.end(), suite) != l.end();
}

ParseStatus parse_offer(Bytes payload, Offer& out) noexcept {
  if (payload.size() != kOfferSize) return ParseStatus::wrong_size;
  Reader r(payload);
  out.version = r.u8();
  out.count = r.u8();
  if (out.count == 0 || out.count > kMaxOfferedSuites) return ParseStatus::bad_value;
  for (std::size_t i = 0; i < kMaxOfferedSuites; ++i)
    out.suites[i] = r.u8();
  for (std::size_t i = 0; i < kMaxOfferedSuites; ++i) {
    const bool listed = i < out.count;
    if (!listed && out.suites[i] != 0) return ParseStatus::reserved_nonzero;
    if (listed && out.suites[i] == 0) return ParseStatus::bad_value;
    if (listed && std::find(out.suites.begin(), out.suites.begin() + static_cast<std::ptrdiff_t>(i),
                            out.suites[i]) != out.suites.begin() + static_cast<std::ptrdiff_t>(i)) {
      return ParseStatus::bad_value;  // a suite offered twice
    }
  }
  return ParseStatus::ok;
}

std::size_t write_offer(MutBytes out, const Offer& offer) noexcept {
  if (out.size() < kOfferSize || offer.count == 0 || offer.count > kMaxOfferedSuites) return 0;
  Writer w(out);
  w.u8(offer.version);
  w.u8(offer.count);
  for (std::size_t i = 0; i < kMaxOfferedSuites; ++i)
    w.u8(i < offer.count ? offer.suites[i] : 0);
  return w.ok() ? w.position() : 0;
}

const Extension* ExtensionList::find(std::uint16_t type) const noexcept {
  for (const Extension& e : view()) {
    if (e.type == type) return &e;
  }
  return nullptr;
}

ParseStatus parse_extensions(Bytes payload, ExtensionList& out) noexcept {
  out.count = 0;
  Reader r(payload);
  const std::uint8_t version = r.u8();
  const std::uint8_t count = r.u8();
  if (!r.ok()) return ParseStatus::wrong_size;
  if (version != kExtensionListVersion || count > kMaxExtensions) return ParseStatus::bad_value;
  for (std::size_t i = 0; i < count; ++i) {
    Extension e;
    e.type = r.u16();
    e.flags = r.u8();
    const std::uint16_t len = r.u16();
    e.value = r.bytes(len);
    if (!r.ok()) return ParseStatus::wrong_size;
    if ((e.flags & ~kExtensionCritical) != 0) return ParseStatus::reserved_nonzero;
    if (out.find(e.type) != nullptr) return ParseStatus::bad_value;  // a type twice
    out.entries[out.count++] = e;
  }
  return r.finished() ? ParseStatus::ok : ParseStatus::wrong_size;
}

const ExtensionType* extension_type(std::uint16_t type) noexcept {
  for (const ExtensionType& t : kExtensionTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

ExtensionCheck read_extensions(Bytes payload, ExtensionList& out) noexcept {
  if (parse_extensions(payload, out) != ParseStatus::ok) return {ExtensionFault::malformed};
  for (const Extension& e : out.view()) {
    const ExtensionType* t = extension_type(e.type);
    if (t == nullptr && e.critical()) {
      return {ExtensionFault::unknown_critical, e.type, e.value.size()};
    }
    if (t != nullptr && (e.value.size() < t->min_len || e.value.size() > t->max_len)) {
      return {ExtensionFault::wrong_length, e.type, e.value.size()};
    }
  }
  return {};
}

ExtensionWriter::ExtensionWriter(MutBytes out) noexcept : out_(out) {
  if (out_.size() < kMinExtensionListSize) {
    ok_ = false;
    return;
  }
  out_[0] = kExtensionListVersion;
  out_[1] = 0;
  pos_ = kMinExtensionListSize;
}

bool ExtensionWriter::add(std::uint16_t type, std::uint8_t flags, Bytes value) noexcept {
  if (!ok_ || count_ >= kMaxExtensions || value.size() > 0xffff ||
      out_.size() - pos_ < kExtensionHeaderSize + value.size()) {
    return false;
  }
  Writer w(out_.subspan(pos_));
  w.u16(type);
  w.u8(flags);
  w.u16(static_cast<std::uint16_t>(value.size()));
  w.bytes(value);
  pos_ += w.position();
  out_[1] = ++count_;
  return true;
}

}  // namespace gw::wire
