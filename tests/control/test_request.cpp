// SPDX-License-Identifier: MIT
// Control socket requests (docs/CONTROL.md): what parses, and the error code
// and message of everything that does not; where a PSK goes.
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "gw/config/key_file.hpp"
#include "gw/control/request.hpp"
#include "gw/control/wipe_heap.hpp"
#include "support/memory_flags.hpp"
#include "support/small_stack.hpp"

using namespace gw::control;

namespace {
const std::string kKey = "ML3VDGLldlX6o4E7u2lcGF0slnET0kafZlLFyOCI61o=";

Request ok(const std::string& line) {
  auto r = parse_request(line);
  if (const auto* e = std::get_if<Error>(&r)) FAIL_CHECK(e->code << ": " << e->message);
  REQUIRE(std::holds_alternative<Request>(r));
  return std::move(std::get<Request>(r));
}

Error error(const std::string& line) {
  auto r = parse_request(line);
  REQUIRE(std::holds_alternative<Error>(r));
  const Error e = std::get<Error>(r);
  CHECK_FALSE(e.message.empty());
  CHECK(e.message.find('\n') == std::string::npos);
  return e;
}
}  // namespace

TEST_CASE("control request: the commands without members") {
  // Not a structured binding: clang 14 cannot capture one in CAPTURE's lambda.
  for (const auto& entry :
       {std::pair{"version", Command::version}, std::pair{"show", Command::show},
        std::pair{"peer.list", Command::peer_list}, std::pair{"reload", Command::reload}}) {
    const std::string name = entry.first;
    const Command command = entry.second;
    CAPTURE(name);
    const Request r = ok(std::string(R"({"version":1,"command":")") + name + "\"}");
    CHECK(r.command == command);
    CHECK(std::string(to_string(command)) == name);
  }
}

TEST_CASE("control request: peer.add is checked with the config file's rules") {
  const Request r =
      ok(R"({"version":1,"command":"peer.add","peer":{"name":"laptop","public_key":")" + kKey +
         R"(","endpoint":"vpn.example.net:51820","allowed_ips":["10.88.0.2/32"],)"
         R"("persistent_keepalive":25,"psk":")" +
         kKey + R"("}})");
  CHECK(r.command == Command::peer_add);
  CHECK(r.new_peer.name == "laptop");
  CHECK(gw::config::to_base64(r.new_peer.public_key) == kKey);
  REQUIRE(r.new_peer.endpoint.has_value());
  CHECK(r.new_peer.endpoint->host == "vpn.example.net");
  CHECK(r.new_peer.allowed_ips == std::vector<std::string>{"10.88.0.2/32"});
  CHECK(r.new_peer.persistent_keepalive == 25);
  CHECK_FALSE(r.new_peer.psk_file.has_value());
  REQUIRE(r.psk.has_value());
  CHECK(gw::config::to_base64(r.psk->bytes()) == kKey);

  // A bad field names its path under $.peer.
  Error e = error(R"({"version":1,"command":"peer.add","peer":{"name":"x","public_key":")" + kKey +
                  R"(","allowed_ips":["10.0.0.0/33"]}})");
  CHECK(e.code == "bad_request");
  CHECK(e.message.find("$.peer.allowed_ips[0]") != std::string::npos);
  e = error(R"({"version":1,"command":"peer.add","peer":{"name":"x"}})");
  CHECK(e.message.find("$.peer.public_key") != std::string::npos);
  e = error(R"({"version":1,"command":"peer.add","peer":{"name":"x","public_key":")" + kKey +
            R"(","colour":"red"}})");
  CHECK(e.message.find("colour") != std::string::npos);
  // File names never come from a client; a bad PSK is not echoed.
  e = error(R"({"version":1,"command":"peer.add","peer":{"name":"x","public_key":")" + kKey +
            R"(","psk_file":"/etc/shadow"}})");
  CHECK(e.message.find("$.peer.psk_file") != std::string::npos);
  e = error(R"({"version":1,"command":"peer.add","peer":{"name":"x","public_key":")" + kKey +
            R"(","psk":"c2VjcmV0LWJ1dC10b28tc2hvcnQ="}})");
  CHECK(e.message.find("$.peer.psk") != std::string::npos);
  CHECK(e.message.find("c2VjcmV0") == std::string::npos);
  CHECK(error(R"({"version":1,"command":"peer.add"})").code == "bad_request");
  CHECK(error(R"({"version":1,"command":"peer.add","peer":[1]})").code == "bad_request");
}

TEST_CASE("control request: peer.set takes each change, null forgets") {
  Request r =
      ok(R"({"version":1,"command":"peer.set","peer":"laptop","set":)"
         R"({"endpoint":"[2001:db8::1]:51820","allowed_ips":[],"persistent_keepalive":0}})");
  CHECK(r.peer == "laptop");
  REQUIRE(r.changes.endpoint.has_value());
  REQUIRE(r.changes.endpoint->has_value());
  CHECK((*r.changes.endpoint)->host == "2001:db8::1");
  REQUIRE(r.changes.allowed_ips.has_value());
  CHECK(r.changes.allowed_ips->empty());
  CHECK(r.changes.persistent_keepalive == 0);
  CHECK_FALSE(r.changes.psk.has_value());

  r = ok(R"({"version":1,"command":"peer.set","peer":")" + kKey +
         R"(","set":{"endpoint":null,"psk":null}})");
  REQUIRE(r.changes.endpoint.has_value());
  CHECK_FALSE(r.changes.endpoint->has_value());
  REQUIRE(r.changes.psk.has_value());
  CHECK_FALSE(r.changes.psk->has_value());

  CHECK(error(R"({"version":1,"command":"peer.set","peer":"x","set":{}})").message ==
        "$.set: expected at least one change");
  CHECK(error(R"({"version":1,"command":"peer.set","set":{"endpoint":null}})")
            .message.find("$.peer") == 0);
  CHECK(error(R"({"version":1,"command":"peer.set","peer":"x","set":{"endpoint":"nohost"}})")
            .message.find("$.set.endpoint") == 0);
  CHECK(
      error(R"({"version":1,"command":"peer.set","peer":"x","set":{"persistent_keepalive":70000}})")
          .message.find("$.set.persistent_keepalive") == 0);
  CHECK(error(R"({"version":1,"command":"peer.set","peer":"x","set":{"allowed_ips":["x"]}})")
            .message.find("$.set.allowed_ips[0]") == 0);
  CHECK(error(R"({"version":1,"command":"peer.set","peer":"x","set":{"name":"y"}})")
            .message.find("unknown member \"name\"") != std::string::npos);
  CHECK(error(R"({"version":1,"command":"peer.remove","peer":""})").code == "bad_request");
  CHECK(error(R"({"version":1,"command":"peer.remove","peer":7})").code == "bad_request");
}

TEST_CASE("control request: the envelope") {
  CHECK(error("").code == "bad_json");
  CHECK(error("{").code == "bad_json");
  CHECK(error("[]").code == "bad_json");
  CHECK(error(R"("show")").code == "bad_json");
  CHECK(error(R"({"command":"show"})").code == "unsupported_version");
  CHECK(error(R"({"version":"1","command":"show"})").code == "unsupported_version");
  CHECK(error(R"({"version":2,"command":"show"})").code == "unsupported_version");
  CHECK(error(R"({"version":1})").code == "unknown_command");
  CHECK(error(R"({"version":1,"command":"Show"})").code == "unknown_command");
  CHECK(error(R"({"version":1,"command":"show","extra":1})").code == "bad_request");
  CHECK(error(std::string(kMaxRequestLine, ' ')).code == "too_large");
  CHECK(error(std::string(R"({"version":1,"command":"show"})") + "\x01").code == "bad_json");
}

TEST_CASE("control replies are one line of JSON each") {
  const std::string e = error_reply({"not_found", "no peer named \"a\nb\""});
  REQUIRE(e.back() == '\n');
  CHECK(e.find('\n') == e.size() - 1);
  const auto j = nlohmann::json::parse(e);
  CHECK(j["ok"] == false);
  CHECK(j["version"] == 1);
  CHECK(j["error"] == "not_found");
  const auto o = nlohmann::json::parse(ok_reply({{"peer", "x"}}));
  CHECK(o["ok"] == true);
  CHECK(o["peer"] == "x");
  CHECK(o["version"] == 1);
}

TEST_CASE("control request: a PSK lands in the locked key pool; the parser's copies are wiped") {
  const std::string psk = "q2b1Zo7a3y0Tq7b8ZQ0mBq2yJ1pX9rD6kT3nW5cL8aE=";
  const std::string add = R"({"version":1,"command":"peer.add","peer":{"name":"laptop",)"
                          R"("public_key":")" +
                          kKey + R"(","allowed_ips":["10.88.0.2/32"],"psk":")" + psk + R"("}})";
  const auto wiped_before = WipeFreedMemory::wiped_on_this_thread();
  const Request r = ok(add);
  REQUIRE(r.psk.has_value());
  CHECK(gw::config::to_base64(r.psk.bytes()) == psk);
  CHECK(gw::test::has_flag(gw::test::vm_flags_of(r.psk->data()), "dd"));
  // The JSON tree, the lexer's token buffers and the decoded copies are
  // freed inside parse_request: wiped first.
  CHECK(WipeFreedMemory::wiped_on_this_thread() > wiped_before + psk.size());
  CHECK_FALSE(WipeFreedMemory::active());

  // peer.set and a request refused after its PSK was read: the same.
  const Request set =
      ok(R"({"version":1,"command":"peer.set","peer":"laptop","set":{"psk":")" + psk + R"("}})");
  REQUIRE(set.changes.psk.has_value());
  CHECK(gw::test::has_flag(gw::test::vm_flags_of((*set.changes.psk)->data()), "dd"));
  CHECK(set.changes.psk->holders() == 1);
  const Error e = error(R"({"version":1,"command":"peer.add","peer":{"name":"x","public_key":")" +
                        kKey + R"(","allowed_ips":["10.0.0.0/33"],"psk":")" + psk + R"("}})");
  CHECK(e.message.find(psk) == std::string::npos);
}

namespace {
// A block of 200 bytes, allocated and freed (not elided by the compiler).
void new_and_delete() {
  auto* block = new std::array<char, 200>{};
  asm volatile("" : : "r"(block) : "memory");
  delete block;
}
}  // namespace

TEST_CASE("WipeFreedMemory: blocks freed inside a scope are wiped, outside it not") {
  const auto before = WipeFreedMemory::wiped_on_this_thread();
  new_and_delete();
  CHECK(WipeFreedMemory::wiped_on_this_thread() == before);
  {
    const WipeFreedMemory outer;
    {
      const WipeFreedMemory inner;
      CHECK(WipeFreedMemory::active());
    }
    CHECK(WipeFreedMemory::active());  // scopes nest
    new_and_delete();
    std::string text(300, 'k');
    text.clear();
    text.shrink_to_fit();
  }
  CHECK_FALSE(WipeFreedMemory::active());
  CHECK(WipeFreedMemory::wiped_on_this_thread() >= before + 500);
}

TEST_CASE("control request: deep nesting is refused without deep recursion") {
  // A request line may be 64 KiB: enough for 32,000 nested arrays. Parsing,
  // checking, wiping and describing it must not recurse once per level (the
  // control socket is served on gwd's event loop): on a 512 KiB stack, every
  // shape below gets a bad_json error naming the limit.
  const std::string open(30000, '['), close(30000, ']');
  const std::string deep = open + close;
  const std::array<std::string, 5> lines{
      deep,
      R"({"version":1,"command":"show","x":)" + deep + "}",
      R"({"version":1,"command":"peer.add","peer":{"psk":")" + kKey + R"(","x":)" + deep + "}}",
      R"({"version":1,"command":"peer.set","peer":"a","set":)" + deep + "}",
      R"({"version":1,"command":"peer.list","certified":)" + deep + "}",
  };
  for (const std::string& line : lines) {
    CAPTURE(line.substr(0, 60));
    std::variant<Request, Error> r;
    gw::test::run_on_small_stack([&] { r = parse_request(line); });
    REQUIRE(std::holds_alternative<Error>(r));
    CHECK(std::get<Error>(r).code == "bad_json");
    CHECK(std::get<Error>(r).message == "the request nests deeper than 8 levels");
  }
  // The deepest request gwctl sends nests 3 levels: still fine at 8.
  const auto fine = parse_request(R"({"version":1,"command":"show","x":[[[[[[[1]]]]]]]})");
  REQUIRE(std::holds_alternative<Error>(fine));
  CHECK(std::get<Error>(fine).code == "bad_request");
}
