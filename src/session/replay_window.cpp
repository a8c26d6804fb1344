// SPDX-License-Identifier: MIT
#include "gw/session/replay_window.hpp"

namespace gw::session {

namespace {

constexpr std::uint64_t kBitsLog = 6;  // 64 bits per ring word

constexpr std::uint64_t word_of(std::uint64_t counter) {
  return counter >> kBitsLog;
}

constexpr std::uint64_t bit_of(std::uint64_t counter) {
  return std::uint64_t{1} << (counter & 63);
}

}  // namespace

bool ReplayWindow::check(std::uint64_t counter) const {
  if (counter >= session_spec::kRejectAfterMessages) return false;
  if (counter >= next_) return true;  // newer than anything recorded
  const std::uint64_t highest = next_ - 1;
  if (highest - counter > kWindow) return false;  // slid out of the window
  const std::uint64_t word = ring_[word_of(counter) & (kRingWords - 1)];
  return (word & bit_of(counter)) == 0;
}

bool ReplayWindow::too_old(std::uint64_t counter) const {
  if (counter >= session_spec::kRejectAfterMessages) return true;
  return counter < next_ && next_ - 1 - counter > kWindow;
}

bool ReplayWindow::update(std::uint64_t counter) {
  if (!check(counter)) return false;
  if (counter >= next_) advance_to(counter);
  ring_[word_of(counter) & (kRingWords - 1)] |= bit_of(counter);
  return true;
}

void ReplayWindow::reset() {
  ring_ = {};
  next_ = 0;
}

// Makes `counter` the highest recorded counter. The words between the old
// highest word and the new one hold bits of counters a whole ring earlier,
// so they are cleared; a jump of a ring or more clears the ring once. With
// nothing recorded yet (next_ == 0) the ring is already clear.
void ReplayWindow::advance_to(std::uint64_t counter) {
  if (next_ != 0) {
    const std::uint64_t old_word = word_of(next_ - 1);
    const std::uint64_t new_word = word_of(counter);
    if (new_word - old_word >= kRingWords) {
      ring_ = {};
    } else {
      for (std::uint64_t w = old_word + 1; w <= new_word; ++w)
        ring_[w & (kRingWords - 1)] = 0;
    }
  }
  next_ = counter + 1;
}

}  // namespace gw::session
