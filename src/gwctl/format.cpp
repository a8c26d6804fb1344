// SPDX-License-Identifier: MIT
#include "format.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>

namespace gw::gwctl {

namespace {

void append_part(std::string& out, std::uint64_t n, const char* unit) {
  if (n == 0) return;
  if (!out.empty()) out += ", ";
  out += std::to_string(n);
  out += ' ';
  out += unit;
  if (n != 1) out += 's';
}

// An array of strings (a peer's allowed IPs), or false.
bool string_array(const nlohmann::json& j, std::vector<std::string>& out) {
  if (!j.is_array()) return false;
  for (const auto& item : j) {
    if (!item.is_string()) return false;
    out.push_back(item.get<std::string>());
  }
  return true;
}

// What a peer's handshake trouble most likely means, for a person.
std::string trouble_text(const std::string& trouble) {
  if (trouble == "no_response") {
    return "no response to our initiations (the peer is down or unreachable, or its public key "
           "is not the one configured here)";
  }
  if (trouble == "not_confirmed") {
    return "the peer never confirmed our last message (it refuses our key, pre-shared key or "
           "certificate)";
  }
  return "we refused the peer's response: " + trouble;
}

}  // namespace

std::string utc_text(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (::gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  std::array<char, 32> buf{};
  std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf.data();
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string duration_text(std::uint64_t seconds) {
  constexpr std::uint64_t kMinute = 60, kHour = 60 * kMinute, kDay = 24 * kHour, kYear = 365 * kDay;
  std::string out;
  append_part(out, seconds / kYear, "year");
  append_part(out, seconds % kYear / kDay, "day");
  append_part(out, seconds % kDay / kHour, "hour");
  append_part(out, seconds % kHour / kMinute, "minute");
  append_part(out, seconds % kMinute, "second");
  return out.empty() ? "0 seconds" : out;
}

std::string ago_text(std::int64_t then, std::int64_t now) {
  if (then == now) return "Now";
  if (then > now) return "(System clock wound backward; connection problems may ensue.)";
  // The difference of two int64 values fits an uint64 when taken there.
  return duration_text(static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(then)) + " ago";
}

std::string bytes_text(std::uint64_t bytes) {
  constexpr std::array<const char*, 4> kUnits = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%.2f %s", value, kUnits[unit]);
  return buf.data();
}

std::vector<const control::PeerStatus*> sorted_peers(const control::Status& status) {
  std::vector<const control::PeerStatus*> peers;
  peers.reserve(status.peers.size());
  for (const auto& p : status.peers)
    peers.push_back(&p);
  std::sort(peers.begin(), peers.end(), [](const auto* a, const auto* b) {
    // 0 (never) sorts after every real time; among equal times, by name.
    const bool a_never = a->latest_handshake == 0, b_never = b->latest_handshake == 0;
    if (a_never != b_never) return b_never;
    if (a->latest_handshake != b->latest_handshake) {
      return a->latest_handshake > b->latest_handshake;
    }
    return a->name < b->name;
  });
  return peers;
}

std::string show_text(const control::Status& status) {
  std::string out = "interface: " + status.name + "\n";
  out += "  public key: " + status.public_key + "\n";
  out += "  listening port: " + std::to_string(status.listen_port) + "\n";
  if (!status.addresses.empty()) out += "  addresses: " + join(status.addresses, ", ") + "\n";
  if (!status.suites.empty()) out += "  suites: " + join(status.suites, ", ") + "\n";
  for (const control::PeerStatus* p : sorted_peers(status)) {
    out += "\npeer: " + p->name + "\n";
    out += "  public key: " + p->public_key + "\n";
    if (p->psk) out += "  preshared key: (hidden)\n";
    if (p->endpoint) out += "  endpoint: " + *p->endpoint + "\n";
    out +=
        "  allowed ips: " + (p->allowed_ips.empty() ? "(none)" : join(p->allowed_ips, ", ")) + "\n";
    if (p->latest_handshake != 0) {
      out += "  latest handshake: " + ago_text(p->latest_handshake, status.time) + "\n";
    }
    if (p->rx_bytes != 0 || p->tx_bytes != 0) {
      out += "  transfer: " + bytes_text(p->rx_bytes) + " received, " + bytes_text(p->tx_bytes) +
             " sent\n";
    }
    if (p->suite) out += "  suite: " + *p->suite + "\n";
    if (p->certificate) {
      const std::int64_t left = p->certificate_expires - status.time;
      out += "  certificate: " + p->certificate->substr(0, 16) + "..., " +
             (left > 0 ? "expires in " + duration_text(static_cast<std::uint64_t>(left))
                       : std::string("expired")) +
             " (" + utc_text(p->certificate_expires) + ")\n";
    }
    if (p->handshake_pending_since != 0) {
      out += "  handshake: pending since " + ago_text(p->handshake_pending_since, status.time) +
             ", " + std::to_string(p->handshake_attempts) + " attempt" +
             (p->handshake_attempts == 1 ? "" : "s") + "\n";
    }
    if (p->handshake_trouble)
      out += "  handshake trouble: " + trouble_text(*p->handshake_trouble) + "\n";
    if (p->persistent_keepalive != 0) {
      out += "  persistent keepalive: every " + duration_text(p->persistent_keepalive) + "\n";
    }
  }
  return out;
}

std::optional<std::string> peer_list_text(const nlohmann::json& peers, std::string& error) {
  if (!peers.is_array()) {
    error = "\"peers\" is not an array";
    return std::nullopt;
  }
  std::string out;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    const auto& p = peers[i];
    const std::string where = "peers[" + std::to_string(i) + "]";
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string() ||
        !p.contains("public_key") || !p["public_key"].is_string()) {
      error = where + " has no \"name\" or \"public_key\" string";
      return std::nullopt;
    }
    std::string endpoint = "(none)";
    if (p.contains("endpoint") && !p["endpoint"].is_null()) {
      if (!p["endpoint"].is_string()) {
        error = where + ".endpoint is neither a string nor null";
        return std::nullopt;
      }
      endpoint = p["endpoint"].get<std::string>();
    }
    std::vector<std::string> allowed;
    if (p.contains("allowed_ips") && !string_array(p["allowed_ips"], allowed)) {
      error = where + ".allowed_ips is not an array of strings";
      return std::nullopt;
    }
    out += p["name"].get<std::string>() + '\t' + p["public_key"].get<std::string>() + '\t' +
           endpoint + '\t' + (allowed.empty() ? "(none)" : join(allowed, ","));
    // Peers admitted by certificate: its fingerprint and when it ends.
    if (p.contains("certificate") || p.contains("not_after")) {
      if (!p.contains("certificate") || !p["certificate"].is_string() || !p.contains("not_after") ||
          !p["not_after"].is_number_integer()) {
        error = where + " has no \"certificate\" string and \"not_after\" integer";
        return std::nullopt;
      }
      out += '\t' + p["certificate"].get<std::string>() + '\t' +
             utc_text(p["not_after"].get<std::int64_t>());
    }
    out += '\n';
  }
  return out;
}

std::string reload_text(const std::vector<std::string>& added,
                        const std::vector<std::string>& removed,
                        const std::vector<std::string>& changed) {
  std::string out;
  if (!added.empty()) out += "added: " + join(added, ", ") + "\n";
  if (!removed.empty()) out += "removed: " + join(removed, ", ") + "\n";
  if (!changed.empty()) out += "changed: " + join(changed, ", ") + "\n";
  return out.empty() ? "no changes\n" : out;
}

}  // namespace gw::gwctl
