// SPDX-License-Identifier: MIT
// Bounded little-endian reading and writing over byte spans. Every wire
// parser reads through Reader, so no read can pass the end of a datagram:
// a read past the end returns zeros and marks the Reader failed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gw/bytes.hpp"

namespace gw::wire {

class Reader {
 public:
  explicit Reader(Bytes data) noexcept : data_(data) {}

  std::uint8_t u8() noexcept { return static_cast<std::uint8_t>(take(1)); }
  std::uint16_t u16() noexcept { return static_cast<std::uint16_t>(take(2)); }
  std::uint32_t u32() noexcept { return static_cast<std::uint32_t>(take(4)); }
  std::uint64_t u64() noexcept { return take(8); }
  // The next n bytes as a view (empty, and failed, if fewer remain).
  Bytes bytes(std::size_t n) noexcept;
  // Everything not yet read.
  Bytes rest() noexcept { return bytes(remaining()); }

  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  std::size_t position() const noexcept { return pos_; }
  bool ok() const noexcept { return ok_; }
  // True when every byte was read and no read failed.
  bool finished() const noexcept { return ok_ && pos_ == data_.size(); }

 private:
  std::uint64_t take(std::size_t n) noexcept;

  Bytes data_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

class Writer {
 public:
  explicit Writer(MutBytes out) noexcept : out_(out) {}

  void u8(std::uint8_t v) noexcept { put(v, 1); }
  void u16(std::uint16_t v) noexcept { put(v, 2); }
  void u32(std::uint32_t v) noexcept { put(v, 4); }
  void u64(std::uint64_t v) noexcept { put(v, 8); }
  void bytes(Bytes b) noexcept;
  void zeros(std::size_t n) noexcept;

  std::size_t position() const noexcept { return pos_; }
  bool ok() const noexcept { return ok_; }

 private:
  void put(std::uint64_t v, std::size_t n) noexcept;

  MutBytes out_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// Little-endian helpers for fields at known offsets.
std::uint32_t load_u32(Bytes b) noexcept;
void store_u32(MutBytes b, std::uint32_t v) noexcept;

}  // namespace gw::wire
