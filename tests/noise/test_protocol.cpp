// SPDX-License-Identifier: MIT
// Protocol names and the pattern table (src/noise/protocol.cpp, patterns.cpp).
#include <doctest/doctest.h>

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "gw/crypto/aead.hpp"
#include "gw/noise/protocol.hpp"
#include "support/noise_printers.hpp"

using gw::crypto::CipherAlg;
using gw::crypto::HashAlg;
using gw::noise::all_patterns;
using gw::noise::find_pattern;
using gw::noise::HandshakePattern;
using gw::noise::parse_protocol;
using gw::noise::ParseResult;
using gw::noise::Protocol;
using gw::noise::Role;
using gw::noise::Token;
using gw::noise::TokenList;
using Status = gw::noise::ParseResult::Status;

namespace {

// "e, ee, s" -> token list. Written from the spec's notation, independently
// of the table in src/noise/patterns.cpp.
std::vector<Token> tokens(std::string_view text) {
  std::vector<Token> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view t = text.substr(pos, end - pos);
    while (!t.empty() && t.front() == ' ')
      t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ')
      t.remove_suffix(1);
    if (t == "e")
      out.push_back(Token::e);
    else if (t == "s")
      out.push_back(Token::s);
    else if (t == "ee")
      out.push_back(Token::ee);
    else if (t == "es")
      out.push_back(Token::es);
    else if (t == "se")
      out.push_back(Token::se);
    else if (t == "ss")
      out.push_back(Token::ss);
    else if (t == "psk")
      out.push_back(Token::psk);
    else
      FAIL("bad token in test table: ", std::string(t));
    pos = end + 1;
  }
  return out;
}

std::vector<Token> to_vec(const TokenList& list) {
  const auto v = list.view();
  return {v.begin(), v.end()};
}

std::string describe(const std::vector<Token>& list) {
  std::string s;
  for (const Token t : list) {
    if (!s.empty()) s += ", ";
    s += gw::noise::to_string(t);
  }
  return s;
}

// The patterns of the Noise Protocol Framework, revision 34, sections 7.4 to
// 7.6. pre_i / pre_r are the pre-messages ("-> s" / "<- s"); messages are
// separated by '|' and alternate, initiator first.
struct ExpectedPattern {
  const char* name;
  const char* pre_i;
  const char* pre_r;
  const char* messages;
  bool one_way;
};

const ExpectedPattern kSpecPatterns[] = {
    // 7.4 One-way
    {"N", "", "s", "e, es", true},
    {"K", "s", "s", "e, es, ss", true},
    {"X", "", "s", "e, es, s, ss", true},
    // 7.5 Interactive fundamental
    {"NN", "", "", "e | e, ee", false},
    {"NK", "", "s", "e, es | e, ee", false},
    {"NX", "", "", "e | e, ee, s, es", false},
    {"XN", "", "", "e | e, ee | s, se", false},
    {"XK", "", "s", "e, es | e, ee | s, se", false},
    {"XX", "", "", "e | e, ee, s, es | s, se", false},
    {"KN", "s", "", "e | e, ee, se", false},
    {"KK", "s", "s", "e, es, ss | e, ee, se", false},
    {"KX", "s", "", "e | e, ee, se, s, es", false},
    {"IN", "", "", "e, s | e, ee, se", false},
    {"IK", "", "s", "e, es, s, ss | e, ee, se", false},
    {"IX", "", "", "e, s | e, ee, se, s, es", false},
    // 7.6 Interactive deferred
    {"NK1", "", "s", "e | e, ee, es", false},
    {"NX1", "", "", "e | e, ee, s | es", false},
    {"X1N", "", "", "e | e, ee | s | se", false},
    {"X1K", "", "s", "e, es | e, ee | s | se", false},
    {"XK1", "", "s", "e | e, ee, es | s, se", false},
    {"X1K1", "", "s", "e | e, ee, es | s | se", false},
    {"X1X", "", "", "e | e, ee, s, es | s | se", false},
    {"XX1", "", "", "e | e, ee, s | es, s, se", false},
    {"X1X1", "", "", "e | e, ee, s | es, s | se", false},
    {"K1N", "s", "", "e | e, ee | se", false},
    {"K1K", "s", "s", "e, es | e, ee | se", false},
    {"KK1", "s", "s", "e | e, ee, se, es", false},
    {"K1K1", "s", "s", "e | e, ee, es | se", false},
    {"K1X", "s", "", "e | e, ee, s, es | se", false},
    {"KX1", "s", "", "e | e, ee, se, s | es", false},
    {"K1X1", "s", "", "e | e, ee, s | se, es", false},
    {"I1N", "", "", "e, s | e, ee | se", false},
    {"I1K", "", "s", "e, es, s | e, ee | se", false},
    {"IK1", "", "s", "e, s | e, ee, se, es", false},
    {"I1K1", "", "s", "e, s | e, ee, es | se", false},
    {"I1X", "", "", "e, s | e, ee, s, es | se", false},
    {"IX1", "", "", "e, s | e, ee, se, s | es", false},
    {"I1X1", "", "", "e, s | e, ee, s | se, es", false},
};

std::vector<std::vector<Token>> messages_of(std::string_view text) {
  std::vector<std::vector<Token>> out;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t end = text.find('|', pos);
    out.push_back(tokens(text.substr(pos, end == std::string_view::npos ? end : end - pos)));
    if (end == std::string_view::npos) return out;
    pos = end + 1;
  }
}

std::vector<std::vector<Token>> messages_of(const HandshakePattern& p) {
  std::vector<std::vector<Token>> out;
  for (std::size_t i = 0; i < p.message_count; ++i)
    out.push_back(to_vec(p.messages[i]));
  return out;
}

void check_pattern_equals(const HandshakePattern& actual, const ExpectedPattern& expected) {
  CAPTURE(expected.name);
  CHECK(actual.name == expected.name);
  CHECK(describe(to_vec(actual.pre_initiator)) == describe(tokens(expected.pre_i)));
  CHECK(describe(to_vec(actual.pre_responder)) == describe(tokens(expected.pre_r)));
  const auto want = messages_of(expected.messages);
  const auto got = messages_of(actual);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    CAPTURE(i);
    CHECK(describe(got[i]) == describe(want[i]));
  }
  CHECK(actual.one_way == expected.one_way);
}

std::vector<std::string> supported_suites() {
  std::vector<std::string> suites;
  std::vector<std::string> ciphers{"ChaChaPoly"};
  if (gw::crypto::aes256gcm_available()) ciphers.push_back("AESGCM");
  for (const auto& c : ciphers) {
    for (const char* h : {"BLAKE2b", "SHA256", "SHA512"})
      suites.push_back("25519_" + c + "_" + h);
  }
  return suites;
}

ParseResult parse(const std::string& name) {
  return parse_protocol(name);
}

}  // namespace

TEST_CASE("Protocol: the pattern table holds exactly the patterns of revision 34") {
  const auto table = all_patterns();
  CHECK(table.size() == std::size(kSpecPatterns));
  std::set<std::string_view> names;
  for (const HandshakePattern& p : table) {
    CAPTURE(p.name);
    CHECK(names.insert(p.name).second);  // no duplicates
    CHECK(find_pattern(p.name) == &p);
  }
  for (const ExpectedPattern& e : kSpecPatterns) {
    const HandshakePattern* p = find_pattern(e.name);
    CAPTURE(e.name);
    REQUIRE(p != nullptr);
    check_pattern_equals(*p, e);
  }
}

TEST_CASE("Protocol: find_pattern refuses unknown and partial names") {
  for (const char* name : {"", "Z", "XY", "xx", "XX ", "XXpsk0", "NK2", "X1X2", "XXfallback"}) {
    CAPTURE(name);
    CHECK(find_pattern(name) == nullptr);
  }
}

TEST_CASE("Protocol: pattern helpers (sender, TokenList::contains, token names)") {
  const HandshakePattern& xx = *find_pattern("XX");
  CHECK(xx.sender(0) == Role::initiator);
  CHECK(xx.sender(1) == Role::responder);
  CHECK(xx.sender(2) == Role::initiator);
  CHECK(xx.messages[1].contains(Token::ee));
  CHECK(xx.messages[1].contains(Token::s));
  CHECK_FALSE(xx.messages[1].contains(Token::se));
  CHECK_FALSE(xx.messages[0].contains(Token::s));
  CHECK_FALSE(TokenList{}.contains(Token::e));
  const struct {
    Token t;
    const char* name;
  } names[] = {{Token::e, "e"},   {Token::s, "s"},   {Token::ee, "ee"},  {Token::es, "es"},
               {Token::se, "se"}, {Token::ss, "ss"}, {Token::psk, "psk"}};
  for (const auto& n : names)
    CHECK(std::string(gw::noise::to_string(n.t)) == n.name);
}

TEST_CASE("Protocol: every pattern parses with every supported suite") {
  for (const ExpectedPattern& e : kSpecPatterns) {
    for (const std::string& suite : supported_suites()) {
      const std::string name = std::string("Noise_") + e.name + "_" + suite;
      CAPTURE(name);
      const ParseResult r = parse(name);
      REQUIRE(r.status == Status::ok);
      CHECK(static_cast<bool>(r));
      CHECK(r.message.empty());
      REQUIRE(r.protocol.has_value());
      const Protocol& p = *r.protocol;
      CHECK(p.name() == name);
      CHECK(p.psk_count == 0);
      CHECK_FALSE(p.psk_mode());
      check_pattern_equals(p.pattern, e);
      CHECK(p.cipher == (suite.find("AESGCM") != std::string::npos ? CipherAlg::aesgcm
                                                                   : CipherAlg::chachapoly));
      const HashAlg want_hash = suite.ends_with("BLAKE2b")  ? HashAlg::blake2b
                                : suite.ends_with("SHA256") ? HashAlg::sha256
                                                            : HashAlg::sha512;
      CHECK(p.hash == want_hash);
    }
  }
}

TEST_CASE("Protocol: AESGCM is refused as unsupported when the CPU lacks AES-NI") {
  const ParseResult r = parse("Noise_XX_25519_AESGCM_SHA256");
  if (gw::crypto::aes256gcm_available()) {
    CHECK(r.status == Status::ok);
  } else {
    CHECK(r.status == Status::unsupported);
    CHECK(r.message.find("AESGCM") != std::string::npos);
  }
}

TEST_CASE("Protocol: psk modifiers insert psk tokens at the right places") {
  // psk0 puts "psk" at the start of message 1; pskN puts it at the end of message N.
  struct Case {
    int id;
    const char* pattern;
    const char* messages;
    int psk_count;
  };
  static const Case kCases[] = {
      {1, "NNpsk0", "psk, e | e, ee", 1},
      {2, "NNpsk2", "e | e, ee, psk", 1},
      {3, "NNpsk0+psk2", "psk, e | e, ee, psk", 2},
      {4, "XXpsk3", "e | e, ee, s, es | s, se, psk", 1},
      {5, "XXpsk0+psk1+psk2+psk3", "psk, e, psk | e, ee, s, es, psk | s, se, psk", 4},
      {6, "XXpsk1", "e, psk | e, ee, s, es | s, se", 1},
      {7, "IKpsk2", "e, es, s, ss | e, ee, se, psk", 1},
      {8, "IKpsk1", "e, es, s, ss, psk | e, ee, se", 1},
      {9, "Npsk0", "psk, e, es", 1},
      {10, "Kpsk0", "psk, e, es, ss", 1},
      {11, "Xpsk1", "e, es, s, ss, psk", 1},
      {12, "NKpsk0", "psk, e, es | e, ee", 1},
      {13, "KKpsk0+psk2", "psk, e, es, ss | e, ee, se, psk", 2},
      {14, "X1K1psk4", "e | e, ee, es | s | se, psk", 1},
      {15, "X1K1psk0+psk1+psk2+psk3+psk4", "psk, e, psk | e, ee, es, psk | s, psk | se, psk", 5},
  };
  for (const Case& c : kCases) {
    const std::string name = std::string("Noise_") + c.pattern + "_25519_ChaChaPoly_BLAKE2b";
    CAPTURE(c.id);
    CAPTURE(name);
    const ParseResult r = parse(name);
    REQUIRE(r.status == Status::ok);
    const Protocol& p = *r.protocol;
    CHECK(p.name() == name);
    CHECK(p.psk_count == c.psk_count);
    CHECK(p.psk_mode());
    const auto want = messages_of(c.messages);
    const auto got = messages_of(p.pattern);
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
      CAPTURE(i);
      CHECK(describe(got[i]) == describe(want[i]));
    }
    // The base pattern in the table is left untouched.
    const HandshakePattern* base = find_pattern(p.pattern.name);
    REQUIRE(base != nullptr);
    for (std::size_t i = 0; i < base->message_count; ++i) {
      CHECK_FALSE(base->messages[i].contains(Token::psk));
    }
  }
}

TEST_CASE("Protocol: malformed names") {
  const std::string long_name =
      "Noise_XX_25519_ChaChaPoly_" + std::string(128 - 26, 'B');  // 128 characters
  REQUIRE(long_name.size() == 128);
  struct Case {
    int id;
    std::string name;
  };
  const Case cases[] = {
      {1, ""},
      {2, "Noise"},
      {3, "Noise_XX"},
      {4, "Noise_XX_25519"},
      {5, "Noise_XX_25519_ChaChaPoly"},                 // missing hash
      {6, "Noise_XX_25519_ChaChaPoly_BLAKE2b_SHA256"},  // one part too many
      {7, "Noise_XX_25519_ChaChaPoly_BLAKE2b_"},        // trailing separator
      {8, "noise_XX_25519_ChaChaPoly_BLAKE2b"},         // lowercase prefix
      {9, "NOISE_XX_25519_ChaChaPoly_BLAKE2b"},
      {10, "Noisy_XX_25519_ChaChaPoly_BLAKE2b"},
      {11, "Noise__25519_ChaChaPoly_BLAKE2b"},             // empty pattern
      {12, "Noise_psk0_25519_ChaChaPoly_BLAKE2b"},         // modifier without pattern
      {13, "Noise_NNpsk3_25519_ChaChaPoly_BLAKE2b"},       // NN has 2 messages
      {14, "Noise_XXpsk4_25519_ChaChaPoly_BLAKE2b"},       // XX has 3 messages
      {15, "Noise_Npsk2_25519_ChaChaPoly_BLAKE2b"},        // N has 1 message
      {16, "Noise_XXpsk3+psk3_25519_ChaChaPoly_BLAKE2b"},  // repeated
      {17, "Noise_NNpsk0+psk2+psk0_25519_ChaChaPoly_BLAKE2b"},
      {18, "Noise_XXpsk01_25519_ChaChaPoly_BLAKE2b"},  // leading zero
      {19, "Noise_XXpsk00_25519_ChaChaPoly_BLAKE2b"},
      {20, "Noise_XXpskx_25519_ChaChaPoly_BLAKE2b"},  // not a number
      {21, "Noise_XXpsk_25519_ChaChaPoly_BLAKE2b"},   // no number
      {22, "Noise_XXpsk-1_25519_ChaChaPoly_BLAKE2b"},
      {23, "Noise_XXpsk+1_25519_ChaChaPoly_BLAKE2b"},
      {24, "Noise_XXpsk1x_25519_ChaChaPoly_BLAKE2b"},
      {25, "Noise_XXpsk99999999999999999999_25519_ChaChaPoly_BLAKE2b"},  // overflows
      {26, "Noise_XXpsk3+_25519_ChaChaPoly_BLAKE2b"},                    // trailing '+'
      {27, "Noise_XX+psk3_25519_ChaChaPoly_BLAKE2b"},       // '+' before the first modifier
      {28, "Noise_XXpsk0++psk3_25519_ChaChaPoly_BLAKE2b"},  // empty modifier
      {29, "Noise_NNpsk0psk2_25519_ChaChaPoly_BLAKE2b"},    // missing '+'
      {30, long_name},                                      // longer than 127 characters
  };
  for (const Case& c : cases) {
    CAPTURE(c.id);
    CAPTURE(c.name);
    const ParseResult r = parse(c.name);
    CHECK(r.status == Status::malformed);
    CHECK_FALSE(static_cast<bool>(r));
    CHECK_FALSE(r.protocol.has_value());
    CHECK_FALSE(r.message.empty());
  }
  CHECK(parse(long_name).message.find("127") != std::string::npos);
}

TEST_CASE("Protocol: a name of up to 127 characters is not refused for its length") {
  // No valid name is that long, but one of 127 characters must fail for
  // another reason (here: an unknown hash), not for its length.
  const std::string name = "Noise_XX_25519_ChaChaPoly_" + std::string(127 - 26, 'B');
  REQUIRE(name.size() == 127);
  const ParseResult r = parse(name);
  CHECK(r.status == Status::unsupported);
  CHECK(r.message.find("BBBB") != std::string::npos);
}

TEST_CASE("Protocol: unsupported names say what is unsupported") {
  struct Case {
    int id;
    const char* name;
    const char* named;  // the message must contain this
  };
  static const Case kCases[] = {
      {1, "Noise_XX_448_ChaChaPoly_BLAKE2b", "448"},
      {2, "Noise_XX_P256_ChaChaPoly_BLAKE2b", "P256"},
      {3, "Noise_XX_25519_ChaChaPoly_BLAKE2s", "BLAKE2s"},
      {4, "Noise_XX_25519_ChaChaPoly_SHA3", "SHA3"},
      {5, "Noise_XX_25519_ChaChaPoly_sha256", "sha256"},
      {6, "Noise_XX_25519_Salsa20_BLAKE2b", "Salsa20"},
      {7, "Noise_XX_25519_chachapoly_BLAKE2b", "chachapoly"},
      {8, "Noise_ZZ_25519_ChaChaPoly_BLAKE2b", "ZZ"},
      {9, "Noise_XXX_25519_ChaChaPoly_BLAKE2b", "XXX"},
      {10, "Noise_NK2_25519_ChaChaPoly_BLAKE2b", "NK2"},
      {11, "Noise_XXfallback_25519_ChaChaPoly_BLAKE2b", "fallback"},
      {12, "Noise_XXfallback+psk0_25519_ChaChaPoly_BLAKE2b", "fallback"},
      {13, "Noise_XXpsk0+fallback_25519_ChaChaPoly_BLAKE2b", "fallback"},
      {14, "Noise_XXhfs_25519_ChaChaPoly_BLAKE2b", "hfs"},
      {15, "Noise_XX_448_AESGCM_BLAKE2s", "448"},
  };
  for (const Case& c : kCases) {
    CAPTURE(c.id);
    CAPTURE(c.name);
    const ParseResult r = parse(c.name);
    CHECK(r.status == Status::unsupported);
    CHECK_FALSE(static_cast<bool>(r));
    CHECK_FALSE(r.protocol.has_value());
    CAPTURE(r.message);
    CHECK(r.message.find(c.named) != std::string::npos);
  }
}

TEST_CASE("Protocol: needs_local_static and needs_remote_static") {
  // Columns: initiator needs its own s, responder needs its own s,
  // initiator needs the responder's s in advance, responder needs the
  // initiator's s in advance.
  struct Case {
    const char* pattern;
    bool i_local, r_local, i_remote, r_remote;
  };
  static const Case kCases[] = {
      {"N", false, true, true, false},      {"K", true, true, true, true},
      {"X", true, true, true, false},       {"NN", false, false, false, false},
      {"NK", false, true, true, false},     {"NX", false, true, false, false},
      {"XN", true, false, false, false},    {"XK", true, true, true, false},
      {"XX", true, true, false, false},     {"KN", true, false, false, true},
      {"KK", true, true, true, true},       {"KX", true, true, false, true},
      {"IN", true, false, false, false},    {"IK", true, true, true, false},
      {"IX", true, true, false, false},     {"NK1", false, true, true, false},
      {"NX1", false, true, false, false},   {"X1N", true, false, false, false},
      {"XK1", true, true, true, false},     {"K1K1", true, true, true, true},
      {"KX1", true, true, false, true},     {"I1N", true, false, false, false},
      {"I1X1", true, true, false, false},   {"NNpsk0", false, false, false, false},
      {"XXpsk3", true, true, false, false}, {"Npsk0", false, true, true, false},
  };
  for (const Case& c : kCases) {
    const std::string name = std::string("Noise_") + c.pattern + "_25519_ChaChaPoly_SHA256";
    CAPTURE(name);
    const ParseResult r = parse(name);
    REQUIRE(r.status == Status::ok);
    const Protocol& p = *r.protocol;
    CHECK(p.needs_local_static(Role::initiator) == c.i_local);
    CHECK(p.needs_local_static(Role::responder) == c.r_local);
    CHECK(p.needs_remote_static(Role::initiator) == c.i_remote);
    CHECK(p.needs_remote_static(Role::responder) == c.r_remote);
  }
}

TEST_CASE("Protocol: static key needs follow the naming convention for every pattern") {
  // Section 7.2/7.6: the first letter (and "1") is the initiator's static key,
  // the rest the responder's. N = none, K = known to the peer in advance,
  // X = transmitted, I = transmitted immediately. One-way patterns name only
  // the sender; the recipient's key is always known in advance.
  for (const HandshakePattern& pat : all_patterns()) {
    const std::string name = "Noise_" + std::string(pat.name) + "_25519_ChaChaPoly_BLAKE2b";
    CAPTURE(name);
    const ParseResult r = parse(name);
    REQUIRE(r.status == Status::ok);
    const Protocol& p = *r.protocol;
    const char init = pat.name[0];
    char resp = 'K';
    if (!pat.one_way) {
      REQUIRE(pat.name.size() >= 2);
      resp = pat.name[pat.name[1] == '1' ? 2 : 1];
    }
    CHECK(p.needs_local_static(Role::initiator) == (init != 'N'));
    CHECK(p.needs_local_static(Role::responder) == (resp != 'N'));
    CHECK(p.needs_remote_static(Role::initiator) == (resp == 'K'));
    CHECK(p.needs_remote_static(Role::responder) == (init == 'K'));
  }
}
