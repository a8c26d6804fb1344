// SPDX-License-Identifier: MIT
#include "vector_file.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "gw/constants.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/noise/handshake_state.hpp"

namespace gw::vectors {

using nlohmann::json;

// --- Hex ---

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<ByteVec> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  ByteVec out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return out;
}

std::string to_hex(const ByteVec& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xf]);
  }
  return s;
}

// --- Parsing ---

namespace {

// Throws std::runtime_error naming the field when it is not a hex string.
ByteVec hex_field(const json& value, const std::string& field) {
  if (!value.is_string()) throw std::runtime_error("field '" + field + "' is not a string");
  auto bytes = from_hex(value.get<std::string>());
  if (!bytes) throw std::runtime_error("field '" + field + "' is not valid hex");
  return *bytes;
}

std::optional<ByteVec> optional_hex(const json& v, const std::string& field) {
  const auto it = v.find(field);
  if (it == v.end() || it->is_null()) return std::nullopt;
  return hex_field(*it, field);
}

Side parse_side(const json& v, const std::string& prefix) {
  Side side;
  side.prologue = optional_hex(v, prefix + "prologue").value_or(ByteVec{});
  if (const auto it = v.find(prefix + "psks"); it != v.end() && !it->is_null()) {
    if (!it->is_array()) throw std::runtime_error("field '" + prefix + "psks' is not an array");
    for (const json& psk : *it)
      side.psks.push_back(hex_field(psk, prefix + "psks[]"));
  } else if (auto single = optional_hex(v, prefix + "psk")) {  // older files
    side.psks.push_back(*single);
  }
  side.static_key = optional_hex(v, prefix + "static");
  side.ephemeral_key = optional_hex(v, prefix + "ephemeral");
  side.remote_static = optional_hex(v, prefix + "remote_static");
  side.remote_ephemeral = optional_hex(v, prefix + "remote_ephemeral");
  return side;
}

void parse_fields(const json& v, Vector& out) {
  if (!v.is_object()) throw std::runtime_error("vector is not an object");
  const auto name = v.contains("protocol_name") ? v.find("protocol_name") : v.find("name");
  if (name == v.end() || !name->is_string()) {
    throw std::runtime_error("missing 'protocol_name' (or 'name')");
  }
  out.protocol_name = name->get<std::string>();
  out.init = parse_side(v, "init_");
  out.resp = parse_side(v, "resp_");
  out.handshake_hash = optional_hex(v, "handshake_hash");
  if (const auto it = v.find("fail"); it != v.end() && !it->is_null()) {
    if (!it->is_boolean()) throw std::runtime_error("field 'fail' is not a boolean");
    out.expect_failure = it->get<bool>();
  }
  const auto msgs = v.find("messages");
  if (msgs == v.end() || !msgs->is_array()) throw std::runtime_error("missing 'messages' array");
  for (const json& m : *msgs) {
    if (!m.is_object()) throw std::runtime_error("message is not an object");
    Message msg;
    msg.payload = optional_hex(m, "payload").value_or(ByteVec{});
    const auto ct = m.find("ciphertext");
    if (ct == m.end()) throw std::runtime_error("message without 'ciphertext'");
    msg.ciphertext = hex_field(*ct, "ciphertext");
    out.messages.push_back(std::move(msg));
  }
}

}  // namespace

VectorFile parse_vector_file(std::string_view json_text) {
  VectorFile file;
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    file.error = "not valid JSON";
    return file;
  }
  const json* list = nullptr;
  if (doc.is_object() && doc.contains("vectors") && doc["vectors"].is_array()) {
    list = &doc["vectors"];
  } else if (doc.is_array()) {
    list = &doc;
  } else {
    file.error = "expected an object with a \"vectors\" array";
    return file;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    Vector vec;
    vec.index = i;
    try {
      parse_fields((*list)[i], vec);
    } catch (const std::exception& e) {
      vec.format_error = e.what();
    }
    file.vectors.push_back(std::move(vec));
  }
  return file;
}

VectorFile load_vector_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    VectorFile file;
    file.error = "cannot open " + path;
    return file;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_vector_file(text.str());
}

// --- Replay ---

namespace {

// Vectors fix every ephemeral key, so drawing randomness means one is missing.
class NoRandomness final : public crypto::Rng {
 public:
  void fill(MutBytes) override {
    throw std::runtime_error("vector lacks an ephemeral key the pattern needs");
  }
};

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(noise::Error err, const std::string& what) {
  if (err != noise::Error::ok) throw Failure(what + ": " + noise::to_string(err));
}

crypto::PublicKey public_key(const ByteVec& bytes, const std::string& what) {
  if (bytes.size() != noise_spec::kDhLen) throw Failure(what + " is not 32 bytes");
  crypto::PublicKey key{};
  std::copy(bytes.begin(), bytes.end(), key.begin());
  return key;
}

crypto::KeyPair key_pair(const ByteVec& bytes, const std::string& what) {
  if (bytes.size() != noise_spec::kDhLen) throw Failure(what + " is not 32 bytes");
  return crypto::KeyPair::from_private(crypto::PrivateKey(bytes));
}

// Supplies the side's keys. A key the pattern has no use for is left out,
// as cacophony-format files may carry one anyway.
void configure(noise::HandshakeState& hs, const Side& side, const std::string& who) {
  const noise::Protocol& proto = hs.protocol();
  check(hs.set_prologue(side.prologue), who + " prologue");
  if (side.static_key) check(hs.set_local_static(key_pair(*side.static_key, who + "_static")), who);
  if (side.ephemeral_key) {
    check(hs.set_ephemeral_for_testing(key_pair(*side.ephemeral_key, who + "_ephemeral")), who);
  }
  if (side.remote_static && proto.needs_remote_static(hs.role())) {
    check(hs.set_remote_static(public_key(*side.remote_static, who + "_remote_static")), who);
  }
  if (side.remote_ephemeral) {
    const noise::Error err =
        hs.set_remote_ephemeral(public_key(*side.remote_ephemeral, who + "_remote_ephemeral"));
    if (err != noise::Error::unexpected_key) check(err, who + " remote ephemeral");
  }
  for (const ByteVec& psk : side.psks)
    check(hs.add_psk(psk), who + " psk");
  check(hs.start(), who + " start");
}

std::string at(std::size_t i) {
  return "message " + std::to_string(i);
}

void expect_equal(const ByteVec& got, const ByteVec& want, const std::string& what) {
  if (got != want) throw Failure(what + " differs: got " + to_hex(got) + ", want " + to_hex(want));
}

// One message through the handshake: the sender writes it, the receiver reads it.
void handshake_step(noise::HandshakeState& sender, noise::HandshakeState& receiver,
                    const Message& m, std::size_t i, ByteVec& buf) {
  std::size_t n = 0;
  check(sender.write_message(m.payload, buf, n), at(i) + " write");
  expect_equal(ByteVec(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)), m.ciphertext,
               at(i) + " ciphertext");
  check(receiver.read_message(m.ciphertext, buf, n), at(i) + " read");
  expect_equal(ByteVec(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)), m.payload,
               at(i) + " payload");
}

void transport_step(noise::CipherState& send, noise::CipherState& receive, const Message& m,
                    std::size_t i, ByteVec& buf) {
  std::size_t n = 0;
  check(send.encrypt_with_ad({}, m.payload, buf, n), at(i) + " encrypt");
  expect_equal(ByteVec(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)), m.ciphertext,
               at(i) + " ciphertext");
  check(receive.decrypt_with_ad({}, m.ciphertext, buf, n), at(i) + " decrypt");
  expect_equal(ByteVec(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)), m.payload,
               at(i) + " payload");
}

void run(const Vector& v, const noise::Protocol& proto) {
  NoRandomness rng;
  noise::HandshakeState init(proto, noise::Role::initiator, rng);
  noise::HandshakeState resp(proto, noise::Role::responder, rng);
  configure(init, v.init, "init");
  configure(resp, v.resp, "resp");

  ByteVec buf(noise_spec::kMaxMessageLen + noise_spec::kTagLen);
  noise::TransportState ti, tr;
  bool split = false;
  for (std::size_t i = 0; i < v.messages.size(); ++i) {
    const bool from_initiator = proto.pattern.one_way || i % 2 == 0;
    if (!split) {
      handshake_step(from_initiator ? init : resp, from_initiator ? resp : init, v.messages[i], i,
                     buf);
      if (init.action() == noise::HandshakeState::Action::split) {
        check(init.split(ti), "init split");
        check(resp.split(tr), "resp split");
        split = true;
        const ByteVec hi(ti.handshake_hash().begin(), ti.handshake_hash().end());
        const ByteVec hr(tr.handshake_hash().begin(), tr.handshake_hash().end());
        expect_equal(hr, hi, "responder's handshake hash");
        if (v.handshake_hash) expect_equal(hi, *v.handshake_hash, "handshake hash");
      }
    } else if (from_initiator) {
      transport_step(ti.send, tr.receive, v.messages[i], i, buf);
    } else {
      transport_step(tr.send, ti.receive, v.messages[i], i, buf);
    }
  }
  if (!split && v.handshake_hash) throw Failure("messages end before the handshake does");
}

}  // namespace

ReplayResult replay(const Vector& v) {
  if (!v.format_error.empty()) return {Outcome::fail, v.format_error};
  const noise::ParseResult parsed = noise::parse_protocol(v.protocol_name);
  if (parsed.status == noise::ParseResult::Status::unsupported) {
    return {Outcome::skip, parsed.message};
  }
  std::string failure;
  if (!parsed) {
    failure = parsed.message;
  } else {
    try {
      run(v, *parsed.protocol);
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  if (v.expect_failure) {
    return failure.empty() ? ReplayResult{Outcome::fail, "expected to fail, but every check passed"}
                           : ReplayResult{Outcome::pass, {}};
  }
  return failure.empty() ? ReplayResult{Outcome::pass, {}} : ReplayResult{Outcome::fail, failure};
}

}  // namespace gw::vectors
