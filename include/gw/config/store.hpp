// SPDX-License-Identifier: MIT
// The config store: a config file and the files gwd writes beside it. It saves
// a checked config atomically, writes and removes the PSK files of peers added
// over the control socket, and removes what an interrupted save left behind.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "gw/config/config.hpp"
#include "gw/crypto/secret.hpp"

namespace gw::config {

struct StoreError {
  enum class Kind { invalid, save_failed };
  Kind kind = Kind::invalid;
  std::string message;  // one line; a save failure's ends in "; nothing changed"
};

class Store {
 public:
  explicit Store(std::string config_path) : path_(std::move(config_path)) {}

  const std::string& path() const noexcept { return path_; }

  // Checks `candidate` with the file's own rules (parse_config of its text),
  // then replaces the file with it atomically. Nothing changes on failure.
  std::optional<StoreError> commit(const InterfaceConfig& candidate) const;

  // Writes `psk` to a file no other file has the name of yet, in the config's
  // folder ("PEER.gwd.psk", "PEER.1.gwd.psk", ...): the old file, if any,
  // still holds the key the old config names until the new config is saved.
  // Returns the new file's name, relative to the config's folder.
  std::variant<std::string, StoreError> write_psk(const std::string& peer,
                                                  const crypto::Secret<kKeyLen>& psk) const;

  // Deletes `file` when write_psk wrote it and `running` no longer names it
  // (another peer's, the private key...). An error text when unlink failed.
  std::optional<std::string> remove_psk_file(const std::optional<std::string>& file,
                                             const InterfaceConfig& running) const;

  // Removes the temporaries of write_file_atomically (".NAME.tmp-XXXXXX") that
  // a crash left behind, of the config itself and of its peers' PSK files.
  // Other files in the folder are not ours to touch. Returns the paths removed.
  std::vector<std::string> remove_stale_temporaries(const InterfaceConfig& cfg) const;

 private:
  // Whether `cfg` names `path` as one of its key files.
  bool names(const InterfaceConfig& cfg, const std::string& path) const;

  std::string path_;
};

}  // namespace gw::config
