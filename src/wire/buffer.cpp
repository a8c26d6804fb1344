// SPDX-License-Identifier: MIT
#include "gw/wire/buffer.hpp"

#include <algorithm>

namespace gw::wire {

std::uint64_t Reader::take(std::size_t n) noexcept {
  if (!ok_ || remaining() < n) {
    ok_ = false;
    return 0;
  }
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint64_t{data_[pos_ + i]} << (8 * i);
  pos_ += n;
  return v;
}

Bytes Reader::bytes(std::size_t n) noexcept {
  if (!ok_ || remaining() < n) {
    ok_ = false;
    return {};
  }
  const Bytes view = data_.subspan(pos_, n);
  pos_ += n;
  return view;
}

void Writer::put(std::uint64_t v, std::size_t n) noexcept {
  if (!ok_ || out_.size() - pos_ < n) {
    ok_ = false;
    return;
  }
  for (std::size_t i = 0; i < n; ++i)
    out_[pos_ + i] = static_cast<std::uint8_t>(v >> (8 * i));
  pos_ += n;
}

void Writer::bytes(Bytes b) noexcept {
  if (!ok_ || out_.size() - pos_ < b.size()) {
    ok_ = false;
    return;
  }
  std::copy(b.begin(), b.end(), out_.begin() + static_cast<std::ptrdiff_t>(pos_));
  pos_ += b.size();
}

void Writer::zeros(std::size_t n) noexcept {
  if (!ok_ || out_.size() - pos_ < n) {
    ok_ = false;
    return;
  }
  std::fill_n(out_.begin() + static_cast<std::ptrdiff_t>(pos_), n, std::uint8_t{0});
  pos_ += n;
}

std::uint32_t load_u32(Bytes b) noexcept {
  return static_cast<std::uint32_t>(b[0]) | static_cast<std::uint32_t>(b[1]) << 8 |
         static_cast<std::uint32_t>(b[2]) << 16 | static_cast<std::uint32_t>(b[3]) << 24;
}

void store_u32(MutBytes b, std::uint32_t v) noexcept {
  for (std::size_t i = 0; i < 4; ++i)
    b[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

}  // namespace gw::wire
