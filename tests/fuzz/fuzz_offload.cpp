// SPDX-License-Identifier: MIT
// libFuzzer target: TUN offloads. The input (after a first byte that picks
// max_packet) is a frame read from the TUN: segment() either refuses it or
// makes packets within max_packet. Those go through a Coalescer; each frame
// it writes must cut back (segment()) into the packets that went in.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "gw/offload/offload.hpp"

using gw::Bytes;
using gw::MutBytes;
using namespace gw::offload;

namespace {

using Buf = std::vector<std::uint8_t>;

class Collect final : public SegmentOutput {
 public:
  explicit Collect(std::size_t limit) : limit_(limit) {}
  MutBytes next(std::size_t size) override {
    if (packets.size() >= limit_) return {};
    buf_.assign(size, 0);  // exactly `size`: ASan catches writes past it
    return buf_;
  }
  void commit(std::size_t size) override {
    if (size > buf_.size()) std::abort();
    packets.emplace_back(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(size));
  }
  std::vector<Buf> packets;

 private:
  std::size_t limit_;
  Buf buf_;
};

class Frames final : public Coalescer::Writer {
 public:
  void write(Bytes frame) override {
    if (frame.size() < kVnetHdrLen) std::abort();
    frames.emplace_back(frame.begin(), frame.end());
  }
  std::vector<Buf> frames;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // 0..255 -> 64..65344: tiny MTUs included.
  const std::size_t max_packet = 64 + std::size_t{data[0]} * 256;
  const Buf frame(data + 1, data + size);  // an exact-size copy for ASan
  Collect out(4096);
  const SegmentError e = segment(frame, max_packet, out);
  if (e == SegmentError::none && out.packets.empty()) std::abort();
  for (const Buf& p : out.packets) {
    if (p.size() > max_packet || p.empty()) std::abort();
  }
  if (e != SegmentError::none && e != SegmentError::out_of_room) return 0;

  Coalescer coalescer(32, 1 << 17);
  Frames writer;
  for (const Buf& p : out.packets) {
    if (!coalescer.add(p)) {
      coalescer.flush(writer);
      if (!coalescer.add(p)) std::abort();
    }
  }
  coalescer.flush(writer);
  if (!coalescer.empty()) std::abort();

  // Every frame cuts back into what went in, in order (one flow at most
  // here, so nothing may be reordered).
  std::size_t next = 0;
  for (const Buf& f : writer.frames) {
    Collect again(4096);
    if (f.size() - kVnetHdrLen > 65535) std::abort();
    const auto hdr = read_vnet_hdr(f);
    if (!hdr) std::abort();
    if (hdr->gso_type == VnetHdr::kGsoNone && hdr->flags != 0) std::abort();
    if (segment(f, 65535, again) != SegmentError::none) std::abort();
    for (const Buf& p : again.packets) {
      if (next >= out.packets.size() || p != out.packets[next]) std::abort();
      ++next;
    }
  }
  if (next != out.packets.size()) std::abort();
  return 0;
}
