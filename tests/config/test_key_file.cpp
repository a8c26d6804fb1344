// SPDX-License-Identifier: MIT
// Keys as base64 and key files (include/gw/config/key_file.hpp): round trips
// through libsodium's base64, and every reason a key file is refused.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <string>

#include "config/temp_dir.hpp"
#include "gw/config/key_file.hpp"
#include "gw/crypto/x25519.hpp"

using gw::config::load_private_key;
using gw::config::load_psk;
using gw::config::parse_public_key;
using gw::config::parse_secret_key;
using gw::config::to_base64;
using gw::test::TempDir;

namespace {

std::array<std::uint8_t, 32> counting_bytes() {
  std::array<std::uint8_t, 32> a{};
  for (std::size_t i = 0; i < a.size(); ++i)
    a[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return a;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("config: base64 keys round trip like WireGuard's") {
  const auto bytes = counting_bytes();
  const std::string text = to_base64(bytes);
  CHECK(text.size() == 44);
  CHECK(text.back() == '=');
  const auto key = parse_public_key(text);
  REQUIRE(key);
  CHECK(*key == bytes);
  const auto secret = parse_secret_key(text);
  REQUIRE(secret);
  CHECK(std::equal(secret->data(), secret->data() + 32, bytes.begin()));

  // A known WireGuard-style vector: 32 zero bytes.
  const std::array<std::uint8_t, 32> zero{};
  CHECK(to_base64(zero) == "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  CHECK(to_base64({}) == "");
}

TEST_CASE("config: malformed base64 keys are refused") {
  const std::string good = to_base64(counting_bytes());
  const std::string bad[] = {
      "",
      good.substr(0, 43),                          // no padding
      good + "=",                                  // too long
      good.substr(0, 40),                          // short
      " " + good,                                  // whitespace is not part of a key
      good.substr(0, 20) + "*" + good.substr(21),  // not base64
      to_base64(std::array<std::uint8_t, 31>{}),   // 31 bytes
      to_base64(std::array<std::uint8_t, 33>{}),   // 33 bytes
      good.substr(0, 42) + "B=",                   // non-canonical final bits
      good.substr(0, 20) + "-" + good.substr(21),  // URL-safe alphabet
  };
  for (const std::string& s : bad) {
    CAPTURE(s);
    CHECK_FALSE(parse_public_key(s));
    CHECK_FALSE(parse_secret_key(s));
  }
}

TEST_CASE("config: key files with mode 0600 or 0400 load, looser modes are refused") {
  TempDir dir;
  const auto bytes = counting_bytes();
  const std::string line = to_base64(bytes) + "\n";

  for (const mode_t mode : {0600, 0400}) {
    CAPTURE(mode);
    const std::string p = dir.write("ok.key", line, mode);
    const auto r = load_private_key(p);
    REQUIRE_MESSAGE(r, r.error);
    CHECK(r.error.empty());
    CHECK(std::equal(r.key->data(), r.key->data() + 32, bytes.begin()));
    const auto psk = load_psk(p);
    CHECK(psk);
    ::chmod(p.c_str(), 0600);
  }
  for (const mode_t mode : {0644, 0640, 0604, 0660, 0700 | 0001}) {
    CAPTURE(mode);
    const std::string p = dir.write("loose.key", line, mode);
    const auto r = load_private_key(p);
    CHECK_FALSE(r);
    CHECK(contains(r.error, p));
    CHECK(contains(r.error, "mode 0"));
    CHECK(contains(r.error, "0600 or stricter"));
  }
  const auto psk = load_psk(dir.write("loose.psk", line, 0644));
  CHECK_FALSE(psk);
  CHECK(contains(psk.error, "pre-shared key file"));
}

TEST_CASE("config: key file content is one key, trimmed of surrounding whitespace") {
  TempDir dir;
  const std::string key = to_base64(counting_bytes());
  struct Case {
    const char* what;
    std::string content;
    bool ok;
  };
  const Case cases[] = {
      {"1 bare key", key, true},
      {"2 trailing newline", key + "\n", true},
      {"3 CRLF", key + "\r\n", true},
      {"4 spaces around", "  " + key + " \n", true},
      {"5 empty file", "", false},
      {"6 31-byte key", to_base64(std::array<std::uint8_t, 31>{}) + "\n", false},
      {"7 33-byte key", to_base64(std::array<std::uint8_t, 33>{}) + "\n", false},
      {"8 two keys", key + "\n" + key + "\n", false},
      {"9 garbage", "not a key at all\n", false},
      {"10 too large", std::string(300, 'A'), false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    const std::string p = dir.write("k.key", c.content);
    const auto r = load_private_key(p);
    CHECK(static_cast<bool>(r) == c.ok);
    if (!c.ok) {
      CHECK(contains(r.error, p));
      CHECK(contains(r.error, "32 bytes"));
    }
  }
}

TEST_CASE("config: missing files and non-regular files are refused by name") {
  TempDir dir;
  const std::string missing = dir.file("missing.key");
  auto r = load_private_key(missing);
  CHECK_FALSE(r);
  CHECK(contains(r.error, missing));
  CHECK(contains(r.error, "cannot open"));

  const std::string sub = dir.file("sub");
  std::filesystem::create_directory(sub);
  ::chmod(sub.c_str(), 0700);
  r = load_private_key(sub);
  CHECK_FALSE(r);
  CHECK(contains(r.error, sub));
  CHECK(contains(r.error, "regular file"));
}

TEST_CASE("config: a private key file yields the right public key") {
  TempDir dir;
  const auto bytes = counting_bytes();
  const auto r = load_private_key(dir.write("k.key", to_base64(bytes) + "\n"));
  REQUIRE(r);
  const auto pair = gw::crypto::KeyPair::from_private(*r.key);
  CHECK(pair.public_key == gw::crypto::public_key_of(gw::crypto::PrivateKey(bytes)));
}
