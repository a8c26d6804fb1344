// SPDX-License-Identifier: MIT
// libgw's channel (include/gw/gw.hpp): the stream and datagram message
// formats, size limits, tampered, replayed and reordered messages, one-way
// patterns and empty channels; and what surrounds a handshake: keys as text,
// key, PSK and public key files, identities, trusts, error names, the version.
#include <doctest/doctest.h>

#include <gw/gw.hpp>

#include <sys/stat.h>

#include <cctype>
#include <cstdint>
#include <iterator>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/temp_dir.hpp"
#include "lib/status_checks.hpp"

namespace {

using Buf = std::vector<std::uint8_t>;
using gw::Errc;
using gw::Role;
using Next = gw::Handshake::Next;

// Runs a handshake of `protocol` between fresh identities to the end.
void establish(gw::Channel& ci, gw::Channel& cr, gw::Transport transport,
               const std::string& protocol = "Noise_XX_25519_ChaChaPoly_BLAKE2b") {
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  gw::HandshakeOptions io, ro;
  io.role = Role::initiator;
  ro.role = Role::responder;
  io.protocol = ro.protocol = protocol;
  io.transport = ro.transport = transport;
  io.identity = a;
  ro.identity = b;
  if (protocol.find("_XX_") != std::string::npos || protocol.empty()) {
    io.trust.add_key(b.public_key());
    ro.trust.add_key(a.public_key());
  } else {  // one-way X: the responder's key is known, the initiator's sent
    io.remote_key = b.public_key();
    ro.trust.add_key(a.public_key());
  }
  gw::Handshake hi, hr;
  REQUIRE_OK(gw::Handshake::create(io, hi));
  REQUIRE_OK(gw::Handshake::create(ro, hr));
  for (int round = 0; round < 6; ++round) {
    if (hi.next() == Next::done && hr.next() == Next::done) break;
    const bool init_writes = hi.next() == Next::write;
    gw::Handshake& writer = init_writes ? hi : hr;
    gw::Handshake& reader = init_writes ? hr : hi;
    REQUIRE(writer.next() == Next::write);
    Buf msg;
    REQUIRE_OK(writer.write(msg));
    REQUIRE_OK(reader.read(msg));
  }
  REQUIRE(hi.next() == Next::done);
  REQUIRE(hr.next() == Next::done);
  REQUIRE_OK(hi.finish(ci));
  REQUIRE_OK(hr.finish(cr));
  CHECK(ci.transport() == transport);
  CHECK(cr.transport() == transport);
}

Buf text(const std::string& s) {
  return Buf(s.begin(), s.end());
}

std::uint64_t counter_of(const Buf& m) {
  REQUIRE(m.size() >= 8);
  std::uint64_t c = 0;
  for (std::size_t i = 0; i < 8; ++i)
    c |= static_cast<std::uint64_t>(m[i]) << (8 * i);
  return c;
}

Buf seal(gw::Channel& ch, const Buf& plain) {
  Buf out;
  REQUIRE_OK(ch.seal(plain, out));
  return out;
}

}  // namespace

TEST_CASE("lib: stream channel: format, sizes and order") {
  gw::Channel ci, cr;
  establish(ci, cr, gw::Transport::stream);
  CHECK(ci.overhead() == 16);
  CHECK(cr.overhead() == 16);

  SUBCASE("sizes: empty, the largest, one more") {
    Buf out, opened{9};
    const Buf empty_sealed = seal(ci, {});
    CHECK(empty_sealed.size() == 16);
    REQUIRE_OK(cr.open(empty_sealed, opened));
    CHECK(opened.empty());

    const Buf big(gw::Channel::kMaxPlaintext, 0x5a);
    const Buf big_sealed = seal(cr, big);
    CHECK(big_sealed.size() == gw::Channel::kMaxPlaintext + 16);
    REQUIRE_OK(ci.open(big_sealed, opened));
    CHECK(opened == big);

    const Buf too_big(gw::Channel::kMaxPlaintext + 1, 0x5a);
    CHECK_STATUS(ci.seal(too_big, out), Errc::invalid_argument);
    // The refusal used no nonce: the next message still opens.
    REQUIRE_OK(cr.open(seal(ci, text("after")), opened));
    CHECK(opened == text("after"));
  }
  SUBCASE("a tampered message fails and changes nothing") {
    const Buf m = seal(ci, text("hello"));
    Buf opened{7, 7};
    for (std::size_t at = 0; at < m.size(); ++at) {
      Buf bad = m;
      bad[at] ^= 0x01;
      CHECK_STATUS(cr.open(bad, opened), Errc::authentication_failed);
    }
    CHECK_FALSE(cr.open(Buf(m.begin(), m.end() - 1), opened).ok());
    CHECK_FALSE(cr.open(Buf{}, opened).ok());
    CHECK_FALSE(cr.open(Buf(15, 0), opened).ok());
    REQUIRE_OK(cr.open(m, opened));
    CHECK(opened == text("hello"));
  }
  SUBCASE("a replayed or reordered message fails") {
    const Buf m1 = seal(ci, text("one")), m2 = seal(ci, text("two"));
    Buf opened;
    CHECK_STATUS(cr.open(m2, opened), Errc::authentication_failed);
    REQUIRE_OK(cr.open(m1, opened));
    CHECK(opened == text("one"));
    CHECK_STATUS(cr.open(m1, opened), Errc::authentication_failed);
    REQUIRE_OK(cr.open(m2, opened));
    CHECK(opened == text("two"));
  }
  SUBCASE("a message does not open on its sender, nor on another channel") {
    gw::Channel other_i, other_r;
    establish(other_i, other_r, gw::Transport::stream);
    const Buf m = seal(ci, text("mine"));
    Buf opened;
    CHECK_STATUS(ci.open(m, opened), Errc::authentication_failed);
    CHECK_STATUS(other_r.open(m, opened), Errc::authentication_failed);
    REQUIRE_OK(cr.open(m, opened));
  }
  SUBCASE("many messages both ways, and a moved channel carries on") {
    Buf opened;
    for (std::size_t i = 0; i < 300; ++i) {
      const Buf plain(i, static_cast<std::uint8_t>(i));
      REQUIRE_OK(cr.open(seal(ci, plain), opened));
      CHECK(opened == plain);
      REQUIRE_OK(ci.open(seal(cr, plain), opened));
      CHECK(opened == plain);
    }
    gw::Channel moved = std::move(ci);
    CHECK_FALSE(moved.empty());
    REQUIRE_OK(cr.open(seal(moved, text("moved")), opened));
    CHECK(opened == text("moved"));
  }
}

TEST_CASE("lib: datagram channel: counters, reordering, replays") {
  gw::Channel ci, cr;
  establish(ci, cr, gw::Transport::datagram);
  CHECK(ci.overhead() == 24);
  CHECK(cr.overhead() == 24);
  Buf opened;

  SUBCASE("format and sizes") {
    const Buf m0 = seal(ci, text("abc")), m1 = seal(ci, {});
    CHECK(m0.size() == 3 + 24);
    CHECK(m1.size() == 24);
    CHECK(counter_of(m1) == counter_of(m0) + 1);
    const Buf big(gw::Channel::kMaxPlaintext, 1);
    const Buf big_sealed = seal(ci, big);
    CHECK(big_sealed.size() == 65535);
    Buf out;
    CHECK_STATUS(ci.seal(Buf(gw::Channel::kMaxPlaintext + 1), out), Errc::invalid_argument);
    REQUIRE_OK(cr.open(big_sealed, opened));
    CHECK(opened == big);
    REQUIRE_OK(cr.open(m1, opened));
    CHECK(opened.empty());
    REQUIRE_OK(cr.open(m0, opened));
    CHECK(opened == text("abc"));
  }
  SUBCASE("out of order: all open; a repeat is a replay") {
    std::vector<Buf> sent;
    for (std::size_t i = 0; i < 40; ++i)
      sent.push_back(seal(ci, Buf(i + 1, static_cast<std::uint8_t>(i))));
    // Open them in a scrambled order: 7 is coprime with 40.
    for (std::size_t k = 0; k < 40; ++k) {
      const std::size_t i = (k * 7 + 3) % 40;
      CAPTURE(i);
      REQUIRE_OK(cr.open(sent[i], opened));
      CHECK(opened == Buf(i + 1, static_cast<std::uint8_t>(i)));
    }
    for (std::size_t i = 0; i < 40; i += 13) {
      CAPTURE(i);
      CHECK_STATUS(cr.open(sent[i], opened), Errc::replayed);
    }
    // The other direction is independent.
    REQUIRE_OK(ci.open(seal(cr, text("back")), opened));
    CHECK(opened == text("back"));
  }
  SUBCASE("a tampered message fails; the genuine one then opens") {
    const Buf m = seal(ci, text("payload"));
    for (std::size_t at = 0; at < m.size(); ++at) {
      Buf bad = m;
      bad[at] ^= 0x40;
      CAPTURE(at);
      CHECK_STATUS(cr.open(bad, opened), Errc::authentication_failed);
    }
    CHECK_STATUS(cr.open(Buf(m.begin(), m.begin() + 23), opened), Errc::malformed);
    CHECK_FALSE(cr.open(Buf{}, opened).ok());
    // A forged counter far ahead fails too and does not move the window.
    Buf ahead = m;
    ahead[7] = 0x70;
    CHECK_STATUS(cr.open(ahead, opened), Errc::authentication_failed);
    REQUIRE_OK(cr.open(m, opened));
    CHECK(opened == text("payload"));
    CHECK_STATUS(cr.open(m, opened), Errc::replayed);
  }
  SUBCASE("a message too old for the window is a replay") {
    std::vector<Buf> sent;
    for (std::size_t i = 0; i < 8300; ++i)
      sent.push_back(seal(ci, {}));
    REQUIRE_OK(cr.open(sent.back(), opened));
    CHECK_STATUS(cr.open(sent[0], opened), Errc::replayed);
    CHECK_STATUS(cr.open(sent[100], opened), Errc::replayed);
    REQUIRE_OK(cr.open(sent[8300 - 8000], opened));
    REQUIRE_OK(cr.open(sent[8300 - 2], opened));
    CHECK_STATUS(cr.open(sent[8300 - 2], opened), Errc::replayed);
  }
}

TEST_CASE("lib: a one-way pattern's channel only goes one way") {
  gw::Channel ci, cr;
  establish(ci, cr, gw::Transport::stream, "Noise_X_25519_ChaChaPoly_BLAKE2b");
  CHECK(ci.protocol() == "Noise_X_25519_ChaChaPoly_BLAKE2b");
  Buf opened, out;
  for (int i = 0; i < 3; ++i) {
    REQUIRE_OK(cr.open(seal(ci, text("to the responder")), opened));
    CHECK(opened == text("to the responder"));
  }
  CHECK_STATUS(cr.seal(text("back"), out), Errc::wrong_state);
  // The refusal did not disturb the direction that works.
  REQUIRE_OK(cr.open(seal(ci, text("again")), opened));
  CHECK(opened == text("again"));
}

TEST_CASE("lib: an empty channel refuses everything") {
  gw::Channel ch;
  CHECK(ch.empty());
  Buf out;
  CHECK_STATUS(ch.seal(text("x"), out), Errc::wrong_state);
  CHECK_STATUS(ch.open(Buf(40, 0), out), Errc::wrong_state);
  CHECK_FALSE(ch.remote().has_value());

  gw::Channel ci, cr;
  establish(ci, cr, gw::Transport::datagram);
  gw::Channel moved = std::move(ci);
  CHECK(ci.empty());  // NOLINT(bugprone-use-after-move): a moved-from channel is empty
  CHECK_STATUS(ci.seal(text("x"), out), Errc::wrong_state);
  ch = std::move(moved);
  CHECK_FALSE(ch.empty());
  REQUIRE_OK(cr.open(seal(ch, text("y")), out));
  CHECK(out == text("y"));
}

TEST_CASE("lib: keys as text") {
  gw::Key k{};
  for (std::size_t i = 0; i < k.size(); ++i)
    k[i] = static_cast<std::uint8_t>(i * 9 + 1);
  const std::string b64 = gw::to_base64(k);
  CHECK(b64.size() == 44);
  gw::Key parsed{};
  CHECK_STATUS(gw::parse_key(b64, parsed), Errc::ok);
  CHECK(parsed == k);
  CHECK(gw::to_base64(gw::Key{}) == std::string(43, 'A') + "=");

  CHECK_STATUS(gw::parse_key(b64.substr(0, 43), parsed), Errc::invalid_argument);
  CHECK_STATUS(gw::parse_key(b64 + "\n", parsed), Errc::invalid_argument);
  CHECK_STATUS(gw::parse_key(" " + b64, parsed), Errc::invalid_argument);
  CHECK_STATUS(gw::parse_key("", parsed), Errc::invalid_argument);
  std::string bad = b64;
  bad[10] = '!';
  CHECK_STATUS(gw::parse_key(bad, parsed), Errc::invalid_argument);
  bad = b64;
  bad[10] = '-';  // the URL-safe alphabet is not the standard one
  CHECK_STATUS(gw::parse_key(bad, parsed), Errc::invalid_argument);
  const Buf b31(31, 1), b33(33, 1);
  CHECK_STATUS(gw::parse_key(gw::to_base64(b31), parsed), Errc::invalid_argument);
  CHECK_STATUS(gw::parse_key(gw::to_base64(b33), parsed), Errc::invalid_argument);
  // Not canonical: the last character carries bits past the 32 bytes.
  CHECK_STATUS(gw::parse_key(std::string(42, 'A') + "B=", parsed), Errc::invalid_argument);

  CHECK(gw::to_hex(Buf{0x00, 0x1f, 0xab, 0xff}) == "001fabff");
  CHECK(gw::to_hex(Buf{}).empty());
  Buf hex{9};
  CHECK_STATUS(gw::parse_hex("001FabfF", hex), Errc::ok);
  CHECK(hex == Buf{0x00, 0x1f, 0xab, 0xff});
  CHECK_STATUS(gw::parse_hex("", hex), Errc::ok);
  CHECK(hex.empty());
  CHECK_STATUS(gw::parse_hex("abc", hex), Errc::invalid_argument);
  CHECK_STATUS(gw::parse_hex("zz", hex), Errc::invalid_argument);
  CHECK_STATUS(gw::parse_hex("0x12", hex), Errc::invalid_argument);
  CHECK_STATUS(gw::parse_hex("12 34", hex), Errc::invalid_argument);
}

TEST_CASE("lib: identities and their key files") {
  const gw::test::TempDir dir;
  const gw::Identity empty;
  CHECK(empty.empty());
  CHECK(empty.public_key() == gw::Key{});
  CHECK_FALSE(empty.has_certificate());

  const gw::Identity id = gw::Identity::generate();
  CHECK_FALSE(id.empty());
  CHECK(id.public_key() != gw::Key{});
  CHECK(gw::Identity::generate().public_key() != id.public_key());
  const gw::Identity copy = id;
  CHECK(copy.public_key() == id.public_key());

  const std::string path = dir.file("me.key");
  REQUIRE_OK(id.save(path));
  CHECK(gw::test::file_mode(path) == 0600);
  const std::string saved = gw::test::read_file(path);
  CHECK(saved.size() >= 44);

  SUBCASE("load gives the same key") {
    gw::Identity loaded;
    REQUIRE_OK(gw::Identity::load(path, loaded));
    CHECK(loaded.public_key() == id.public_key());
    CHECK_FALSE(loaded.has_certificate());
    ::chmod(path.c_str(), 0400);
    REQUIRE_OK(gw::Identity::load(path, loaded));
    CHECK(loaded.public_key() == id.public_key());
  }
  SUBCASE("save never replaces a file") {
    const gw::Status st = gw::Identity::generate().save(path);
    CHECK(st.code == Errc::file);
    CHECK(st.message.find(path) != std::string::npos);
    CHECK(gw::test::read_file(path) == saved);
    CHECK_STATUS(id.save(dir.file("no-such-dir/me.key")), Errc::file);
    CHECK_FALSE(empty.save(dir.file("empty.key")).ok());
  }
  SUBCASE("load refuses a key file others may read") {
    ::chmod(path.c_str(), 0644);
    gw::Identity loaded;
    const gw::Status st = gw::Identity::load(path, loaded);
    CHECK(st.code == Errc::file);
    CHECK(st.message.find(path) != std::string::npos);
    CHECK(loaded.empty());
    ::chmod(path.c_str(), 0640);
    CHECK_STATUS(gw::Identity::load(path, loaded), Errc::file);
  }
  SUBCASE("load refuses a missing file and bad content") {
    gw::Identity loaded;
    const std::string missing = dir.file("missing.key");
    const gw::Status st = gw::Identity::load(missing, loaded);
    CHECK(st.code == Errc::file);
    CHECK(st.message.find(missing) != std::string::npos);
    const std::string junk = dir.write("junk.key", "not a key\n", 0600);
    const gw::Status bad = gw::Identity::load(junk, loaded);
    CHECK_FALSE(bad.ok());
    CHECK(bad.message.find(junk) != std::string::npos);
    CHECK(loaded.empty());
  }
}

TEST_CASE("lib: PSK and public key files") {
  const gw::test::TempDir dir;
  CHECK(gw::Psk{}.empty());
  CHECK_FALSE(gw::Psk::generate().empty());

  Buf secret(32);
  for (std::size_t i = 0; i < secret.size(); ++i)
    secret[i] = static_cast<std::uint8_t>(200 - i);
  const std::string psk_path = dir.write("peer.psk", gw::to_base64(secret) + "\n", 0600);
  gw::Psk psk;
  REQUIRE_OK(gw::Psk::load(psk_path, psk));
  CHECK_FALSE(psk.empty());
  ::chmod(psk_path.c_str(), 0644);
  gw::Psk refused;
  const gw::Status st = gw::Psk::load(psk_path, refused);
  CHECK(st.code == Errc::file);
  CHECK(st.message.find(psk_path) != std::string::npos);
  CHECK(refused.empty());
  CHECK_STATUS(gw::Psk::load(dir.file("none.psk"), refused), Errc::file);
  CHECK_FALSE(
      gw::Psk::load(dir.write("short.psk", gw::to_base64(Buf(16, 1)) + "\n"), refused).ok());

  // Two PSKs loaded from the same file are the same PSK: a handshake works.
  gw::Psk again;
  ::chmod(psk_path.c_str(), 0600);
  REQUIRE_OK(gw::Psk::load(psk_path, again));
  const gw::Identity a = gw::Identity::generate(), b = gw::Identity::generate();
  gw::HandshakeOptions io, ro;
  io.role = Role::initiator;
  ro.role = Role::responder;
  io.protocol = ro.protocol = "Noise_NNpsk0_25519_ChaChaPoly_SHA256";
  io.psks = {psk};
  ro.psks = {again};
  gw::Handshake hi, hr;
  REQUIRE_OK(gw::Handshake::create(io, hi));
  REQUIRE_OK(gw::Handshake::create(ro, hr));
  Buf m;
  REQUIRE_OK(hi.write(m));
  REQUIRE_OK(hr.read(m));
  REQUIRE_OK(hr.write(m));
  REQUIRE_OK(hi.read(m));
  CHECK(hi.next() == Next::done);

  const gw::Key key = a.public_key();
  const std::string pub = dir.write("peer.pub", gw::to_base64(key) + "\n", 0644);
  gw::Key loaded{};
  REQUIRE_OK(gw::load_public_key(pub, loaded));
  CHECK(loaded == key);
  const std::string missing = dir.file("none.pub");
  const gw::Status miss = gw::load_public_key(missing, loaded);
  CHECK(miss.code == Errc::file);
  CHECK(miss.message.find(missing) != std::string::npos);
  const std::string junk = dir.write("junk.pub", "AAAA\n", 0644);
  const gw::Status bad = gw::load_public_key(junk, loaded);
  CHECK_FALSE(bad.ok());
  CHECK(bad.message.find(junk) != std::string::npos);
  CHECK(loaded == key);
}

TEST_CASE("lib: key files of another kind are refused, naming what they are") {
  const gw::test::TempDir dir;
  const std::string line = gw::to_base64(Buf(32, 7));
  const auto armour = [&](const std::string& label) {
    return "-----BEGIN " + label + "-----\n" + line + "\n-----END " + label + "-----\n";
  };
  const std::string ca_key = dir.write("ca.key", armour("GW CA PRIVATE KEY"), 0600);
  const std::string ca_pub = dir.write("ca.pub", armour("GW CA PUBLIC KEY"), 0644);
  const std::string peer_pub = dir.write("peer.pub", line + "\n", 0644);

  gw::Identity id;
  const gw::Status as_identity = gw::Identity::load(ca_key, id);
  CHECK(as_identity.code == Errc::file);
  CHECK(as_identity.message ==
        ca_key + ": this is a CA private key file, not a gw/WireGuard private key (X25519)");
  CHECK(id.empty());
  gw::Psk psk;
  CHECK(gw::Psk::load(ca_key, psk).message ==
        ca_key + ": this is a CA private key file, not a pre-shared key");
  gw::Key key{};
  CHECK(gw::load_public_key(ca_pub, key).message ==
        ca_pub + ": this is a CA public key file, not a gw/WireGuard public key (X25519)");

  gw::Trust trust;
  const gw::Status plain = trust.add_ca_file(peer_pub);
  CHECK(plain.code == Errc::file);
  CHECK(plain.message.find(peer_pub +
                           ": this is a gw/WireGuard key line (an X25519 key or a PSK), not a CA "
                           "public key") == 0);
  CHECK(trust.add_ca_file(ca_key).message ==
        ca_key + ": this is a CA private key file, not a CA public key");
  CHECK(trust.empty());
  REQUIRE_OK(trust.add_ca_file(ca_pub));
  CHECK_FALSE(trust.empty());
}

TEST_CASE("lib: trusts are values") {
  const gw::Key k = gw::Identity::generate().public_key();
  gw::Trust none;
  CHECK(none.empty());
  CHECK_FALSE(none.admits_any());
  const gw::Trust any = gw::Trust::any();
  CHECK(any.admits_any());
  CHECK_FALSE(any.empty());

  gw::Trust copy = none;
  copy.add_key(k);
  CHECK_FALSE(copy.empty());
  CHECK_FALSE(copy.admits_any());
  CHECK(none.empty());  // copies are independent
  gw::Trust moved = std::move(copy);
  CHECK_FALSE(moved.empty());
  none = moved;
  CHECK_FALSE(none.empty());
}

TEST_CASE("lib: error names, statuses and the version") {
  const Errc all[] = {Errc::ok,
                      Errc::invalid_argument,
                      Errc::unsupported,
                      Errc::file,
                      Errc::wrong_state,
                      Errc::malformed,
                      Errc::authentication_failed,
                      Errc::peer_refused,
                      Errc::negotiation_failed,
                      Errc::replayed,
                      Errc::exhausted};
  std::set<std::string> names;
  for (const Errc e : all) {
    REQUIRE(gw::to_string(e) != nullptr);
    names.insert(gw::to_string(e));
  }
  CHECK(names.size() == std::size(all));
  CHECK(std::string(gw::to_string(Errc::peer_refused)) == "peer_refused");
  CHECK(std::string(gw::to_string(Errc::ok)) == "ok");
  CHECK(std::string(gw::to_string(Errc::authentication_failed)) == "authentication_failed");

  const gw::Status ok;
  CHECK(ok.ok());
  CHECK(static_cast<bool>(ok));
  const gw::Status bad{Errc::file, "x"};
  CHECK_FALSE(bad);

  const std::string v = gw::library_version();
  int dots = 0;
  bool digits = !v.empty();
  for (const char c : v) {
    if (c == '.') {
      ++dots;
    } else if (std::isdigit(static_cast<unsigned char>(c)) == 0) {
      digits = false;
    }
  }
  CHECK(dots == 2);
  CHECK(digits);
}
