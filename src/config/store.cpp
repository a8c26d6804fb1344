// SPDX-License-Identifier: MIT
// The config store: atomic commits of a checked config, gwd's PSK files and
// the clean-up of interrupted saves (gw/config/store.hpp).
#include "gw/config/store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include <sodium.h>

namespace gw::config {
namespace {

// The PSK files gwd writes: "PEER.gwd.psk" or "PEER.N.gwd.psk" in the config's
// folder. Any other file a config names is the administrator's.
constexpr std::string_view kPskSuffix = ".gwd.psk";

bool written_by_gwd(const std::string& file) {
  return file.find('/') == std::string::npos && file.size() > kPskSuffix.size() &&
         file.ends_with(kPskSuffix);
}

std::string joined(const std::vector<std::string>& errors) {
  std::string message;
  for (const std::string& e : errors)
    message += (message.empty() ? "" : "; ") + e;
  return message;
}

}  // namespace

std::optional<StoreError> Store::commit(const InterfaceConfig& candidate) const {
  const std::string text = to_json(candidate);
  const ParseResult check = parse_config(text, path_);
  if (!check) return StoreError{StoreError::Kind::invalid, joined(check.errors)};
  if (const auto saved = write_file_atomically(path_, text); !saved) {
    return StoreError{StoreError::Kind::save_failed, saved.error + "; nothing changed"};
  }
  return std::nullopt;
}

std::variant<std::string, StoreError> Store::write_psk(const std::string& peer,
                                                       const crypto::Secret<kKeyLen>& psk) const {
  std::string name;
  for (unsigned n = 0; n < 1000; ++n) {
    name = peer + (n == 0 ? "" : "." + std::to_string(n)) + std::string(kPskSuffix);
    if (::access(resolve_path(path_, name).c_str(), F_OK) != 0) break;
  }
  std::string text = to_base64(psk.bytes()) + "\n";
  const auto saved = write_file_atomically(resolve_path(path_, name), text);
  sodium_memzero(text.data(), text.size());
  if (!saved) return StoreError{StoreError::Kind::save_failed, saved.error + "; nothing changed"};
  return name;
}

bool Store::names(const InterfaceConfig& cfg, const std::string& path) const {
  std::vector<std::string> files{cfg.private_key_file};
  if (cfg.network_key_file) files.push_back(*cfg.network_key_file);
  for (const Peer& p : cfg.peers) {
    if (p.psk_file) files.push_back(*p.psk_file);
  }
  std::error_code ec;  // a file that is not there names nothing
  return std::any_of(files.begin(), files.end(), [&](const std::string& f) {
    return std::filesystem::equivalent(path, resolve_path(path_, f), ec);
  });
}

std::optional<std::string> Store::remove_psk_file(const std::optional<std::string>& file,
                                                  const InterfaceConfig& running) const {
  if (!file || !written_by_gwd(*file)) return std::nullopt;
  const std::string path = resolve_path(path_, *file);
  if (names(running, path)) return std::nullopt;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return "cannot remove the old pre-shared key file " + path + ": " + std::strerror(errno);
  }
  return std::nullopt;
}

std::vector<std::string> Store::remove_stale_temporaries(const InterfaceConfig& cfg) const {
  const std::filesystem::path path(path_);
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::vector<std::string> prefixes{"." + path.filename().string() + ".tmp-"};
  for (const Peer& p : cfg.peers)
    prefixes.push_back("." + p.name + ".");
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto mark = name.rfind(".tmp-");
    if (mark == std::string::npos || name.size() - mark != 11 || !entry.is_regular_file(ec)) {
      continue;
    }
    const bool ours = name.starts_with(prefixes[0]) ||
                      (std::string_view(name).substr(0, mark).ends_with(".psk") &&
                       std::any_of(prefixes.begin() + 1, prefixes.end(),
                                   [&](const std::string& pre) { return name.starts_with(pre); }));
    if (ours && std::filesystem::remove(entry.path(), ec)) removed.push_back(entry.path().string());
  }
  return removed;
}

}  // namespace gw::config
