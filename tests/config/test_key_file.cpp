// SPDX-License-Identifier: MIT
// Keys as base64 and key files (include/gw/config/key_file.hpp): round trips
// through libsodium's base64, every reason a key file is refused, and the
// kinds: the CA keys' armour byte for byte, and each loader refusing the
// other kinds by name.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <array>
#include <cstdint>
#include <string>

#include "config/temp_dir.hpp"
#include "gw/config/key_file.hpp"
#include "gw/crypto/x25519.hpp"

using gw::config::ca_key_text;
using gw::config::KeyKind;
using gw::config::KeyUse;
using gw::config::load_ca_key_any_form;
using gw::config::load_ca_private_key;
using gw::config::load_ca_public_key;
using gw::config::load_private_key;
using gw::config::load_psk;
using gw::config::load_public_key;
using gw::config::parse_ca_key_text;
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

TEST_CASE("config: a secret key file of another user than root or the reader is refused") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: making a file of another user needs root");
    return;
  }
  TempDir dir;
  const auto bytes = counting_bytes();
  const std::string line = to_base64(bytes) + "\n";
  const std::string p = dir.write("theirs.key", line);
  REQUIRE(::chown(p.c_str(), 65534, 65534) == 0);
  const auto key = load_private_key(p);
  CHECK_FALSE(key);
  CHECK(contains(key.error, p + ": private key file: refused: owned by uid 65534"));
  CHECK(contains(key.error, "(chown root " + p + ")"));
  const auto psk = load_psk(p);
  CHECK_FALSE(psk);
  CHECK(contains(psk.error, p + ": pre-shared key file: refused: owned by uid 65534"));
  // A public key may be anyone's; the owner a caller names may own a secret.
  CHECK(load_public_key(p));
  CHECK(load_private_key(p, 65534u));
  CHECK(load_psk(p, 65534u));
  CHECK_FALSE(load_psk(p, 1000u));
  // Root's and the reader's own files load, as ever.
  REQUIRE(::chown(p.c_str(), 0, 0) == 0);
  CHECK(load_psk(p));
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

// --- Key kinds: CA key files carry an armour that names them; a peer's keys
// and PSKs stay one base64 line. Each loader refuses the other kinds by name.

namespace {

std::string armour(const std::string& label, const std::string& body) {
  return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
}

struct KindFiles {
  TempDir dir;
  std::string line = to_base64(counting_bytes());
  std::string ca_key = dir.write("ca.key", armour("GW CA PRIVATE KEY", line), 0600);
  std::string ca_pub = dir.write("ca.pub", armour("GW CA PUBLIC KEY", line), 0644);
  std::string cert = dir.write("laptop.crt", armour("GW CERTIFICATE", line), 0644);
  std::string ssh = dir.write("id.key", armour("OPENSSH PRIVATE KEY", line), 0600);
  std::string plain_key = dir.write("site-a.key", line + "\n", 0600);
  std::string plain_pub = dir.write("site-a.pub", line + "\n", 0644);
};

}  // namespace

TEST_CASE("config: a CA key file where a peer's key or a PSK belongs is refused by its kind") {
  const KindFiles f;
  const std::string x25519_private = "a gw/WireGuard private key (X25519)";
  const std::string x25519_public = "a gw/WireGuard public key (X25519)";
  struct Case {
    std::string error, expected;
  };
  const Case cases[] = {
      {load_private_key(f.ca_key).error,
       f.ca_key + ": this is a CA private key file, not " + x25519_private},
      {load_private_key(f.ca_pub).error,
       f.ca_pub + ": this is a CA public key file, not " + x25519_private},
      {load_psk(f.ca_key).error,
       f.ca_key + ": this is a CA private key file, not a pre-shared key"},
      {gw::config::load_public_key(f.ca_pub).error,
       f.ca_pub + ": this is a CA public key file, not " + x25519_public},
      {gw::config::load_public_key(f.ca_key).error,
       f.ca_key + ": this is a CA private key file, not " + x25519_public},
      {gw::config::load_public_key(f.cert).error,
       f.cert + ": this is a gw certificate, not " + x25519_public},
      {load_private_key(f.ssh).error,
       f.ssh + ": this is a -----BEGIN OPENSSH PRIVATE KEY----- file, not " + x25519_private},
  };
  for (const Case& c : cases) {
    CHECK(c.error == c.expected);
  }
  // The same CA files with loose modes: the kind is the first thing said.
  ::chmod(f.ca_pub.c_str(), 0644);
  CHECK(contains(load_psk(f.ca_pub).error, "this is a CA public key file"));
  // A peer's own files still load, as WireGuard writes them.
  CHECK(load_private_key(f.plain_key));
  CHECK(load_psk(f.plain_key));
  CHECK(gw::config::load_public_key(f.plain_pub));
}

TEST_CASE("config: the CA key armour, byte for byte, and what a reader tolerates") {
  const auto bytes = counting_bytes();
  const std::string line = to_base64(bytes);
  const std::string private_text = ca_key_text(KeyKind::ca_private, bytes);
  const std::string public_text = ca_key_text(KeyKind::ca_public, bytes);
  CHECK(private_text ==
        "-----BEGIN GW CA PRIVATE KEY-----\n" + line + "\n-----END GW CA PRIVATE KEY-----\n");
  CHECK(public_text ==
        "-----BEGIN GW CA PUBLIC KEY-----\n" + line + "\n-----END GW CA PUBLIC KEY-----\n");
  CHECK(private_text.size() == 111);
  CHECK(public_text.size() == 109);
  CHECK(gw::config::key_kind(private_text) == KeyKind::ca_private);
  CHECK(gw::config::key_kind(public_text) == KeyKind::ca_public);
  CHECK(gw::config::key_kind(line) == KeyKind::key_line);
  CHECK(gw::config::key_kind("-----BEGIN GW CERTIFICATE-----\nxyz") == KeyKind::certificate);
  CHECK(gw::config::key_kind("-----BEGIN NEBULA ED25519 PRIVATE KEY-----\n") == KeyKind::armour);
  CHECK(gw::config::key_kind("") == KeyKind::other);
  CHECK(gw::config::key_kind(line.substr(0, 43)) == KeyKind::other);
  CHECK(gw::config::key_kind("-----BEGIN \x01-----") == KeyKind::other);

  std::array<std::uint8_t, 32> out{};
  std::string error;
  const std::string crlf =
      "-----BEGIN GW CA PUBLIC KEY-----\r\n" + line + "\r\n-----END GW CA PUBLIC KEY-----\r\n";
  for (const std::string& ok : {public_text, crlf, "\n  " + public_text + "\n\n",
                                public_text.substr(0, public_text.size() - 1)}) {
    CAPTURE(ok);
    out.fill(0);
    CHECK(parse_ca_key_text(ok, KeyKind::ca_public, out, error));
    CHECK(out == bytes);
  }
  struct Bad {
    std::string text, error;
  };
  const std::string begin = "-----BEGIN GW CA PUBLIC KEY-----\n";
  const std::string end = "-----END GW CA PUBLIC KEY-----\n";
  const Bad bad[] = {
      {"", "line 1: expected -----BEGIN GW CA PUBLIC KEY-----"},
      {line + "\n", "line 1: expected -----BEGIN GW CA PUBLIC KEY-----"},
      {private_text, "line 1: expected -----BEGIN GW CA PUBLIC KEY-----"},
      {begin, "line 2: expected the base64 of 32 bytes (44 characters)"},
      {begin + "\n" + line + "\n" + end, "line 2: expected the base64 of 32 bytes (44 characters)"},
      {begin + " " + line + "\n" + end, "line 2: expected the base64 of 32 bytes (44 characters)"},
      {begin + line.substr(0, 42) + "B=\n" + end,
       "line 2: expected the base64 of 32 bytes (44 characters)"},
      {begin + to_base64(std::array<std::uint8_t, 33>{}) + "\n" + end,
       "line 2: expected the base64 of 32 bytes (44 characters)"},
      {begin + line + "\n", "line 3: expected -----END GW CA PUBLIC KEY-----"},
      {begin + line + "\n-----END GW CA PRIVATE KEY-----\n",
       "line 3: expected -----END GW CA PUBLIC KEY-----"},
      {begin + line + "\n" + end + "more\n",
       "line 4: expected nothing after -----END GW CA PUBLIC KEY-----"},
      {public_text + public_text, "line 4: expected nothing after -----END GW CA PUBLIC KEY-----"},
  };
  for (const Bad& b : bad) {
    CAPTURE(b.text);
    out.fill(0xaa);
    CHECK_FALSE(parse_ca_key_text(b.text, KeyKind::ca_public, out, error));
    CHECK(error == b.error);
    CHECK(out == std::array<std::uint8_t, 32>{});  // wiped
  }
}

TEST_CASE("config: CA key loaders take their own armour and refuse every other kind by name") {
  const KindFiles f;
  const auto priv = load_ca_private_key(f.ca_key);
  REQUIRE_MESSAGE(priv, priv.error);
  CHECK(std::equal(priv.key->data(), priv.key->data() + 32, counting_bytes().begin()));
  CHECK(priv.kind == KeyKind::ca_private);
  const auto pub = load_ca_public_key(f.ca_pub);
  REQUIRE_MESSAGE(pub, pub.error);
  CHECK(*pub.key == counting_bytes());

  const std::string upgrade =
      "; if it is a CA key an older gwctl ca init wrote, convert it: "
      "gwctl ca upgrade " +
      f.dir.file("site-a");
  const std::string line = "this is a gw/WireGuard key line (an X25519 key or a PSK)";
  CHECK(load_ca_private_key(f.plain_key).error ==
        f.plain_key + ": " + line + ", not a CA private key" + upgrade);
  CHECK(load_ca_public_key(f.plain_pub).error ==
        f.plain_pub + ": " + line + ", not a CA public key" + upgrade);
  CHECK(load_ca_private_key(f.ca_pub).error ==
        f.ca_pub + ": this is a CA public key file, not a CA private key");
  CHECK(load_ca_private_key(f.ca_pub).kind == KeyKind::ca_public);
  CHECK(load_ca_public_key(f.ca_key).error ==
        f.ca_key + ": this is a CA private key file, not a CA public key");
  CHECK(load_ca_public_key(f.cert).error ==
        f.cert + ": this is a gw certificate, not a CA public key");
  const std::string odd = f.dir.write("ca-line.txt", f.line + "\n", 0644);
  CHECK(load_ca_public_key(odd).error ==
        odd + ": " + line +
            ", not a CA public key; if it is a CA key an older gwctl ca init "
            "wrote, convert it: gwctl ca upgrade PREFIX (with the files named "
            "PREFIX.key and PREFIX.pub)");
  const std::string junk = f.dir.write("junk.pub", "not a key\n", 0644);
  CHECK(load_ca_public_key(junk).error ==
        junk + ": CA public key file: line 1: expected -----BEGIN GW CA PUBLIC KEY-----");

  // A CA private key is a secret: 0600 or stricter. A CA public key may be read by anyone.
  ::chmod(f.ca_key.c_str(), 0640);
  CHECK(contains(load_ca_private_key(f.ca_key).error,
                 f.ca_key + ": CA private key file: refused: mode 0640"));
  ::chmod(f.ca_pub.c_str(), 0666);
  CHECK(load_ca_public_key(f.ca_pub));

  // For `gwctl ca upgrade`: the armour or the old line, and which it was.
  ::chmod(f.ca_key.c_str(), 0600);
  const auto old_form = load_ca_key_any_form(f.plain_key, KeyUse::ca_private_key);
  REQUIRE(old_form);
  CHECK(old_form.kind == KeyKind::key_line);
  const auto new_form = load_ca_key_any_form(f.ca_key, KeyUse::ca_private_key);
  REQUIRE(new_form);
  CHECK(new_form.kind == KeyKind::ca_private);
  CHECK_FALSE(load_ca_key_any_form(f.ca_pub, KeyUse::ca_private_key));
  CHECK_FALSE(load_ca_key_any_form(f.plain_pub, KeyUse::ca_private_key));  // mode 0644
  CHECK(load_ca_key_any_form(f.plain_pub, KeyUse::ca_public_key));
}

TEST_CASE("config: wrong_kind names what a text is, for stdin as for files") {
  const std::string line = to_base64(counting_bytes());
  const std::string ca_pub = ca_key_text(KeyKind::ca_public, counting_bytes());
  CHECK(gw::config::wrong_kind(line, KeyUse::private_key, "stdin") == std::nullopt);
  CHECK(gw::config::wrong_kind("garbage", KeyUse::private_key, "stdin") == std::nullopt);
  CHECK(gw::config::wrong_kind(ca_pub, KeyUse::ca_public_key, "stdin") == std::nullopt);
  CHECK(gw::config::wrong_kind(ca_pub, KeyUse::public_key, "stdin") ==
        "stdin: this is a CA public key file, not a gw/WireGuard public key (X25519)");
  CHECK(gw::config::describe_kind("-----BEGIN OPENSSH PRIVATE KEY-----\r\nabc\n") ==
        "a -----BEGIN OPENSSH PRIVATE KEY----- file");
  CHECK(gw::config::describe_kind("nothing") == "");
}
