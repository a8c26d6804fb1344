// SPDX-License-Identifier: MIT
// libgw's negotiated mode (docs/LIBRARY.md, "Negotiated mode"): the bytes
// around the Noise messages of an XX handshake whose suite the two sides
// agree on, and the prologue that makes every one of those bytes part of the
// transcript.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "gw/constants.hpp"
#include "gw/gw.hpp"
#include "gw/wire/payloads.hpp"
#include "internal.hpp"

namespace gw::lib::negotiation {

inline constexpr std::uint8_t kInitiation = 1;
inline constexpr std::uint8_t kResponse = 2;
inline constexpr std::uint8_t kFinish = 3;
inline constexpr std::uint8_t kRetry = 4;
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::uint8_t kFlagPsk = 0x01;
inline constexpr std::uint8_t kFlagRetried = 0x02;
// Type, version, suite, flags, then the offer. The offer travels in clear,
// before the Noise message, so that the responder can pick a suite before it
// runs one: with a PSK, XXpsk3 already encrypts message 1's payload. The
// prologue holds the whole header, so the transcript covers the offer.
inline constexpr std::size_t kHeaderLen = 4 + wire_spec::kOfferSize;
inline constexpr std::size_t kRetryLen = 2;  // type, suite
// Header and ephemeral key; with a PSK also the tag of the empty payload.
inline constexpr std::size_t kInitiationLen = kHeaderLen + 32;
inline constexpr std::size_t kInitiationPskLen = kInitiationLen + 16;
inline constexpr std::size_t kFirstHashLen = 32;  // SHA-256

using Header = std::array<std::uint8_t, kHeaderLen>;
using FirstHash = std::array<std::uint8_t, kFirstHashLen>;

GW_LOCAL Header header(std::uint8_t suite, std::uint8_t flags, const wire::Offer& offer) noexcept;
// Suite names to ids, in order; empty names: gw's default order.
GW_LOCAL Status suite_ids(const std::vector<std::string>& names, std::vector<std::uint8_t>& out);
// "gw channel v1" || header || first_hash (RETRIED only) || the caller's prologue.
GW_LOCAL std::vector<std::uint8_t> prologue(const Header& header, const FirstHash* first_hash,
                                            ByteView caller_prologue);
// SHA-256(first initiation || retry).
GW_LOCAL FirstHash first_hash(ByteView initiation, ByteView retry) noexcept;
// "[ChaChaPoly_BLAKE2b, AESGCM_SHA256]" for messages.
GW_LOCAL std::string suite_list(std::span<const std::uint8_t> ids);

}  // namespace gw::lib::negotiation
