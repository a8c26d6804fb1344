// SPDX-License-Identifier: MIT
// Wiping freed heap memory, for code whose copies of a secret we do not own:
// nlohmann::json's lexer keeps the text of the last tokens it read (a PSK
// sent on the control socket, say) in buffers of its own, freed inside
// parse() without being wiped.
//
// While a WipeFreedMemory lives on a thread, every block that thread frees
// through operator delete is overwritten with zeros first. The program's
// operator new and delete are replaced for that (malloc and free underneath,
// as libstdc++'s are); they are linked into every program that uses
// WipeFreedMemory, and cost one thread-local test per delete outside a scope.
// Blocks freed with free() directly, and aligned new/delete, are not wiped.
#pragma once

namespace gw::control {

class WipeFreedMemory {
 public:
  WipeFreedMemory() noexcept;
  ~WipeFreedMemory();
  WipeFreedMemory(const WipeFreedMemory&) = delete;
  WipeFreedMemory& operator=(const WipeFreedMemory&) = delete;

  // Whether blocks this thread frees now are wiped (a scope is open).
  static bool active() noexcept;
  // Bytes this thread has wiped so far (for tests).
  static unsigned long long wiped_on_this_thread() noexcept;
};

}  // namespace gw::control
