// SPDX-License-Identifier: MIT
// libgw: gw's handshake and channel for programs that need no TUN device.
//
// A program proves who it is to a peer with a Noise handshake, checks who the
// peer is (a list of keys, or a CA's certificates, as gwd does), and then
// seals and opens messages. The library does no I/O: the caller moves every
// byte over a stream or datagram transport it owns, and frames the messages
// itself (over a stream: a 2-byte big-endian length before each message, as
// the Noise specification suggests). docs/LIBRARY.md has a complete example.
//
//   gw::Identity me = gw::Identity::generate();
//   gw::HandshakeOptions o;
//   o.role = gw::Role::initiator;
//   o.identity = me;
//   o.trust.add_key(server_key);
//   gw::Handshake hs;
//   gw::Status st = gw::Handshake::create(o, hs);
//   std::vector<std::uint8_t> msg;
//   while (st && hs.next() != gw::Handshake::Next::done) {
//     if (hs.next() == gw::Handshake::Next::write) { st = hs.write(msg); send(msg); }
//     else st = hs.read(receive());
//   }
//   gw::Channel ch;
//   if (st) st = hs.finish(ch);
//   ch.seal(plaintext, ciphertext); ch.open(ciphertext, plaintext);
//
// Every call that can fail returns a Status: a code and one line naming what
// was wrong. Nothing throws but std::bad_alloc. Objects are not thread-safe:
// use one from one thread at a time (two channels may live on two threads).
// Only what this header declares is exported from libgw.so.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#define GW_API __attribute__((visibility("default")))

namespace gw {

// The library's version, "MAJOR.MINOR.PATCH"; the same as gwd's.
GW_API const char* library_version() noexcept;

using ByteView = std::span<const std::uint8_t>;
// An X25519 public key (a static key, the identity of a peer).
using Key = std::array<std::uint8_t, 32>;

enum class Errc : std::uint8_t {
  ok = 0,
  invalid_argument,       // bad key text, protocol name, option mix or size
  unsupported,            // a protocol the core does not run (448, BLAKE2s, AESGCM without AES-NI)
  file,                   // a file missing, unreadable, unwritable, or with unsafe permissions
  wrong_state,            // a call out of order: write on the peer's turn, seal before finish...
  malformed,              // a message of the wrong size or shape
  authentication_failed,  // a message did not decrypt: another key or PSK, tampered, or not ours
  peer_refused,           // the peer proved a static key that the Trust does not admit
  negotiation_failed,     // negotiated mode: no common suite, or the negotiation was tampered with
  replayed,               // datagram channel: a counter already opened, or too old
  exhausted,              // the 2^64-1 nonces of a direction are used up
};
// The code's name: "peer_refused".
GW_API const char* to_string(Errc code) noexcept;

// The result of a call that can fail.
struct Status {
  Errc code = Errc::ok;
  std::string message;  // one line naming what was wrong; empty when ok

  bool ok() const noexcept { return code == Errc::ok; }
  explicit operator bool() const noexcept { return ok(); }
};

// Keys as text, as gw and WireGuard write them: standard base64 of 32 bytes.
GW_API std::string to_base64(ByteView bytes);
// Lowercase hex.
GW_API std::string to_hex(ByteView bytes);
// Exactly the base64 of 32 bytes (44 characters), nothing around it.
GW_API Status parse_key(std::string_view base64, Key& out);
// Even-length hex, either case (for prologues and the like).
GW_API Status parse_hex(std::string_view hex, std::vector<std::uint8_t>& out);
// A public key file (what `gwctl pubkey` writes: one base64 line). A CA's key
// file, or any other kind, is refused by name.
GW_API Status load_public_key(const std::string& path, Key& out);

// A static key pair, and optionally the certificate that binds it. The
// private key lives in locked memory (sodium_malloc) and is wiped when the
// last copy goes. Copies share that memory; nothing changes it after creation.
class GW_API Identity {
 public:
  Identity() noexcept;  // empty: no key; a handshake refuses it
  Identity(const Identity&) noexcept;
  Identity& operator=(const Identity&) noexcept;
  Identity(Identity&&) noexcept;
  Identity& operator=(Identity&&) noexcept;
  ~Identity();

  // A fresh key pair from the system's randomness.
  static Identity generate();
  // A private key file as gwd reads it: base64 of 32 bytes on one line, mode
  // 0600 or stricter (group or other access is refused). A CA's key file is
  // refused by name.
  static Status load(const std::string& private_key_file, Identity& out);
  // Writes the private key to a new file with mode 0600; refuses to replace
  // an existing file.
  Status save(const std::string& private_key_file) const;
  // Adds the certificate in `certificate_file` (the armour `gwctl cert sign`
  // writes). Refused unless it binds this identity's public key. The
  // handshake then sends it to the peer (encrypted where the pattern
  // encrypts the static key), so a peer that trusts its CA admits us.
  Status load_certificate(const std::string& certificate_file);

  bool empty() const noexcept;
  Key public_key() const noexcept;  // all zeros when empty
  bool has_certificate() const noexcept;

 public:
  struct Impl;  // opaque: defined inside the library

 private:
  std::shared_ptr<const Impl> impl_;
  friend class Handshake;
};

// A pre-shared key: 32 secret bytes in locked memory. Copies share it.
class GW_API Psk {
 public:
  Psk() noexcept;
  Psk(const Psk&) noexcept;
  Psk& operator=(const Psk&) noexcept;
  Psk(Psk&&) noexcept;
  Psk& operator=(Psk&&) noexcept;
  ~Psk();

  static Psk generate();
  // A PSK file as gwd reads it: base64 of 32 bytes on one line, mode 0600 or
  // stricter. A CA's key file is refused by name.
  static Status load(const std::string& psk_file, Psk& out);
  bool empty() const noexcept;

 public:
  struct Impl;  // opaque: defined inside the library

 private:
  std::shared_ptr<const Impl> impl_;
  friend class Handshake;
};

// Which static keys a handshake admits for the peer. An empty Trust admits
// nobody. Keys and CAs add up: a peer is admitted when its key is listed, or
// when it shows a certificate that a listed CA signed, that binds the key it
// proved, that is valid now (the system clock) and not revoked. Copies are
// independent.
class GW_API Trust {
 public:
  Trust();
  Trust(const Trust&);
  Trust& operator=(const Trust&);
  Trust(Trust&&) noexcept;
  Trust& operator=(Trust&&) noexcept;
  ~Trust();

  // Admits every key: the caller checks Channel::remote() itself.
  static Trust any();

  void add_key(const Key& key);
  // A CA public key file (what `gwctl ca init` writes next to the CA key: the
  // armour "GW CA PUBLIC KEY", docs/CERTIFICATES.md). A peer's key line, or a
  // CA key as one line from before the armour, is refused by name
  // (`gwctl ca upgrade` converts the latter).
  Status add_ca_file(const std::string& path);
  // A revocation list file (what `gwctl ca revoke` writes). Replaces the previous list.
  Status load_revocations(const std::string& path);

  bool admits_any() const noexcept;
  bool empty() const noexcept;  // admits nobody

 public:
  struct Impl;  // opaque: defined inside the library

 private:
  std::unique_ptr<Impl> impl_;
  friend class Handshake;
};

enum class Role : std::uint8_t { initiator, responder };

// How a channel's messages travel, which decides their format:
//  * stream: in order and reliable (TCP, a pipe, TLS-free QUIC streams...).
//    A message is the AEAD ciphertext alone (plaintext + 16 bytes); the nonce
//    is its position. A lost, repeated or reordered message fails to open.
//  * datagram: each message may be lost, repeated or reordered (UDP). A
//    message is an 8-byte little-endian counter, then the ciphertext
//    (plaintext + 24 bytes); a window of 8,128 counters drops replays.
enum class Transport : std::uint8_t { stream, datagram };

struct HandshakeOptions {
  Role role = Role::initiator;
  // Fixed mode: any Noise protocol name the core runs: every fundamental,
  // one-way and deferred pattern with psk modifiers, DH 25519, ciphers
  // ChaChaPoly and AESGCM, hashes BLAKE2b, SHA256 and SHA512. The messages are
  // plain Noise messages, so any other Noise implementation interoperates.
  //
  // Negotiated mode (protocol empty): gw's suite negotiation with downgrade
  // protection (docs/LIBRARY.md): the initiator offers `suites` in its order
  // of preference, the responder picks the first of its own `suites` that the
  // offer holds, and the pattern is XX (XXpsk3 with a PSK).
  std::string protocol = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
  // Negotiated mode only: suite names, "ChaChaPoly_BLAKE2b", "AESGCM_SHA256",
  // "ChaChaPoly_SHA256"; empty means gw's default order (AESGCM only where the
  // CPU runs it).
  std::vector<std::string> suites;

  // Our static key: required when the pattern uses one.
  Identity identity;
  // Who the peer may be: consulted whenever the handshake learns the peer's
  // static key. Required (not empty) when the pattern transmits the peer's
  // static key; refused when the pattern never authenticates the peer.
  Trust trust;
  // The peer's static key known in advance: required exactly when the
  // pattern's pre-message holds it (NK, KK, IK, XK...). Naming it trusts it.
  std::optional<Key> remote_key;
  // One PSK per psk token of the pattern, in order (one for XXpsk3).
  // Negotiated mode: one PSK makes the pattern XXpsk3.
  std::vector<Psk> psks;
  // Authenticated by the handshake: both sides must pass the same bytes.
  std::vector<std::uint8_t> prologue;
  Transport transport = Transport::stream;
};

// What the handshake proved about the peer.
struct RemoteIdentity {
  Key key{};                        // the static key the peer proved
  bool certified = false;           // admitted by a certificate rather than a listed key
  std::string name;                 // the certificate's name; empty without one
  std::vector<std::string> groups;  // the certificate's groups
  std::int64_t not_after = 0;       // the certificate's expiry, Unix seconds; 0 without one
};

class Channel;

// One handshake, driven by the caller: next() says whether to write a
// message (and send it) or to read one (received from the peer), until it
// says done; finish() then yields the channel. A handshake is used once.
//
// A message that fails to read (authentication_failed, malformed) leaves the
// handshake as it was, so over datagrams a forged or stray message can be
// ignored; over a stream the caller gives up. What ends the handshake (next()
// is then failed): a peer that the Trust refuses, a failed negotiation, a
// failed write (but for a message too large) and finish(). The library keeps
// no timers: the caller bounds the wait for each message.
class GW_API Handshake {
 public:
  enum class Next : std::uint8_t { write, read, done, failed };

  Handshake() noexcept;  // empty: next() is failed until create()
  Handshake(Handshake&&) noexcept;
  Handshake& operator=(Handshake&&) noexcept;
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;
  ~Handshake();

  // Checks the options (the protocol name, the keys and PSKs the pattern
  // needs, the trust) and starts a handshake in `out`.
  static Status create(const HandshakeOptions& options, Handshake& out);

  Next next() const noexcept;
  // Replaces `message` with the next message to send (at most 65,535 bytes).
  Status write(std::vector<std::uint8_t>& message);
  // Reads a message received from the peer.
  Status read(ByteView message);
  // Once next() is done: moves the session keys into `out` and ends the handshake.
  Status finish(Channel& out);

  // The protocol being run: the fixed name, or in negotiated mode the suite
  // chosen so far (the initiator's first choice until the responder answers).
  std::string protocol() const;
  // The peer's static key, once known and admitted.
  std::optional<Key> remote_key() const;

 public:
  struct Impl;  // opaque: defined inside the library

 private:
  std::unique_ptr<Impl> impl_;
};

// An established channel: seal what goes to the peer, open what comes from
// it. Move-only; the keys are wiped when it goes.
class GW_API Channel {
 public:
  // The largest plaintext seal() takes, so that every sealed message fits a
  // Noise message (65,535 bytes) and a 2-byte length frame.
  static constexpr std::size_t kMaxPlaintext = 65535 - 24;

  Channel() noexcept;  // empty: seal and open return wrong_state
  Channel(Channel&&) noexcept;
  Channel& operator=(Channel&&) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel();

  // Replaces `out` with the sealed message. wrong_state on a one-way
  // pattern's responder, or an empty channel.
  Status seal(ByteView plaintext, std::vector<std::uint8_t>& out);
  // Replaces `out` with the plaintext of a message the peer sealed. A failed
  // open empties `out` and changes nothing else: the next genuine message
  // still opens.
  Status open(ByteView message, std::vector<std::uint8_t>& out);

  bool empty() const noexcept;
  Role role() const noexcept;
  Transport transport() const noexcept;
  // The Noise protocol the handshake ran, e.g. "Noise_XX_25519_AESGCM_SHA256".
  std::string protocol() const;
  // The peer's identity; nullopt when the pattern does not authenticate it (NN, NK's responder...).
  std::optional<RemoteIdentity> remote() const;
  // The handshake hash h (32 or 64 bytes): the same on both sides and unique
  // to this handshake, for channel binding.
  std::vector<std::uint8_t> handshake_hash() const;
  // Bytes seal() adds: 16 over a stream, 24 over datagrams.
  std::size_t overhead() const noexcept;

 public:
  struct Impl;  // opaque: defined inside the library

 private:
  std::unique_ptr<Impl> impl_;
  friend class Handshake;
};

}  // namespace gw
