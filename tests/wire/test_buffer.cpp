// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <array>

#include "gw/wire/buffer.hpp"

using gw::wire::Reader;
using gw::wire::Writer;

TEST_CASE("Reader reads little-endian fields and stops at the end") {
  const std::array<std::uint8_t, 7> data{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07};
  Reader r(data);
  CHECK(r.u8() == 0x01);
  CHECK(r.u16() == 0x0302);
  CHECK(r.u32() == 0x07060504u);
  CHECK(r.finished());
  CHECK(r.u8() == 0);  // past the end: zero, and failed from now on
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.finished());
}

TEST_CASE("Reader refuses a view longer than what remains") {
  const std::array<std::uint8_t, 4> data{1, 2, 3, 4};
  Reader r(data);
  CHECK(r.bytes(3).size() == 3);
  CHECK(r.bytes(2).empty());
  CHECK_FALSE(r.ok());
  CHECK(r.u64() == 0);
}

TEST_CASE("Writer writes little-endian and refuses to overflow") {
  std::array<std::uint8_t, 8> out{};
  Writer w(out);
  w.u32(0xa1b2c3d4u);
  w.u16(0x0102);
  CHECK(out[0] == 0xd4);
  CHECK(out[3] == 0xa1);
  CHECK(out[4] == 0x02);
  w.u32(1);  // 6 + 4 > 8
  CHECK_FALSE(w.ok());
  CHECK(out[6] == 0);
  CHECK(gw::wire::load_u32({out.data(), 4}) == 0xa1b2c3d4u);
}
