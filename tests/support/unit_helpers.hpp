// SPDX-License-Identifier: MIT
// Small helpers for the unit tests: hex in and out, byte views of strings.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gw/bytes.hpp"

namespace gw::test {

inline std::uint8_t hex_nibble(char c) {
  if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
  if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
  if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
  throw std::invalid_argument("bad hex digit");
}

// Decodes hex, ignoring spaces and colons (so vectors can be pasted as printed).
inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  std::string digits;
  for (char c : hex) {
    if (c != ' ' && c != ':' && c != '\n') digits.push_back(c);
  }
  if (digits.size() % 2 != 0) throw std::invalid_argument("odd hex length");
  std::vector<std::uint8_t> out(digits.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] =
        static_cast<std::uint8_t>(hex_nibble(digits[2 * i]) << 4 | hex_nibble(digits[2 * i + 1]));
  }
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> array_from_hex(std::string_view hex) {
  const std::vector<std::uint8_t> v = from_hex(hex);
  if (v.size() != N) throw std::invalid_argument("hex has the wrong length");
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = v[i];
  return out;
}

inline std::string to_hex(Bytes bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::vector<std::uint8_t> to_vector(Bytes b) {
  return {b.begin(), b.end()};
}

// n bytes 0, 1, 2, ... (mod 256) plus an offset: distinct, recognisable inputs.
inline std::vector<std::uint8_t> counting_bytes(std::size_t n, std::uint8_t start = 0) {
  std::vector<std::uint8_t> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::uint8_t>(start + i);
  return out;
}

}  // namespace gw::test
