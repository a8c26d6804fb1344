// SPDX-License-Identifier: MIT
// The interface configuration of gwd: one JSON file per interface.
//
//   {
//     "name": "gw0",                        required; a Linux interface name
//     "private_key_file": "gw0.key",        required; relative to the config's folder
//     "listen_port": 51820,                 0..65535 (0: any free port); default 51820
//     "addresses": ["10.77.0.1/24", "fd77::1/64"],           default []
//     "mtu": 1420,                          1280..9000; default 1420
//     "suites": ["ChaChaPoly_BLAKE2b", "ChaChaPoly_SHA256"], preferred first;
//                                           default: session::default_suites()
//     "user": "gw", "group": "gw",          optional: privileges to drop to
//     "control_group": "gwadm",             optional: may use the control socket
//                                           besides root (docs/CONTROL.md)
//     "metrics_port": 9586,                 optional: Prometheus text on
//                                           127.0.0.1:PORT/metrics; 0: off (default)
//     "certificate_file": "gw0.crt",        optional: our certificate, shown to peers
//                                           in the handshake (docs/CERTIFICATES.md)
//     "trusted_cas": ["ca.pub"],            optional: CA public key files; a peer
//                                           with a certificate one of them signed is
//                                           admitted without being listed
//     "revocation_file": "revoked.txt",     optional: fingerprints of revoked certificates
//     "under_load_threshold": 64,           initiations in a second before mac2 (a cookie)
//                                           is required, 0..1000000 (0: always); default 64
//     "peers": [                            default []
//       { "name": "site-b",                 required; unique
//         "public_key": "<base64>",         required; unique; not our own
//         "public_key_file": "site-b.pub",  instead of public_key: a file holding it,
//                                           relative to the config's folder (any mode)
//         "endpoint": "198.51.100.7:51820", optional: "host:port", "[v6]:port"
//         "allowed_ips": ["10.78.0.0/16"],  default []
//         "persistent_keepalive": 25,       seconds 0..65535, 0: off; default 0
//         "psk_file": "site-b.psk" }        optional; relative to the config's folder
//     ]
//   }
//
// The MTU floor is IPv6's minimum link MTU (1280): gw carries IPv6 inside the
// tunnel, so a smaller MTU would break it; 9000 is a jumbo frame.
// Prefixes ("10.77.0.1/24") are read by routing::Prefix::parse and need an
// explicit length here; host bits may be set (an interface address is one).
// Two peers may not claim the same network (after masking) in allowed_ips. Endpoint hosts stay as
// written: a numeric IPv4 or IPv6 address is parsed here, a DNS name is resolved by the daemon at
// start.
//
// Every error reads "FILE: JSON_PATH: expected WHAT, got WHAT", for instance
//   /etc/gw/gw0.json: $.peers[1].public_key: expected base64 of a 32-byte key, got "abc"
// and every error in the file is reported, not only the first. Unknown keys and
// keys repeated within an object are errors. A JSON syntax error names the line
// and column instead of a path.
//
// This layer reads and writes files but uses no sockets, threads or clocks.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gw/config/key_file.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/identity/certificate.hpp"
#include "gw/session/endpoint.hpp"
#include "gw/session/suites.hpp"

namespace gw::config {

inline constexpr std::uint16_t kDefaultListenPort = 51820;
inline constexpr std::uint16_t kDefaultMtu = 1420;
inline constexpr std::uint16_t kMinMtu = 1280;  // IPv6 minimum link MTU
inline constexpr std::uint16_t kMaxMtu = 9000;  // jumbo frames
// Room for some 10,000 peers as to_json() writes them (about 250 bytes each).
inline constexpr std::size_t kMaxConfigSize = 16 << 20;
// Objects and arrays nest at most this deep in a config (gwd's own nest 4).
inline constexpr std::size_t kMaxConfigDepth = 16;
inline constexpr std::size_t kMaxInterfaceName = 15;  // IFNAMSIZ - 1
// Initiations a second beyond which a responder is under load (PROTOCOL.md 7.2).
inline constexpr std::uint32_t kMaxUnderLoadThreshold = 1'000'000;

// Numeric addresses: dotted-quad IPv4 (no leading zeros) and RFC 4291 IPv6
// text ("::" compression, a trailing dotted quad; no zone index).
std::optional<session::Endpoint> parse_ip_address(std::string_view text, std::uint16_t port = 0);
// "ADDRESS/LENGTH" as routing::Prefix::parse reads it, with the length required.
bool valid_prefix(std::string_view text) noexcept;

// A peer's endpoint as written: "host:port", "[v6]:port".
struct HostPort {
  std::string host;  // without brackets: "vpn.example.net", "192.0.2.1", "2001:db8::1"
  std::uint16_t port = 0;
  std::optional<session::Endpoint> address;  // when host is a numeric address

  std::string to_string() const;  // brackets around an IPv6 host
  friend bool operator==(const HostPort&, const HostPort&) = default;
};
// Port 1..65535; a host that is an IPv4 address, a bracketed IPv6 address or a
// DNS name (letters, digits, '-', '.'; labels of 1..63; at most 253).
std::optional<HostPort> parse_host_port(std::string_view text);

struct Peer {
  std::string name;
  crypto::PublicKey public_key{};  // read from public_key_file by load_config when that is set
  std::optional<std::string> public_key_file;
  std::optional<HostPort> endpoint;
  std::vector<std::string> allowed_ips;  // each a valid prefix, as written
  std::uint16_t persistent_keepalive = 0;
  std::optional<std::string> psk_file;

  friend bool operator==(const Peer&, const Peer&) = default;
};

struct InterfaceConfig {
  std::string name;
  std::string private_key_file;
  std::uint16_t listen_port = kDefaultListenPort;
  std::vector<std::string> addresses;  // each a valid prefix, as written
  std::uint16_t mtu = kDefaultMtu;
  std::vector<std::uint8_t> suites = session::default_suites();  // ids, preferred first
  std::optional<std::string> user;
  std::optional<std::string> group;
  std::optional<std::string> control_group;
  std::uint16_t metrics_port = 0;  // 0: no metrics endpoint
  std::optional<std::string> certificate_file;
  std::vector<std::string> trusted_cas;  // CA public key files
  std::optional<std::string> revocation_file;
  // Certificates may grant default routes (exit nodes); those go into gwd's
  // own routing table, for policy rules to use, never the main table.
  bool certificate_exit_nodes = false;
  // The deployment's network key (a 0600 key file, like a PSK): mac1 and
  // cookies are keyed with it too, so strangers get no answer at all.
  std::optional<std::string> network_key_file;
  // More initiations than this in a second put the engine under load (0: always).
  std::uint32_t under_load_threshold = cookie_spec::kUnderLoadThreshold;
  std::vector<Peer> peers;

  friend bool operator==(const InterfaceConfig&, const InterfaceConfig&) = default;
};

struct ParseResult {
  std::optional<InterfaceConfig> config;  // set exactly when `errors` is empty
  std::vector<std::string> errors;

  explicit operator bool() const noexcept { return config.has_value(); }
};

// Parses and checks the text of a config; `file_name` prefixes every error.
// Touches no file: key files are not read (load_config does that).
ParseResult parse_config(std::string_view text, std::string_view file_name);

struct LoadResult {
  std::optional<InterfaceConfig> config;  // set exactly when `errors` is empty
  crypto::LockedKeyPair key;              // from private_key_file (locked memory)
  // The peers' pre-shared keys, in the order of config->peers (empty: none),
  // in the locked key pool.
  std::vector<crypto::LockedKey> psks;
  // From certificate_file: it binds this interface's key and fits a handshake.
  std::optional<identity::Certificate> certificate;
  std::vector<identity::CaPublicKey> cas;              // from trusted_cas
  identity::RevocationList revoked;                    // from revocation_file (empty without one)
  std::optional<crypto::Secret<kKeyLen>> network_key;  // from network_key_file
  std::vector<std::string> errors;

  explicit operator bool() const noexcept { return config.has_value(); }
};

// The largest certificate encoding a handshake message carries (messages 2
// and 3 hold it with the rest of their payload within 1232 bytes).
inline constexpr std::size_t kMaxHandshakeCertificate = 900;

// Reads `path` (refused when group or others may write it, with the chmod
// that fixes it), parses it, then loads the private key, every PSK file, the
// certificate, the CA keys and the revocation list, and checks that no peer
// has this interface's own public key. The secret key files may belong to
// root, to this process's user or to the config's "user". Writes nothing.
LoadResult load_config(const std::string& path);

// A key file path from a config: absolute as is, relative to the config's folder.
std::string resolve_path(const std::string& config_path, const std::string& file);

// The config as JSON text (keys in the order documented above, every field
// written, two-space indent, final newline). parse_config() reads it back equal.
std::string to_json(const InterfaceConfig& config);

struct SaveResult {
  std::string error;  // empty on success
  explicit operator bool() const noexcept { return error.empty(); }
};

// Replaces `path` atomically with to_json(config), mode 0600: a temporary file
// in the same folder, fsync, rename over `path`, fsync of the folder. A crash
// leaves the old content or the new, never a mix; no temporary file survives.
SaveResult save_config(const std::string& path, const InterfaceConfig& config);

// Replaces `path` with `text` the same way (mode 0600): what save_config does
// once the text is checked; gwd writes PSK files with it too.
SaveResult write_file_atomically(const std::string& path, std::string_view text);

}  // namespace gw::config
