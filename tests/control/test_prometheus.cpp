// SPDX-License-Identifier: MIT
// The Prometheus exposition of a status (to_prometheus): the exact text for a
// small status, label escaping, one # HELP and one # TYPE per family ahead of
// its samples, and every line against the text format's grammar.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gw/control/status.hpp"

using gw::control::PeerStatus;
using gw::control::Status;
using gw::control::to_prometheus;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

PeerStatus peer(const char* name, const char* key) {
  PeerStatus p;
  p.name = name;
  p.public_key = key;
  return p;
}

Status small() {
  Status s;
  s.name = "gw0";
  PeerStatus b = peer("site-b", "Yq+8sEE/=");
  b.session = true;
  b.latest_handshake = 1794999990;
  b.rx_bytes = 1024;
  b.tx_bytes = 2048;
  b.rx_packets = 8;
  b.tx_packets = 9;
  b.handshakes = 1;
  s.peers = {b, peer("laptop", "AAAA")};
  s.counters.dropped = {{"bad_mac1", 0}, {"replay", 2}};
  s.counters.handshakes_failed = {{"unknown_peer", 1}, {"timeout", 0}};
  s.counters.cookie_replies_sent = 3;
  s.counters.sessions_active = 1;
  return s;
}

// Every kind of character a label value may hold, and values at the types' limits.
Status awkward() {
  Status s = small();
  s.name = "a\"b\\c\nd";
  s.peers.push_back(peer("x\"} 1\ngw_fake 2", "\\"));
  s.peers.back().latest_handshake = std::numeric_limits<std::int64_t>::min();
  s.peers.back().rx_bytes = std::numeric_limits<std::uint64_t>::max();
  s.peers.push_back(peer("", ""));
  s.peers.push_back(peer("\u00e9t\u00e9 \xf0\x9f\x94\x91", "k"));
  s.counters.dropped["no route\n"] = 7;
  return s;
}

}  // namespace

TEST_CASE("prometheus: the exact exposition of a small status") {
  const std::string expected =
      "# HELP gw_peer_received_bytes_total Bytes of inner packets received from the peer.\n"
      "# TYPE gw_peer_received_bytes_total counter\n"
      "gw_peer_received_bytes_total{interface=\"gw0\",peer=\"site-b\",public_key=\"Yq+8sEE/=\"} "
      "1024\n"
      "gw_peer_received_bytes_total{interface=\"gw0\",peer=\"laptop\",public_key=\"AAAA\"} 0\n"
      "# HELP gw_peer_sent_bytes_total Bytes of inner packets sent to the peer.\n"
      "# TYPE gw_peer_sent_bytes_total counter\n"
      "gw_peer_sent_bytes_total{interface=\"gw0\",peer=\"site-b\",public_key=\"Yq+8sEE/=\"} 2048\n"
      "gw_peer_sent_bytes_total{interface=\"gw0\",peer=\"laptop\",public_key=\"AAAA\"} 0\n"
      "# HELP gw_peer_received_packets_total Inner packets received from the peer.\n"
      "# TYPE gw_peer_received_packets_total counter\n"
      "gw_peer_received_packets_total{interface=\"gw0\",peer=\"site-b\",public_key=\"Yq+8sEE/=\"} "
      "8\n"
      "gw_peer_received_packets_total{interface=\"gw0\",peer=\"laptop\",public_key=\"AAAA\"} 0\n"
      "# HELP gw_peer_sent_packets_total Inner packets sent to the peer.\n"
      "# TYPE gw_peer_sent_packets_total counter\n"
      "gw_peer_sent_packets_total{interface=\"gw0\",peer=\"site-b\",public_key=\"Yq+8sEE/=\"} 9\n"
      "gw_peer_sent_packets_total{interface=\"gw0\",peer=\"laptop\",public_key=\"AAAA\"} 0\n"
      "# HELP gw_peer_last_handshake_seconds Unix time of the last handshake completed with the "
      "peer (0: never).\n"
      "# TYPE gw_peer_last_handshake_seconds gauge\n"
      "gw_peer_last_handshake_seconds{interface=\"gw0\",peer=\"site-b\",public_key=\"Yq+8sEE/=\"} "
      "1794999990\n"
      "gw_peer_last_handshake_seconds{interface=\"gw0\",peer=\"laptop\",public_key=\"AAAA\"} 0\n"
      "# HELP gw_peer_handshakes_total Handshakes completed with the peer.\n"
      "# TYPE gw_peer_handshakes_total counter\n"
      "gw_peer_handshakes_total{interface=\"gw0\",peer=\"site-b\",public_key=\"Yq+8sEE/=\"} 1\n"
      "gw_peer_handshakes_total{interface=\"gw0\",peer=\"laptop\",public_key=\"AAAA\"} 0\n"
      "# HELP gw_peer_session_active 1 while the peer has an established session, else 0.\n"
      "# TYPE gw_peer_session_active gauge\n"
      "gw_peer_session_active{interface=\"gw0\",peer=\"site-b\",public_key=\"Yq+8sEE/=\"} 1\n"
      "gw_peer_session_active{interface=\"gw0\",peer=\"laptop\",public_key=\"AAAA\"} 0\n"
      "# HELP gw_handshakes_failed_total Handshakes refused or given up, by reason.\n"
      "# TYPE gw_handshakes_failed_total counter\n"
      "gw_handshakes_failed_total{interface=\"gw0\",reason=\"timeout\"} 0\n"
      "gw_handshakes_failed_total{interface=\"gw0\",reason=\"unknown_peer\"} 1\n"
      "# HELP gw_packets_dropped_total Packets and datagrams dropped, by reason.\n"
      "# TYPE gw_packets_dropped_total counter\n"
      "gw_packets_dropped_total{interface=\"gw0\",reason=\"bad_mac1\"} 0\n"
      "gw_packets_dropped_total{interface=\"gw0\",reason=\"replay\"} 2\n"
      "# HELP gw_cookie_replies_sent_total Cookie replies sent instead of handshake responses "
      "while under load.\n"
      "# TYPE gw_cookie_replies_sent_total counter\n"
      "gw_cookie_replies_sent_total{interface=\"gw0\"} 3\n"
      "# HELP gw_sessions_active Peers with an established session.\n"
      "# TYPE gw_sessions_active gauge\n"
      "gw_sessions_active{interface=\"gw0\"} 1\n"
      "# HELP gw_peers Configured peers.\n"
      "# TYPE gw_peers gauge\n"
      "gw_peers{interface=\"gw0\"} 2\n";
  CHECK(to_prometheus(small()) == expected);
}

TEST_CASE("prometheus: label values escape backslash, double quote and newline") {
  const std::string text = to_prometheus(awkward());
  CHECK(text.find("gw_peers{interface=\"a\\\"b\\\\c\\nd\"} 5\n") != std::string::npos);
  CHECK(text.find("gw_peer_received_bytes_total{interface=\"a\\\"b\\\\c\\nd\",peer=\"x\\\"} "
                  "1\\ngw_fake 2\",public_key=\"\\\\\"} 18446744073709551615\n") !=
        std::string::npos);
  CHECK(text.find("reason=\"no route\\n\"} 7\n") != std::string::npos);
  CHECK(text.find("peer=\"\u00e9t\u00e9 \xf0\x9f\x94\x91\"") != std::string::npos);
  for (const std::string& line : lines_of(text)) {
    CHECK(line.rfind("gw_fake", 0) == std::string::npos);
  }
}

TEST_CASE("prometheus: every family has one HELP and one TYPE, ahead of its samples") {
  const std::set<std::string> families = {
      "gw_peer_received_bytes_total",
      "gw_peer_sent_bytes_total",
      "gw_peer_received_packets_total",
      "gw_peer_sent_packets_total",
      "gw_peer_last_handshake_seconds",
      "gw_peer_handshakes_total",
      "gw_peer_session_active",
      "gw_handshakes_failed_total",
      "gw_packets_dropped_total",
      "gw_cookie_replies_sent_total",
      "gw_sessions_active",
      "gw_peers",
  };
  const std::map<std::string, std::string> gauges = {
      {"gw_peer_last_handshake_seconds", "gauge"},
      {"gw_peer_session_active", "gauge"},
      {"gw_sessions_active", "gauge"},
      {"gw_peers", "gauge"},
  };
  for (const Status& s : {Status{}, small(), awkward()}) {
    std::map<std::string, int> help, type;
    std::set<std::string> done;  // families whose samples have ended
    std::string current;
    for (const std::string& line : lines_of(to_prometheus(s))) {
      CAPTURE(line);
      std::istringstream in(line);
      std::string hash, keyword, name, rest;
      if (line.rfind("# ", 0) == 0) {
        in >> hash >> keyword >> name;
        std::getline(in, rest);
        REQUIRE(families.count(name) == 1);
        if (name != current) {
          CHECK(done.count(name) == 0);
          if (!current.empty()) done.insert(current);
          current = name;
        }
        if (keyword == "HELP") {
          CHECK(type[name] == 0);  // HELP first
          ++help[name];
        } else {
          REQUIRE(keyword == "TYPE");
          ++type[name];
          const auto g = gauges.find(name);
          CHECK(rest == " " + (g != gauges.end() ? g->second : std::string("counter")));
        }
        continue;
      }
      name = line.substr(0, line.find('{'));
      CHECK(name == current);
      CHECK(help[name] == 1);
      CHECK(type[name] == 1);
    }
    for (const std::string& f : families) {
      CAPTURE(f);
      CHECK(help[f] == 1);
      CHECK(type[f] == 1);
    }
  }
}

TEST_CASE("prometheus: every line follows the text format's grammar") {
  // Version 0.0.4: name, optional {labels}, a float value, an optional
  // timestamp; comments are # HELP name text or # TYPE name type.
  const std::string label_value = R"("(?:[^"\\\n]|\\[\\"n])*")";
  const std::string label = "[a-zA-Z_][a-zA-Z0-9_]*=" + label_value;
  const std::regex sample(
      "[a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{(?:" + label + "(?:," + label +
      ")*,?)?\\})? (?:[-+]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
      "|[-+]?Inf|NaN)(?: -?[0-9]+)?");
  const std::regex help("# HELP [a-zA-Z_:][a-zA-Z0-9_:]* (?:[^\\\\\\n]|\\\\[\\\\n])*");
  const std::regex type(
      "# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (?:counter|gauge|histogram|summary|untyped)");
  for (const Status& s : {Status{}, small(), awkward()}) {
    const std::string text = to_prometheus(s);
    REQUIRE(!text.empty());
    CHECK(text.back() == '\n');
    std::size_t samples = 0;
    for (const std::string& line : lines_of(text)) {
      CAPTURE(line);
      if (line.rfind("# HELP ", 0) == 0) {
        CHECK(std::regex_match(line, help));
      } else if (line.rfind("# TYPE ", 0) == 0) {
        CHECK(std::regex_match(line, type));
      } else {
        CHECK(std::regex_match(line, sample));
        ++samples;
      }
    }
    // Seven per peer, one per reason, three for the interface.
    CHECK(samples ==
          7 * s.peers.size() + s.counters.dropped.size() + s.counters.handshakes_failed.size() + 3);
  }
}
