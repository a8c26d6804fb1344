// SPDX-License-Identifier: MIT
// Replay protection for one receiving keypair: a sliding window over 64-bit
// transport counters in the manner of RFC 6479 (a ring of bitmap words, so the
// window slides by whole words without shifting bits).
//
// Contract: call check() before decryption to drop replays cheaply, and
// update() only AFTER the packet authenticated. Recording an unauthenticated
// counter would let a forger slide the window and make genuine packets "old".
//
// Accepted: any counter below session_spec::kRejectAfterMessages that is
// either above every counter recorded so far, or at most kWindow below the
// highest one and not recorded yet. Counter 0 is an ordinary counter.
//
// No allocation; O(1) per packet apart from clearing the words a forward jump
// skips (at most kRingWords). Not thread-safe: the caller serializes per keypair.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "gw/constants.hpp"

namespace gw::session {

class ReplayWindow {
 public:
  // How far below the highest recorded counter a counter may still be accepted.
  static constexpr std::uint64_t kWindow = session_impl::kReplayWindow;

  // Would update(counter) accept this counter now? Changes nothing.
  bool check(std::uint64_t counter) const;
  // Is it refused for its age alone: more than kWindow below the highest
  // counter recorded, or at or past the limit (not as a counter seen before)?
  bool too_old(std::uint64_t counter) const;

  // Records an authenticated counter. Returns false (and records nothing) for
  // a replay, a counter older than the window or one at or past the limit.
  bool update(std::uint64_t counter);

  // Forgets every counter: the state of a new keypair.
  void reset();

 private:
  static constexpr std::size_t kRingWords = session_impl::kReplayRingWords;
  static constexpr std::uint64_t kWordBits = 64;
  static_assert((kRingWords & (kRingWords - 1)) == 0, "ring index uses a mask");
  static_assert(kWindow == (kRingWords - 1) * kWordBits, "one word of slack");
  static_assert(kWindow >= session_spec::kReplayWindowMin, "DESIGN.md asks for 2048");

  void advance_to(std::uint64_t counter);

  std::array<std::uint64_t, kRingWords> ring_{};
  // One past the highest recorded counter; 0 while nothing is recorded. Never
  // overflows: recorded counters stay below kRejectAfterMessages.
  std::uint64_t next_ = 0;
};

}  // namespace gw::session
