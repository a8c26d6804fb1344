// SPDX-License-Identifier: MIT
// The vector runner must read any cacophony-format file, whoever wrote it:
// field-name variants, either hex case, absent optional fields, empty
// payloads and prologues, one or several PSKs. These tests build vectors with
// gw's own handshake, write them in those variants, and check that the
// runner passes the genuine ones and fails the altered ones.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "gw/noise/handshake_state.hpp"
#include "support/fake_rng.hpp"
#include "vectors/vector_file.hpp"

using gw::vectors::ByteVec;
using gw::vectors::Outcome;
using nlohmann::json;

namespace {

ByteVec random_bytes(gw::crypto::Rng& rng, std::size_t n) {
  ByteVec b(n);
  rng.fill(b);
  return b;
}

std::string hex(const ByteVec& b) {
  return gw::vectors::to_hex(b);
}

std::string hex(gw::Bytes b) {
  return hex(ByteVec(b.begin(), b.end()));
}

// A complete vector for `name` made by gw itself: fixed keys drawn from a
// seeded Rng, the given prologue and payloads, then two transport messages.
json make_vector(const std::string& name, std::uint64_t seed, const ByteVec& prologue,
                 const std::vector<ByteVec>& payloads) {
  gw::test::FakeRng rng(seed);
  const auto parsed = gw::noise::parse_protocol(name);
  REQUIRE(parsed);
  const gw::noise::Protocol& proto = *parsed.protocol;
  const ByteVec is = random_bytes(rng, 32), ie = random_bytes(rng, 32);
  const ByteVec rs = random_bytes(rng, 32), re = random_bytes(rng, 32);
  std::vector<ByteVec> psks;
  for (int i = 0; i < proto.psk_count; ++i)
    psks.push_back(random_bytes(rng, 32));

  auto kp = [](const ByteVec& b) {
    return gw::crypto::KeyPair::from_private(gw::crypto::PrivateKey(b));
  };
  gw::noise::HandshakeState init(proto, gw::noise::Role::initiator, rng);
  gw::noise::HandshakeState resp(proto, gw::noise::Role::responder, rng);
  for (auto* hs : {&init, &resp}) {
    const bool i = hs == &init;
    REQUIRE(hs->set_prologue(prologue) == gw::noise::Error::ok);
    REQUIRE(hs->set_local_static(kp(i ? is : rs)) == gw::noise::Error::ok);
    REQUIRE(hs->set_ephemeral_for_testing(kp(i ? ie : re)) == gw::noise::Error::ok);
    if (proto.needs_remote_static(hs->role())) {
      REQUIRE(hs->set_remote_static(kp(i ? rs : is).public_key) == gw::noise::Error::ok);
    }
    for (const auto& psk : psks)
      REQUIRE(hs->add_psk(psk) == gw::noise::Error::ok);
    REQUIRE(hs->start() == gw::noise::Error::ok);
  }

  json v;
  v["protocol_name"] = name;
  v["init_prologue"] = hex(prologue);
  v["resp_prologue"] = hex(prologue);
  v["init_static"] = hex(is);
  v["init_ephemeral"] = hex(ie);
  v["resp_static"] = hex(rs);
  v["resp_ephemeral"] = hex(re);
  if (proto.needs_remote_static(gw::noise::Role::initiator)) {
    v["init_remote_static"] = hex(kp(rs).public_key);
  }
  if (proto.needs_remote_static(gw::noise::Role::responder)) {
    v["resp_remote_static"] = hex(kp(is).public_key);
  }
  v["init_psks"] = json::array();
  v["resp_psks"] = json::array();
  for (const auto& psk : psks) {
    v["init_psks"].push_back(hex(psk));
    v["resp_psks"].push_back(hex(psk));
  }

  ByteVec buf(70000), out(70000);
  gw::noise::TransportState ti, tr;
  std::size_t i = 0;
  for (; init.action() != gw::noise::HandshakeState::Action::split; ++i) {
    const bool from_init = i % 2 == 0;
    auto& w = from_init ? init : resp;
    auto& r = from_init ? resp : init;
    const ByteVec payload = i < payloads.size() ? payloads[i] : ByteVec{};
    std::size_t n = 0, m = 0;
    REQUIRE(w.write_message(payload, buf, n) == gw::noise::Error::ok);
    REQUIRE(r.read_message({buf.data(), n}, out, m) == gw::noise::Error::ok);
    v["messages"].push_back({{"payload", hex(payload)}, {"ciphertext", hex({buf.data(), n})}});
  }
  REQUIRE(init.split(ti) == gw::noise::Error::ok);
  REQUIRE(resp.split(tr) == gw::noise::Error::ok);
  v["handshake_hash"] = hex(ti.handshake_hash());
  for (int k = 0; k < 2; ++k, ++i) {
    const bool from_init = proto.pattern.one_way || i % 2 == 0;
    auto& cs = from_init ? ti.send : tr.send;
    const ByteVec payload = random_bytes(rng, 1 + static_cast<std::size_t>(k) * 40);
    std::size_t n = 0;
    REQUIRE(cs.encrypt_with_ad({}, payload, buf, n) == gw::noise::Error::ok);
    v["messages"].push_back({{"payload", hex(payload)}, {"ciphertext", hex({buf.data(), n})}});
  }
  return v;
}

json file_of(std::initializer_list<json> vectors) {
  return json{{"vectors", vectors}};
}

Outcome outcome_of(const json& file, std::size_t index = 0) {
  const auto parsed = gw::vectors::parse_vector_file(file.dump());
  REQUIRE(parsed.error.empty());
  REQUIRE(parsed.vectors.size() > index);
  return gw::vectors::replay(parsed.vectors[index]).outcome;
}

std::string upper(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

const ByteVec kPrologue = {'J', 'o', 'h', 'n'};

}  // namespace

TEST_CASE("hex decoding") {
  CHECK(gw::vectors::from_hex("") == ByteVec{});
  CHECK(gw::vectors::from_hex("00ff7F") == ByteVec{0x00, 0xff, 0x7f});
  CHECK(gw::vectors::from_hex("ABCDEF") == ByteVec{0xab, 0xcd, 0xef});
  CHECK_FALSE(gw::vectors::from_hex("abc"));
  CHECK_FALSE(gw::vectors::from_hex("zz"));
  CHECK_FALSE(gw::vectors::from_hex("0x00"));
  CHECK(gw::vectors::to_hex({0x01, 0xab}) == "01ab");
}

TEST_CASE("vectors made by gw pass across patterns, suites, psks and payloads") {
  const std::vector<ByteVec> payloads = {{}, {0x41}, ByteVec(1000, 0x5a)};
  for (const char* name :
       {"Noise_XX_25519_ChaChaPoly_BLAKE2b", "Noise_XXpsk3_25519_ChaChaPoly_SHA256",
        "Noise_NNpsk0+psk2_25519_ChaChaPoly_SHA512", "Noise_IK_25519_ChaChaPoly_BLAKE2b",
        "Noise_X1X1_25519_ChaChaPoly_SHA256", "Noise_N_25519_ChaChaPoly_BLAKE2b",
        "Noise_Kpsk0_25519_ChaChaPoly_SHA512", "Noise_KK1_25519_ChaChaPoly_BLAKE2b"}) {
    CAPTURE(name);
    CHECK(outcome_of(file_of({make_vector(name, 7, kPrologue, payloads)})) == Outcome::pass);
    CHECK(outcome_of(file_of({make_vector(name, 8, {}, {})})) == Outcome::pass);
  }
}

TEST_CASE("field-name and formatting variants are read") {
  json v = make_vector("Noise_XXpsk3_25519_ChaChaPoly_BLAKE2b", 3, kPrologue, {{1, 2, 3}});

  SUBCASE("older 'name' and single 'init_psk' fields") {
    json old = v;
    old["name"] = old["protocol_name"];
    old.erase("protocol_name");
    old["init_psk"] = old["init_psks"][0];
    old["resp_psk"] = old["resp_psks"][0];
    old.erase("init_psks");
    old.erase("resp_psks");
    CHECK(outcome_of(file_of({old})) == Outcome::pass);
  }
  SUBCASE("upper-case hex everywhere") {
    json up = v;
    for (auto& [key, value] : up.items()) {
      if (value.is_string() && key != "protocol_name") value = upper(value.get<std::string>());
    }
    for (auto& psk : up["init_psks"])
      psk = upper(psk.get<std::string>());
    for (auto& psk : up["resp_psks"])
      psk = upper(psk.get<std::string>());
    for (auto& m : up["messages"]) {
      m["ciphertext"] = upper(m["ciphertext"].get<std::string>());
      m["payload"] = upper(m["payload"].get<std::string>());
    }
    CHECK(outcome_of(file_of({up})) == Outcome::pass);
  }
  SUBCASE("absent optional fields and nulls") {
    json lean = make_vector("Noise_XX_25519_ChaChaPoly_BLAKE2b", 4, {}, {});
    lean.erase("init_prologue");
    lean["resp_prologue"] = nullptr;
    lean.erase("init_psks");
    lean.erase("handshake_hash");
    for (auto& m : lean["messages"]) {
      if (m["payload"] == "") m.erase("payload");
    }
    CHECK(outcome_of(file_of({lean})) == Outcome::pass);
  }
  SUBCASE("a top-level array and pretty-printed text") {
    const auto parsed = gw::vectors::parse_vector_file(json::array({v}).dump(2));
    REQUIRE(parsed.error.empty());
    REQUIRE(parsed.vectors.size() == 1);
    CHECK(gw::vectors::replay(parsed.vectors[0]).outcome == Outcome::pass);
  }
  SUBCASE("a remote static key the pattern does not use is ignored") {
    json extra = v;
    extra["init_remote_static"] = std::string(64, '1');
    CHECK(outcome_of(file_of({extra})) == Outcome::pass);
  }
}

TEST_CASE("altered vectors fail, and 'fail': true inverts the verdict") {
  const json good = make_vector("Noise_XX_25519_ChaChaPoly_BLAKE2b", 5, kPrologue, {{9}});
  auto flip = [](json v, const std::string& field, std::size_t msg) {
    std::string s = v["messages"][msg][field].get<std::string>();
    s[0] = s[0] == '0' ? '1' : '0';
    v["messages"][msg][field] = s;
    return v;
  };

  for (std::size_t msg = 0; msg < good["messages"].size(); ++msg) {
    CAPTURE(msg);
    CHECK(outcome_of(file_of({flip(good, "ciphertext", msg)})) == Outcome::fail);
    if (good["messages"][msg]["payload"] != "") {
      CHECK(outcome_of(file_of({flip(good, "payload", msg)})) == Outcome::fail);
    }
  }
  json wrong_hash = good;
  wrong_hash["handshake_hash"] = std::string(128, 'a');
  CHECK(outcome_of(file_of({wrong_hash})) == Outcome::fail);

  json wrong_prologue = good;
  wrong_prologue["resp_prologue"] = "00";
  CHECK(outcome_of(file_of({wrong_prologue})) == Outcome::fail);

  json expect_fail = flip(good, "ciphertext", 1);
  expect_fail["fail"] = true;
  CHECK(outcome_of(file_of({expect_fail})) == Outcome::pass);

  json wrongly_marked = good;
  wrongly_marked["fail"] = true;
  CHECK(outcome_of(file_of({wrongly_marked})) == Outcome::fail);

  json missing_ephemeral = good;
  missing_ephemeral.erase("resp_ephemeral");
  CHECK(outcome_of(file_of({missing_ephemeral})) == Outcome::fail);

  json short_key = good;
  short_key["init_static"] = "0102";
  CHECK(outcome_of(file_of({short_key})) == Outcome::fail);
}

TEST_CASE("unsupported suites are skipped with the reason") {
  json v = make_vector("Noise_XX_25519_ChaChaPoly_BLAKE2b", 6, {}, {});
  for (const char* name : {"Noise_XX_448_ChaChaPoly_BLAKE2b", "Noise_XX_25519_ChaChaPoly_BLAKE2s",
                           "Noise_XXfallback_25519_ChaChaPoly_BLAKE2b"}) {
    CAPTURE(name);
    v["protocol_name"] = name;
    const auto parsed = gw::vectors::parse_vector_file(file_of({v}).dump());
    const auto r = gw::vectors::replay(parsed.vectors.at(0));
    CHECK(r.outcome == Outcome::skip);
    CHECK_FALSE(r.reason.empty());
  }
  v["protocol_name"] = "Noise_XX_25519";
  CHECK(outcome_of(file_of({v})) == Outcome::fail);
}

TEST_CASE("malformed files and fields are reported, not crashed on") {
  CHECK_FALSE(gw::vectors::parse_vector_file("{").error.empty());
  CHECK_FALSE(gw::vectors::parse_vector_file("{\"vectors\": 3}").error.empty());
  CHECK_FALSE(gw::vectors::load_vector_file("/nonexistent/vectors.txt").error.empty());

  for (const char* text : {R"({"vectors":[{"messages":[]}]})",
                           R"({"vectors":[{"protocol_name":"Noise_NN_25519_ChaChaPoly_BLAKE2b"}]})",
                           R"({"vectors":[{"protocol_name":"Noise_NN_25519_ChaChaPoly_BLAKE2b",
                               "init_prologue":"zz","messages":[]}]})",
                           R"({"vectors":[{"protocol_name":"Noise_NN_25519_ChaChaPoly_BLAKE2b",
                               "init_psks":"00","messages":[]}]})",
                           R"({"vectors":[{"protocol_name":"Noise_NN_25519_ChaChaPoly_BLAKE2b",
                               "fail":"yes","messages":[]}]})",
                           R"({"vectors":[{"protocol_name":"Noise_NN_25519_ChaChaPoly_BLAKE2b",
                               "messages":[{"payload":""}]}]})",
                           R"({"vectors":[7]})"}) {
    CAPTURE(text);
    const auto parsed = gw::vectors::parse_vector_file(text);
    REQUIRE(parsed.error.empty());
    REQUIRE(parsed.vectors.size() == 1);
    const auto r = gw::vectors::replay(parsed.vectors[0]);
    CHECK(r.outcome == Outcome::fail);
    CHECK_FALSE(r.reason.empty());
  }
}
