// SPDX-License-Identifier: MIT
// libFuzzer target: libgw's Handshake::read and Channel::open (include/gw/gw.hpp)
// on attacker-chosen bytes, through the public API only.
//
// The first input byte picks what the rest is fed to:
//   bit 0      the rest is used as is, or XORed onto the genuine message (so
//              that mutations stay close to a message that reads)
//   bit 1      a handshake message, or a channel message
//   handshake: (byte >> 2) % 5 picks a configuration (fixed XX, XXpsk3 and
//              IK; negotiated mode with and without a retry); a second byte
//              the message to replace (bits 0-2) and the transport (bit 3,
//              datagram); a fresh pair of handshakes runs up to
//              that message, reads the fuzzed one instead, and then, if the
//              read failed as a forgery (malformed, authentication_failed),
//              the genuine one and the rest of the handshake, and checks the
//              channels; a failure that ends a handshake must leave next()
//              failed.
//   channel:   (byte >> 2) & 1 picks a stream or a datagram channel
//              established once at start-up; a failed open must leave the
//              channel able to open the genuine message.
#include <gw/gw.hpp>

#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

namespace {

using Buf = std::vector<std::uint8_t>;
using Next = gw::Handshake::Next;

void must(bool ok) {
  if (!ok) std::abort();
}

void must(const gw::Status& st) {
  if (!st.ok()) std::abort();
}

struct Config {
  const char* protocol;  // "" for negotiated mode
  bool psk;
  bool remote_key;  // the initiator knows the responder's key (IK)
  bool retry;       // negotiated: policies that make the responder answer a retry
};

constexpr Config kConfigs[] = {
    {"Noise_XX_25519_ChaChaPoly_BLAKE2b", false, false, false},
    {"", false, false, false},
    {"", false, false, true},
    {"Noise_XXpsk3_25519_ChaChaPoly_SHA256", true, false, false},
    {"Noise_IK_25519_ChaChaPoly_SHA512", false, true, false},
};

// What every iteration shares: two identities, a PSK, and established channels.
struct World {
  gw::Identity a = gw::Identity::generate();
  gw::Identity b = gw::Identity::generate();
  gw::Psk psk = gw::Psk::generate();
  gw::Channel stream_i, stream_r, dgram_i, dgram_r;
};

gw::HandshakeOptions options(const World& w, const Config& c, gw::Role role,
                             gw::Transport transport) {
  gw::HandshakeOptions o;
  o.role = role;
  o.protocol = c.protocol;
  o.transport = transport;
  const bool init = role == gw::Role::initiator;
  o.identity = init ? w.a : w.b;
  if (c.remote_key && init) {
    o.remote_key = w.b.public_key();
  } else {
    o.trust.add_key(init ? w.b.public_key() : w.a.public_key());
  }
  if (c.psk) o.psks = {w.psk};
  if (c.retry) {
    if (init) {
      o.suites = {"ChaChaPoly_SHA256", "ChaChaPoly_BLAKE2b"};
    } else {
      o.suites = {"ChaChaPoly_BLAKE2b"};
    }
  }
  return o;
}

// Both channels work, both ways.
void check_channels(gw::Channel& x, gw::Channel& y) {
  const Buf plain{'f', 'u', 'z', 'z'};
  Buf sealed, opened;
  must(x.seal(plain, sealed));
  must(y.open(sealed, opened));
  must(opened == plain);
  must(y.seal(plain, sealed));
  must(x.open(sealed, opened));
  must(opened == plain);
}

// Runs a handshake to the end without interference.
void complete(gw::Handshake& hi, gw::Handshake& hr) {
  for (int round = 0; round < 8; ++round) {
    if (hi.next() == Next::done && hr.next() == Next::done) break;
    const bool init_writes = hi.next() == Next::write;
    gw::Handshake& writer = init_writes ? hi : hr;
    gw::Handshake& reader = init_writes ? hr : hi;
    must(writer.next() == Next::write);
    must(reader.next() == Next::read);
    Buf msg;
    must(writer.write(msg));
    must(reader.read(msg));
  }
  must(hi.next() == Next::done && hr.next() == Next::done);
}

void establish(World& w, gw::Transport transport, gw::Channel& ci, gw::Channel& cr) {
  gw::Handshake hi, hr;
  must(gw::Handshake::create(options(w, kConfigs[0], gw::Role::initiator, transport), hi));
  must(gw::Handshake::create(options(w, kConfigs[0], gw::Role::responder, transport), hr));
  complete(hi, hr);
  must(hi.finish(ci));
  must(hr.finish(cr));
}

World& world() {
  static World* w = [] {
    auto* made = new World;
    establish(*made, gw::Transport::stream, made->stream_i, made->stream_r);
    establish(*made, gw::Transport::datagram, made->dgram_i, made->dgram_r);
    return made;
  }();
  return *w;
}

Buf mutate(const std::uint8_t* data, std::size_t size, bool xor_genuine, const Buf& genuine) {
  Buf m(data, data + size);
  if (xor_genuine) {
    for (std::size_t i = 0; i < m.size() && i < genuine.size(); ++i)
      m[i] ^= genuine[i];
  }
  return m;
}

bool forgery(gw::Errc code) {
  return code == gw::Errc::malformed || code == gw::Errc::authentication_failed;
}

void fuzz_handshake(World& w, std::uint8_t selector, const std::uint8_t* data, std::size_t size) {
  if (size < 1) return;
  const bool xor_genuine = (selector & 1) != 0;
  const Config& c = kConfigs[(selector >> 2) % std::size(kConfigs)];
  const int target = data[0] & 7;  // the message to replace
  const gw::Transport transport =
      (data[0] & 8) != 0 ? gw::Transport::datagram : gw::Transport::stream;
  ++data;
  --size;

  gw::Handshake hi, hr;
  must(gw::Handshake::create(options(w, c, gw::Role::initiator, transport), hi));
  must(gw::Handshake::create(options(w, c, gw::Role::responder, transport), hr));
  for (int index = 0; index < 8; ++index) {
    if (hi.next() == Next::done && hr.next() == Next::done) break;
    const bool init_writes = hi.next() == Next::write;
    gw::Handshake& writer = init_writes ? hi : hr;
    gw::Handshake& reader = init_writes ? hr : hi;
    must(writer.next() == Next::write);
    Buf genuine;
    must(writer.write(genuine));
    must(genuine.size() <= 65535);
    if (index == target) {
      const Buf m = mutate(data, size, xor_genuine, genuine);
      const gw::Status st = reader.read(m);
      if (st.ok()) {
        // Read as genuine (or as good as): the reader moved on.
        must(reader.next() == Next::write || reader.next() == Next::done);
        return;
      }
      must(!st.message.empty());
      if (!forgery(st.code)) {
        // Whatever else went wrong ended the handshake.
        must(reader.next() == Next::failed);
        return;
      }
      must(reader.next() == Next::read);
    }
    must(reader.read(genuine));
  }
  must(hi.next() == Next::done && hr.next() == Next::done);
  gw::Channel ci, cr;
  must(hi.finish(ci));
  must(hr.finish(cr));
  check_channels(ci, cr);
}

void fuzz_open(gw::Channel& sender, gw::Channel& receiver, bool datagram, bool xor_genuine,
               const std::uint8_t* data, std::size_t size) {
  const Buf plain{'g', 'e', 'n', 'u', 'i', 'n', 'e'};
  Buf genuine, opened{1, 2, 3};
  must(sender.seal(plain, genuine));
  const Buf m = mutate(data, size, xor_genuine, genuine);
  const gw::Status st = receiver.open(m, opened);
  if (st.ok()) {
    // Only the genuine message opens, and then it has been used.
    must(m == genuine && opened == plain);
    return;
  }
  must(!st.message.empty());
  must(forgery(st.code) || (datagram && st.code == gw::Errc::replayed));
  must(receiver.open(genuine, opened));
  must(opened == plain);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  World& w = world();
  const std::uint8_t selector = data[0];
  ++data;
  --size;
  if ((selector & 2) == 0) {
    fuzz_handshake(w, selector, data, size);
  } else if ((selector & 4) == 0) {
    fuzz_open(w.stream_i, w.stream_r, false, (selector & 1) != 0, data, size);
  } else {
    fuzz_open(w.dgram_r, w.dgram_i, true, (selector & 1) != 0, data, size);
  }
  return 0;
}
