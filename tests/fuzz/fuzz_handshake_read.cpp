// SPDX-License-Identifier: MIT
// libFuzzer target: HandshakeState::read_message on attacker-chosen bytes.
// The first byte picks the pattern and the step: a responder reading message
// 1, or an initiator (having sent message 1) reading message 2. A failed read
// must leave the state able to read the genuine message afterwards.
#include <array>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "gw/noise/handshake_state.hpp"

namespace {

class CountingRng final : public gw::crypto::Rng {
 public:
  void fill(gw::MutBytes out) override {
    for (auto& b : out)
      b = static_cast<std::uint8_t>(++n_ * 29);
  }

 private:
  std::uint32_t n_ = 0;
};

constexpr const char* kNames[] = {
    "Noise_XX_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk3_25519_ChaChaPoly_SHA256",
    "Noise_IK_25519_ChaChaPoly_SHA512",  "Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b",
    "Noise_KK_25519_ChaChaPoly_BLAKE2b", "Noise_X1X1_25519_ChaChaPoly_SHA256",
};

void must(gw::noise::Error e) {
  if (e != gw::noise::Error::ok) std::abort();
}

void setup(gw::noise::HandshakeState& hs, const gw::crypto::KeyPair& local,
           const gw::crypto::KeyPair& remote) {
  const std::array<std::uint8_t, 32> psk{7};
  must(hs.set_local_static(local));
  if (hs.protocol().needs_remote_static(hs.role())) must(hs.set_remote_static(remote.public_key));
  for (int i = 0; i < hs.protocol().psk_count; ++i)
    must(hs.add_psk(psk));
  must(hs.start());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t pick = data[0] % std::size(kNames);
  const bool second = (data[0] / std::size(kNames)) % 2 == 1;
  const gw::Bytes input(data + 1, size - 1);

  const auto proto = *gw::noise::parse_protocol(kNames[pick]).protocol;
  CountingRng rng;
  const auto is = gw::crypto::KeyPair::generate(rng), rs = gw::crypto::KeyPair::generate(rng);
  gw::noise::HandshakeState init(proto, gw::noise::Role::initiator, rng);
  gw::noise::HandshakeState resp(proto, gw::noise::Role::responder, rng);
  setup(init, is, rs);
  setup(resp, rs, is);

  std::vector<std::uint8_t> msg(70000), payload(70000);
  std::size_t n = 0, m = 0;
  must(init.write_message({}, msg, n));
  gw::noise::HandshakeState& reader = second ? init : resp;
  if (second) {
    must(resp.read_message({msg.data(), n}, payload, m));
    must(resp.write_message({}, msg, n));
  }
  if (reader.read_message(input, payload, m) == gw::noise::Error::ok) return 0;
  // Transactional: the genuine message still reads.
  must(reader.read_message({msg.data(), n}, payload, m));
  return 0;
}
