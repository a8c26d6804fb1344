// SPDX-License-Identifier: MIT
// Every message: a round trip, the exact size (or the bounds), and each way a
// header can be wrong, refused before any cryptography would run.
#include <doctest/doctest.h>

#include <vector>

#include "gw/wire/messages.hpp"

using namespace gw::wire;
using namespace gw::wire_spec;
using Buf = std::vector<std::uint8_t>;

namespace {

Buf initiation(std::uint8_t flags) {
  InitiationFields f;
  f.flags = flags;
  f.suite = 1;
  f.sender_index = 0x11223344;
  f.first_hash.fill(0xaa);
  f.retry_tag.fill(0xbb);
  Buf b(initiation_size(flags), 0x5c);
  REQUIRE(write_initiation_header(b, f) == initiation_header_size(flags));
  return b;
}

}  // namespace

TEST_CASE("initiation sizes are exact for each flag combination") {
  CHECK(initiation_size(0) == 80);
  CHECK(initiation_size(kFlagPsk) == 96);
  CHECK(initiation_size(kFlagRetried) == 128);
  CHECK(initiation_size(kFlagPsk | kFlagRetried) == 144);
  CHECK(initiation_size(kFlagCertificate) == 80);  // a request, no bytes of its own
  CHECK(initiation_size(kFlagPsk | kFlagRetried | kFlagCertificate) == 144);
  CHECK(initiation_size(0x08) == 0);
}

TEST_CASE("initiation round trip") {
  for (const std::uint8_t flags :
       {std::uint8_t{0}, kFlagPsk, kFlagRetried, std::uint8_t(kFlagPsk | kFlagRetried)}) {
    CAPTURE(flags);
    const Buf b = initiation(flags);
    Initiation m;
    REQUIRE(parse_initiation(b, m) == ParseStatus::ok);
    CHECK(m.fields.flags == flags);
    CHECK(m.fields.suite == 1);
    CHECK(m.fields.sender_index == 0x11223344);
    CHECK(m.header.size() == initiation_header_size(flags));
    CHECK(m.noise.size() == 40 + (m.psk() ? 16 : 0));
    CHECK(m.mac1.data() == b.data() + b.size() - 32);
    CHECK(m.mac2.data() == b.data() + b.size() - 16);
    if (m.retried()) {
      CHECK(m.fields.first_hash[0] == 0xaa);
      CHECK(m.fields.retry_tag[15] == 0xbb);
    }
    // One byte more or less is refused.
    Buf longer = b;
    longer.push_back(0);
    CHECK(parse_initiation(longer, m) == ParseStatus::wrong_size);
    CHECK(parse_initiation({b.data(), b.size() - 1}, m) == ParseStatus::wrong_size);
  }
}

TEST_CASE("initiation header faults") {
  Initiation m;
  Buf b = initiation(0);
  CHECK(parse_initiation({}, m) == ParseStatus::empty);
  CHECK(parse_initiation({b.data(), 3}, m) == ParseStatus::wrong_size);
  Buf t = b;
  t[0] = 2;
  CHECK(parse_initiation(t, m) == ParseStatus::wrong_type);
  t = b;
  t[1] = 0x80;  // unknown flag
  CHECK(parse_initiation(t, m) == ParseStatus::reserved_nonzero);
  t = b;
  t[2] = 0;  // suite 0
  CHECK(parse_initiation(t, m) == ParseStatus::bad_value);
  t = b;
  t[4] = t[5] = t[6] = t[7] = 0;  // sender index 0
  CHECK(parse_initiation(t, m) == ParseStatus::bad_value);
  t = b;
  t[1] = kFlagPsk;  // flags claim a size the datagram does not have
  CHECK(parse_initiation(t, m) == ParseStatus::wrong_size);
}

TEST_CASE("initiation byte 3 is the version, read before the flags and the size") {
  Initiation m;
  const Buf v1 = initiation(0);
  REQUIRE(parse_initiation(v1, m) == ParseStatus::ok);
  CHECK(v1[kInitiationVersionOffset] == kInitiationVersionV1);
  CHECK(m.version == kInitiationVersionV1);
  // A later version: any size from 40 to 1232, any flags; only the macs are read.
  for (const std::size_t size :
       {std::size_t{40}, std::size_t{80}, std::size_t{81}, std::size_t{200}, kMaxHandshakeSize}) {
    for (const std::uint8_t version : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{255}}) {
      CAPTURE(size);
      CAPTURE(static_cast<int>(version));
      Buf b(size, 0x5c);
      b[0] = 1;
      b[1] = 0xff;  // flags version 1 does not know
      b[kInitiationVersionOffset] = version;
      REQUIRE(parse_initiation(b, m) == ParseStatus::later_version);
      CHECK(m.version == version);
      CHECK(m.mac1.data() == b.data() + size - 32);
      CHECK(m.mac2.data() == b.data() + size - 16);
      CHECK(m.noise.empty());
    }
  }
  Buf b(39, 0);
  b[0] = 1;
  b[kInitiationVersionOffset] = 2;
  CHECK(parse_initiation(b, m) == ParseStatus::wrong_size);
  b.resize(kMaxHandshakeSize + 1);
  CHECK(parse_initiation(b, m) == ParseStatus::wrong_size);
  CHECK(parse_initiation({b.data(), 7}, m) == ParseStatus::wrong_size);
}

TEST_CASE("response and finish: bounds and header") {
  Buf r(kResponseMinSize, 0x42);
  REQUIRE(write_response_header(r, 7, 9) == kResponseHeaderSize);
  Response resp;
  REQUIRE(parse_response(r, resp) == ParseStatus::ok);
  CHECK(resp.sender_index == 7);
  CHECK(resp.receiver_index == 9);
  CHECK(resp.noise.size() == kResponseMinSize - kResponseHeaderSize - kMacLen);
  CHECK(parse_response({r.data(), r.size() - 1}, resp) == ParseStatus::wrong_size);
  Buf big(kMaxHandshakeSize + 1, 0);
  REQUIRE(write_response_header(big, 7, 9) != 0);
  CHECK(parse_response(big, resp) == ParseStatus::wrong_size);
  big.pop_back();
  CHECK(parse_response(big, resp) == ParseStatus::ok);
  Buf t = r;
  t[2] = 1;
  CHECK(parse_response(t, resp) == ParseStatus::reserved_nonzero);
  t = r;
  t[8] = t[9] = t[10] = t[11] = 0;
  CHECK(parse_response(t, resp) == ParseStatus::bad_value);

  Buf f(kFinishMinSize, 0x42);
  REQUIRE(write_finish_header(f, 5) == kFinishHeaderSize);
  Finish fin;
  REQUIRE(parse_finish(f, fin) == ParseStatus::ok);
  CHECK(fin.receiver_index == 5);
  CHECK(fin.noise.size() == kFinishMinSize - kFinishHeaderSize - kMacLen);
  CHECK(parse_finish({f.data(), f.size() - 1}, fin) == ParseStatus::wrong_size);
  CHECK(parse_finish(r, fin) == ParseStatus::wrong_type);
}

TEST_CASE("retry, cookie reply: exact sizes and round trips") {
  const Buf tag(kMacLen, 0x77);
  Buf r(kRetrySize);
  REQUIRE(write_retry(r, 3, 99, tag) == kRetrySize);
  Retry retry;
  REQUIRE(parse_retry(r, retry) == ParseStatus::ok);
  CHECK(retry.suite == 3);
  CHECK(retry.receiver_index == 99);
  CHECK(Buf(retry.retry_tag.begin(), retry.retry_tag.end()) == tag);
  Buf longer = r;
  longer.push_back(0);
  CHECK(parse_retry(longer, retry) == ParseStatus::wrong_size);
  r[2] = 1;
  CHECK(parse_retry(r, retry) == ParseStatus::reserved_nonzero);

  const Buf nonce(kCookieNonceSize, 1), cookie(kEncryptedCookieSize, 2);
  Buf c(kCookieReplySize);
  REQUIRE(write_cookie_reply(c, 12, nonce, cookie) == kCookieReplySize);
  CookieReply cr;
  REQUIRE(parse_cookie_reply(c, cr) == ParseStatus::ok);
  CHECK(cr.receiver_index == 12);
  CHECK(Buf(cr.nonce.begin(), cr.nonce.end()) == nonce);
  CHECK(Buf(cr.encrypted_cookie.begin(), cr.encrypted_cookie.end()) == cookie);
  CHECK(parse_cookie_reply({c.data(), c.size() - 1}, cr) == ParseStatus::wrong_size);
  CHECK(write_cookie_reply(c, 12, {nonce.data(), 23}, cookie) == 0);
}

TEST_CASE("transport: minimum size, counter and index") {
  Buf t(kTransportMinSize + 100, 0x33);
  REQUIRE(write_transport_header(t, 0xdeadbeef, 0x0102030405060708ull) == kTransportHeaderSize);
  Transport m;
  REQUIRE(parse_transport(t, m) == ParseStatus::ok);
  CHECK(m.receiver_index == 0xdeadbeef);
  CHECK(m.counter == 0x0102030405060708ull);
  CHECK(m.ciphertext.size() == 116);
  CHECK(parse_transport({t.data(), kTransportMinSize}, m) == ParseStatus::ok);
  CHECK(parse_transport({t.data(), kTransportMinSize - 1}, m) == ParseStatus::wrong_size);
  t[1] = 9;
  CHECK(parse_transport(t, m) == ParseStatus::reserved_nonzero);
}

TEST_CASE("peek_type knows the six types and nothing else") {
  for (std::uint8_t b = 0; b < 10; ++b) {
    const Buf d{b};
    CHECK(peek_type(d).has_value() == (b >= 1 && b <= 6));
  }
  CHECK_FALSE(peek_type({}).has_value());
}
