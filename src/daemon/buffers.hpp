// SPDX-License-Identifier: MIT
// Packet buffers, sized once at start: the slots TUN packets are read (or cut)
// into and encrypted in place, the TUN frame, the side arena for datagrams the
// engine builds in its own memory, the UDP batches and the worker jobs.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "gw/config/config.hpp"
#include "gw/offload/offload.hpp"
#include "gw/platform/udp.hpp"
#include "gw/session/engine.hpp"

namespace gw::daemon {

// Packet slots for one round of TUN reads: each holds one MTU-sized packet
// with the engine's head- and tailroom around it.
inline constexpr std::size_t kSlots = 256;
inline constexpr std::size_t kMaxFrame = offload::kVnetHdrLen + 65535;
// Bytes for datagrams the engine builds in its own memory (handshake
// messages, staged packets), copied until the next send.
inline constexpr std::size_t kSideArena = 64 * 1024;
// The largest datagram the engine builds in its own memory fits, whatever the MTU.
static_assert(kSideArena >= config::kMaxMtu + session::kPacketHeadroom + session::kPacketTailroom &&
              kSideArena >= wire_spec::kMaxHandshakeSize);

struct PacketBuffers {
  // Sizes everything for `mtu`; `vnet`: TUN frames carry a virtio-net header;
  // `gro`: the socket coalesces received datagrams.
  void allocate(std::size_t mtu_bytes, bool vnet, bool gro) {
    mtu = mtu_bytes;
    stride = (session::kPacketHeadroom + mtu + session::kPacketTailroom + 63) / 64 * 64;
    slots.assign(stride * kSlots, 0);
    frame.assign(vnet ? kMaxFrame : 0, 0);
    side.assign(kSideArena, 0);
    sends = std::make_unique<platform::SendBatch>(kSlots);
    receives =
        gro ? std::make_unique<platform::RecvBatch>(8, 65536)
            : std::make_unique<platform::RecvBatch>(64, std::max<std::size_t>(2048, mtu + 256));
    if (vnet) coalescer = std::make_unique<offload::Coalescer>();
    seal_jobs.resize(kSlots);
    open_jobs.resize(kSlots);
  }

  std::uint8_t* slot(std::size_t i) noexcept { return slots.data() + i * stride; }
  // A packet's bytes in slot `i`, after the headroom.
  MutBytes packet_room(std::size_t i) noexcept { return {slot(i) + session::kPacketHeadroom, mtu}; }
  bool in_slots(Bytes b) const noexcept {
    return b.data() >= slots.data() && b.data() + b.size() <= slots.data() + slots.size();
  }

  std::size_t mtu = config::kDefaultMtu;
  // TUN -> UDP: frames cut into slots, encrypted in place, sent in batches.
  std::size_t stride = 0;
  std::vector<std::uint8_t> slots;
  std::array<std::size_t, kSlots> slot_len{};
  std::size_t slots_used = 0;
  std::vector<std::uint8_t> frame;
  std::vector<std::uint8_t> side;
  std::size_t side_used = 0;
  std::unique_ptr<platform::SendBatch> sends;
  // UDP -> TUN: datagrams decrypted in place, TCP segments coalesced.
  std::unique_ptr<platform::RecvBatch> receives;
  std::unique_ptr<offload::Coalescer> coalescer;
  // With worker threads: each batch is prepared on the event loop, sealed or
  // opened on every thread, and finished in order on the event loop.
  std::vector<session::SealJob> seal_jobs;  // one per packet slot at most
  std::size_t seals = 0;
  std::vector<session::OpenJob> open_jobs;
  std::size_t opens = 0;
};

}  // namespace gw::daemon
