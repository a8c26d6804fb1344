// SPDX-License-Identifier: MIT
// The pure half of cert_commands.hpp: what the certificate commands parse
// and print.
#include <charconv>
#include <limits>
#include <system_error>

#include "cert_commands.hpp"
#include "gw/config/config.hpp"
#include "gw/config/key_file.hpp"

namespace gw::gwctl {

namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '@' || c == '+' || c == '-';
}

// Comma-separated items with the spaces taken out; empty items skipped.
std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::string item;
  for (const char c : text) {
    if (c == ',') {
      if (!item.empty()) out.push_back(std::move(item));
      item.clear();
    } else if (c != ' ') {
      item += c;
    }
  }
  if (!item.empty()) out.push_back(std::move(item));
  return out;
}

std::string padded(std::int64_t value, std::size_t width) {
  std::string digits = std::to_string(value);
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

std::vector<std::string> prefix_strings(const std::vector<routing::Prefix>& prefixes) {
  std::vector<std::string> out;
  out.reserve(prefixes.size());
  for (const routing::Prefix& p : prefixes)
    out.push_back(p.to_string());
  return out;
}

std::string list_text(const std::vector<std::string>& items) {
  if (items.empty()) return "(none)";
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace

// --- Pure: parsing.

std::optional<std::int64_t> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  const auto value = parse_unix_time(text.substr(0, text.size() - 1));
  if (!value || *value <= 0 || *value > std::numeric_limits<std::int64_t>::max() / unit) {
    return std::nullopt;
  }
  return *value * unit;
}

std::optional<std::int64_t> parse_unix_time(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  const std::string_view digits = negative ? text.substr(1) : text;
  if (digits.empty()) return std::nullopt;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool valid_cert_name(std::string_view text) {
  if (text.empty() || text.size() > identity::kMaxName) return false;
  for (const char c : text) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

std::optional<std::vector<routing::Prefix>> parse_prefix_list(std::string_view text, bool network,
                                                              std::string& error) {
  std::vector<routing::Prefix> out;
  for (const std::string& item : split_list(text)) {
    const auto prefix = config::valid_prefix(item) ? routing::Prefix::parse(item)
                                                   : std::optional<routing::Prefix>{};
    if (!prefix) {
      error = "expected ADDRESS/LENGTH, got \"" + item + "\"";
      return std::nullopt;
    }
    if (network && prefix->masked() != *prefix) {
      error = "\"" + item + "\" has host bits set (the network is " + prefix->masked().to_string() +
              ")";
      return std::nullopt;
    }
    for (const routing::Prefix& seen : out) {
      if (seen == *prefix) {
        error = "\"" + item + "\" is given twice";
        return std::nullopt;
      }
    }
    out.push_back(*prefix);
  }
  return out;
}

std::optional<std::vector<std::string>> parse_group_list(std::string_view text,
                                                         std::string& error) {
  std::vector<std::string> out;
  for (std::string& item : split_list(text)) {
    if (item.size() > identity::kMaxGroupName || !valid_cert_name(item)) {
      error = "\"" + item + "\" is not a group name (1 to " +
              std::to_string(identity::kMaxGroupName) + " letters, digits or _ . @ + -)";
      return std::nullopt;
    }
    for (const std::string& seen : out) {
      if (seen == item) {
        error = "\"" + item + "\" is given twice";
        return std::nullopt;
      }
    }
    out.push_back(std::move(item));
  }
  return out;
}

// --- Pure: printing.

std::string iso8601_utc(std::int64_t unix_seconds) {
  // Howard Hinnant's civil_from_days, in 64 bits: no time_t, no locale.
  // Days and seconds into the day, rounded down without overflow at the ends.
  std::int64_t days = unix_seconds / 86400;
  std::int64_t secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  std::string out = year < 0 ? "-" + padded(-year, 4) : padded(year, 4);
  out += "-" + padded(month, 2) + "-" + padded(day, 2) + "T" + padded(secs / 3600, 2) + ":" +
         padded(secs / 60 % 60, 2) + ":" + padded(secs % 60, 2) + "Z";
  return out;
}

std::string validity_text(const identity::Certificate& cert, std::int64_t now) {
  if (now >= cert.not_after) return "expired";
  if (now < cert.not_before) return "not yet valid";
  return "valid";
}

std::string cert_show_text(const identity::Certificate& cert, std::int64_t now) {
  std::string out = "certificate: " + cert.name + "\n";
  out += "  public key: " + config::to_base64(cert.public_key) + "\n";
  out += "  addresses: " + list_text(prefix_strings(cert.addresses)) + "\n";
  out += "  subnets: " + list_text(prefix_strings(cert.subnets)) + "\n";
  out += "  groups: " + list_text(cert.groups) + "\n";
  out += "  not before: " + iso8601_utc(cert.not_before) + " (" + std::to_string(cert.not_before) +
         ")\n";
  out +=
      "  not after: " + iso8601_utc(cert.not_after) + " (" + std::to_string(cert.not_after) + ")\n";
  out += "  issuer: " + identity::to_hex(cert.issuer) + "\n";
  out += "  fingerprint: " + identity::to_hex(identity::fingerprint(cert)) + "\n";
  out += "  validity: " + validity_text(cert, now) + "\n";
  return out;
}

nlohmann::json cert_show_json(const identity::Certificate& cert, std::int64_t now) {
  std::string validity = validity_text(cert, now);
  if (validity == "not yet valid") validity = "not_yet_valid";
  return nlohmann::json{
      {"version", cert.version},
      {"name", cert.name},
      {"public_key", config::to_base64(cert.public_key)},
      {"addresses", prefix_strings(cert.addresses)},
      {"subnets", prefix_strings(cert.subnets)},
      {"groups", cert.groups},
      {"not_before", cert.not_before},
      {"not_before_utc", iso8601_utc(cert.not_before)},
      {"not_after", cert.not_after},
      {"not_after_utc", iso8601_utc(cert.not_after)},
      {"issuer", identity::to_hex(cert.issuer)},
      {"fingerprint", identity::to_hex(identity::fingerprint(cert))},
      {"validity", validity},
  };
}

}  // namespace gw::gwctl
