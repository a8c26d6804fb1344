// SPDX-License-Identifier: MIT
#include "gw/noise/protocol.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace gw::noise {

const char* to_string(Token t) noexcept {
  switch (t) {
    case Token::e:
      return "e";
    case Token::s:
      return "s";
    case Token::ee:
      return "ee";
    case Token::es:
      return "es";
    case Token::se:
      return "se";
    case Token::ss:
      return "ss";
    case Token::psk:
      return "psk";
  }
  return "?";
}

bool Protocol::needs_remote_static(Role role) const noexcept {
  const TokenList& their_pre =
      role == Role::initiator ? pattern.pre_responder : pattern.pre_initiator;
  return their_pre.contains(Token::s);
}

bool Protocol::needs_local_static(Role role) const noexcept {
  const TokenList& own_pre =
      role == Role::initiator ? pattern.pre_initiator : pattern.pre_responder;
  if (own_pre.contains(Token::s)) return true;
  // Tokens that use the local static key: our own "s", and the DH with our s.
  const Token mixed = role == Role::initiator ? Token::se : Token::es;
  for (std::size_t i = 0; i < pattern.message_count; ++i) {
    const TokenList& m = pattern.messages[i];
    if (m.contains(Token::ss) || m.contains(mixed)) return true;
    if (pattern.sender(i) == role && m.contains(Token::s)) return true;
  }
  return false;
}

namespace {

ParseResult fail(ParseResult::Status status, std::string message) {
  ParseResult r;
  r.status = status;
  r.message = std::move(message);
  return r;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto pos = s.find(sep);
    parts.push_back(s.substr(0, pos));
    if (pos == std::string_view::npos) return parts;
    s.remove_prefix(pos + 1);
  }
}

bool is_pattern_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Inserts the psk token of modifier "pskN": N = 0 before the first message's
// tokens, N >= 1 after the tokens of message N.
ParseResult apply_psk_modifier(std::string_view mod, HandshakePattern& pattern,
                               std::vector<unsigned>& seen) {
  using S = ParseResult::Status;
  // "XX+psk0", "XXpsk0+" and "XXpsk0++psk1" leave an empty modifier: a
  // malformed name, not an unsupported modifier.
  if (mod.empty()) return fail(S::malformed, "empty pattern modifier (stray '+')");
  if (mod.substr(0, 3) != "psk") {
    return fail(S::unsupported,
                "unsupported pattern modifier '" + std::string(mod) + "' (gw supports pskN)");
  }
  const std::string_view digits = mod.substr(3);
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
      (digits.size() > 1 && digits[0] == '0')) {
    return fail(S::malformed, "malformed psk modifier '" + std::string(mod) + "'");
  }
  if (n > pattern.message_count) {
    return fail(S::malformed, "psk modifier '" + std::string(mod) + "' is past the last message");
  }
  if (std::find(seen.begin(), seen.end(), n) != seen.end()) {
    return fail(S::malformed, "psk modifier '" + std::string(mod) + "' repeated");
  }
  seen.push_back(n);
  TokenList& list = pattern.messages[n == 0 ? 0 : n - 1];
  if (list.size >= list.tokens.size()) return fail(S::malformed, "too many tokens in a message");
  if (n == 0) {
    std::copy_backward(list.tokens.begin(), list.tokens.begin() + list.size,
                       list.tokens.begin() + list.size + 1);
    list.tokens[0] = Token::psk;
  } else {
    list.tokens[list.size] = Token::psk;
  }
  ++list.size;
  ParseResult ok;
  ok.status = S::ok;
  return ok;
}

ParseResult parse_pattern(std::string_view text, Protocol& proto) {
  using S = ParseResult::Status;
  std::size_t base_len = 0;
  while (base_len < text.size() && is_pattern_char(text[base_len]))
    ++base_len;
  const std::string_view base = text.substr(0, base_len);
  if (base.empty()) return fail(S::malformed, "missing handshake pattern");
  const HandshakePattern* pattern = find_pattern(base);
  if (pattern == nullptr) {
    return fail(S::unsupported, "unknown handshake pattern '" + std::string(base) + "'");
  }
  proto.pattern = *pattern;
  const std::string_view mods = text.substr(base_len);
  if (mods.empty()) return ParseResult{S::ok, {}, {}};
  std::vector<unsigned> seen;
  for (std::string_view mod : split(mods, '+')) {
    ParseResult r = apply_psk_modifier(mod, proto.pattern, seen);
    if (!r) return r;
  }
  proto.psk_count = static_cast<std::uint8_t>(seen.size());
  return ParseResult{S::ok, {}, {}};
}

ParseResult parse_algorithms(std::string_view dh, std::string_view cipher, std::string_view hash,
                             Protocol& proto) {
  using S = ParseResult::Status;
  if (dh == "448")
    return fail(S::unsupported, "DH function 448 is not supported (gw supports 25519)");
  if (dh != "25519") return fail(S::unsupported, "unknown DH function '" + std::string(dh) + "'");

  if (cipher == "ChaChaPoly") {
    proto.cipher = crypto::CipherAlg::chachapoly;
  } else if (cipher == "AESGCM") {
    if (!crypto::aes256gcm_available()) {
      return fail(S::unsupported, "cipher AESGCM is not available on this CPU (no AES-NI/PCLMUL)");
    }
    proto.cipher = crypto::CipherAlg::aesgcm;
  } else {
    return fail(S::unsupported,
                "unknown cipher '" + std::string(cipher) + "' (gw supports ChaChaPoly, AESGCM)");
  }

  if (hash == "BLAKE2b") {
    proto.hash = crypto::HashAlg::blake2b;
  } else if (hash == "SHA256") {
    proto.hash = crypto::HashAlg::sha256;
  } else if (hash == "SHA512") {
    proto.hash = crypto::HashAlg::sha512;
  } else if (hash == "BLAKE2s") {
    return fail(S::unsupported, "hash BLAKE2s is not supported (libsodium has no BLAKE2s)");
  } else {
    return fail(S::unsupported,
                "unknown hash '" + std::string(hash) + "' (gw supports BLAKE2b, SHA256, SHA512)");
  }
  return ParseResult{S::ok, {}, {}};
}

}  // namespace

ParseResult parse_protocol(std::string_view name) {
  using S = ParseResult::Status;
  if (name.size() > noise_impl::kMaxProtocolNameLen) {
    return fail(S::malformed, "protocol name longer than " +
                                  std::to_string(noise_impl::kMaxProtocolNameLen) + " bytes");
  }
  const auto parts = split(name, '_');
  if (parts.size() != 5 || parts[0] != "Noise") {
    return fail(S::malformed, "protocol name must be Noise_PATTERN_DH_CIPHER_HASH, got '" +
                                  std::string(name) + "'");
  }
  Protocol proto;
  if (ParseResult r = parse_pattern(parts[1], proto); !r) return r;
  if (ParseResult r = parse_algorithms(parts[2], parts[3], parts[4], proto); !r) return r;
  std::copy(name.begin(), name.end(), proto.name_buf.begin());
  proto.name_len = static_cast<std::uint8_t>(name.size());

  ParseResult ok;
  ok.status = S::ok;
  ok.protocol = proto;
  return ok;
}

}  // namespace gw::noise
