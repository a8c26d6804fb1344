// SPDX-License-Identifier: MIT
// The handshake pattern table of the Noise Protocol Framework, revision 34:
// sections 7.4 (one-way), 7.5 (interactive fundamental) and 7.6 (deferred).
// Each entry is written in the spec's notation in the comment above it.
#include <algorithm>
#include <initializer_list>

#include "gw/noise/protocol.hpp"

namespace gw::noise {

namespace {

using enum Token;

constexpr TokenList L(std::initializer_list<Token> tokens) {
  TokenList list;
  for (Token t : tokens)
    list.tokens[list.size++] = t;
  return list;
}

constexpr HandshakePattern P(std::string_view name, TokenList pre_i, TokenList pre_r,
                             std::initializer_list<TokenList> messages, bool one_way = false) {
  HandshakePattern p;
  p.name = name;
  p.pre_initiator = pre_i;
  p.pre_responder = pre_r;
  for (const TokenList& m : messages)
    p.messages[p.message_count++] = m;
  p.one_way = one_way;
  return p;
}

const HandshakePattern kPatterns[] = {
    // One-way
    // N:  <- s ... -> e, es
    P("N", L({}), L({s}), {L({e, es})}, true),
    // K:  -> s <- s ... -> e, es, ss
    P("K", L({s}), L({s}), {L({e, es, ss})}, true),
    // X:  <- s ... -> e, es, s, ss
    P("X", L({}), L({s}), {L({e, es, s, ss})}, true),

    // Interactive, fundamental
    // NN: -> e  <- e, ee
    P("NN", L({}), L({}), {L({e}), L({e, ee})}),
    // NK: <- s ... -> e, es  <- e, ee
    P("NK", L({}), L({s}), {L({e, es}), L({e, ee})}),
    // NX: -> e  <- e, ee, s, es
    P("NX", L({}), L({}), {L({e}), L({e, ee, s, es})}),
    // XN: -> e  <- e, ee  -> s, se
    P("XN", L({}), L({}), {L({e}), L({e, ee}), L({s, se})}),
    // XK: <- s ... -> e, es  <- e, ee  -> s, se
    P("XK", L({}), L({s}), {L({e, es}), L({e, ee}), L({s, se})}),
    // XX: -> e  <- e, ee, s, es  -> s, se
    P("XX", L({}), L({}), {L({e}), L({e, ee, s, es}), L({s, se})}),
    // KN: -> s ... -> e  <- e, ee, se
    P("KN", L({s}), L({}), {L({e}), L({e, ee, se})}),
    // KK: -> s <- s ... -> e, es, ss  <- e, ee, se
    P("KK", L({s}), L({s}), {L({e, es, ss}), L({e, ee, se})}),
    // KX: -> s ... -> e  <- e, ee, se, s, es
    P("KX", L({s}), L({}), {L({e}), L({e, ee, se, s, es})}),
    // IN: -> e, s  <- e, ee, se
    P("IN", L({}), L({}), {L({e, s}), L({e, ee, se})}),
    // IK: <- s ... -> e, es, s, ss  <- e, ee, se
    P("IK", L({}), L({s}), {L({e, es, s, ss}), L({e, ee, se})}),
    // IX: -> e, s  <- e, ee, se, s, es
    P("IX", L({}), L({}), {L({e, s}), L({e, ee, se, s, es})}),

    // Interactive, deferred
    // NK1: <- s ... -> e  <- e, ee, es
    P("NK1", L({}), L({s}), {L({e}), L({e, ee, es})}),
    // NX1: -> e  <- e, ee, s  -> es
    P("NX1", L({}), L({}), {L({e}), L({e, ee, s}), L({es})}),
    // X1N: -> e  <- e, ee  -> s  <- se
    P("X1N", L({}), L({}), {L({e}), L({e, ee}), L({s}), L({se})}),
    // X1K: <- s ... -> e, es  <- e, ee  -> s  <- se
    P("X1K", L({}), L({s}), {L({e, es}), L({e, ee}), L({s}), L({se})}),
    // XK1: <- s ... -> e  <- e, ee, es  -> s, se
    P("XK1", L({}), L({s}), {L({e}), L({e, ee, es}), L({s, se})}),
    // X1K1: <- s ... -> e  <- e, ee, es  -> s  <- se
    P("X1K1", L({}), L({s}), {L({e}), L({e, ee, es}), L({s}), L({se})}),
    // X1X: -> e  <- e, ee, s, es  -> s  <- se
    P("X1X", L({}), L({}), {L({e}), L({e, ee, s, es}), L({s}), L({se})}),
    // XX1: -> e  <- e, ee, s  -> es, s, se
    P("XX1", L({}), L({}), {L({e}), L({e, ee, s}), L({es, s, se})}),
    // X1X1: -> e  <- e, ee, s  -> es, s  <- se
    P("X1X1", L({}), L({}), {L({e}), L({e, ee, s}), L({es, s}), L({se})}),
    // K1N: -> s ... -> e  <- e, ee  -> se
    P("K1N", L({s}), L({}), {L({e}), L({e, ee}), L({se})}),
    // K1K: -> s <- s ... -> e, es  <- e, ee  -> se
    P("K1K", L({s}), L({s}), {L({e, es}), L({e, ee}), L({se})}),
    // KK1: -> s <- s ... -> e  <- e, ee, se, es
    P("KK1", L({s}), L({s}), {L({e}), L({e, ee, se, es})}),
    // K1K1: -> s <- s ... -> e  <- e, ee, es  -> se
    P("K1K1", L({s}), L({s}), {L({e}), L({e, ee, es}), L({se})}),
    // K1X: -> s ... -> e  <- e, ee, s, es  -> se
    P("K1X", L({s}), L({}), {L({e}), L({e, ee, s, es}), L({se})}),
    // KX1: -> s ... -> e  <- e, ee, se, s  -> es
    P("KX1", L({s}), L({}), {L({e}), L({e, ee, se, s}), L({es})}),
    // K1X1: -> s ... -> e  <- e, ee, s  -> se, es
    P("K1X1", L({s}), L({}), {L({e}), L({e, ee, s}), L({se, es})}),
    // I1N: -> e, s  <- e, ee  -> se
    P("I1N", L({}), L({}), {L({e, s}), L({e, ee}), L({se})}),
    // I1K: <- s ... -> e, es, s  <- e, ee  -> se
    P("I1K", L({}), L({s}), {L({e, es, s}), L({e, ee}), L({se})}),
    // IK1: <- s ... -> e, s  <- e, ee, se, es
    P("IK1", L({}), L({s}), {L({e, s}), L({e, ee, se, es})}),
    // I1K1: <- s ... -> e, s  <- e, ee, es  -> se
    P("I1K1", L({}), L({s}), {L({e, s}), L({e, ee, es}), L({se})}),
    // I1X: -> e, s  <- e, ee, s, es  -> se
    P("I1X", L({}), L({}), {L({e, s}), L({e, ee, s, es}), L({se})}),
    // IX1: -> e, s  <- e, ee, se, s  -> es
    P("IX1", L({}), L({}), {L({e, s}), L({e, ee, se, s}), L({es})}),
    // I1X1: -> e, s  <- e, ee, s  -> se, es
    P("I1X1", L({}), L({}), {L({e, s}), L({e, ee, s}), L({se, es})}),
};

}  // namespace

bool TokenList::contains(Token t) const noexcept {
  const auto v = view();
  return std::find(v.begin(), v.end(), t) != v.end();
}

const HandshakePattern* find_pattern(std::string_view name) noexcept {
  for (const HandshakePattern& p : kPatterns) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::span<const HandshakePattern> all_patterns() noexcept {
  return kPatterns;
}

}  // namespace gw::noise
