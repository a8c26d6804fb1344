// SPDX-License-Identifier: MIT
// The Prometheus text exposition format, version 0.0.4: for each metric
// family one # HELP and one # TYPE line, then its samples, one per line.
#include "gw/control/status.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

namespace gw::control {

namespace {

// A label value between double quotes: backslash, double quote and newline
// are the only characters the format escapes.
std::string label(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  out += '"';
  return out;
}

class Exposition {
 public:
  // The help texts are constants without backslashes or newlines, which the
  // format would need escaped.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  // `labels`: label() results joined by commas.
  void sample(std::string_view name, std::string_view labels, const std::string& value) {
    out_ += name;
    out_ += '{';
    out_ += labels;
    out_ += "} ";
    out_ += value;
    out_ += '\n';
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

struct PeerMetric {
  const char* name;
  const char* type;
  const char* help;
  std::string (*value)(const PeerStatus&);
};

const PeerMetric kPeerMetrics[] = {
    {"gw_peer_received_bytes_total", "counter", "Bytes of inner packets received from the peer.",
     [](const PeerStatus& p) { return std::to_string(p.rx_bytes); }},
    {"gw_peer_sent_bytes_total", "counter", "Bytes of inner packets sent to the peer.",
     [](const PeerStatus& p) { return std::to_string(p.tx_bytes); }},
    {"gw_peer_received_packets_total", "counter", "Inner packets received from the peer.",
     [](const PeerStatus& p) { return std::to_string(p.rx_packets); }},
    {"gw_peer_sent_packets_total", "counter", "Inner packets sent to the peer.",
     [](const PeerStatus& p) { return std::to_string(p.tx_packets); }},
    {"gw_peer_last_handshake_seconds", "gauge",
     "Unix time of the last handshake completed with the peer (0: never).",
     [](const PeerStatus& p) { return std::to_string(p.latest_handshake); }},
    {"gw_peer_handshakes_total", "counter", "Handshakes completed with the peer.",
     [](const PeerStatus& p) { return std::to_string(p.handshakes); }},
    {"gw_peer_session_active", "gauge", "1 while the peer has an established session, else 0.",
     [](const PeerStatus& p) { return std::string(p.session ? "1" : "0"); }},
};

void by_reason(Exposition& e, std::string_view name, std::string_view help,
               const std::string& interface, const std::map<std::string, std::uint64_t>& counts) {
  e.family(name, "counter", help);
  for (const auto& [reason, n] : counts)
    e.sample(name, interface + "," + label("reason", reason), std::to_string(n));
}

}  // namespace

std::string to_prometheus(const Status& status) {
  Exposition e;
  const std::string interface = label("interface", status.name);
  for (const PeerMetric& m : kPeerMetrics) {
    e.family(m.name, m.type, m.help);
    for (const PeerStatus& p : status.peers) {
      e.sample(m.name,
               interface + "," + label("peer", p.name) + "," + label("public_key", p.public_key),
               m.value(p));
    }
  }
  by_reason(e, "gw_handshakes_failed_total", "Handshakes refused or given up, by reason.",
            interface, status.counters.handshakes_failed);
  by_reason(e, "gw_packets_dropped_total", "Packets and datagrams dropped, by reason.", interface,
            status.counters.dropped);
  e.family("gw_cookie_replies_sent_total", "counter",
           "Cookie replies sent instead of handshake responses while under load.");
  e.sample("gw_cookie_replies_sent_total", interface,
           std::to_string(status.counters.cookie_replies_sent));
  e.family("gw_sessions_active", "gauge", "Peers with an established session.");
  e.sample("gw_sessions_active", interface, std::to_string(status.counters.sessions_active));
  e.family("gw_peers", "gauge", "Configured peers.");
  e.sample("gw_peers", interface, std::to_string(status.peers.size()));
  return e.take();
}

}  // namespace gw::control
