// SPDX-License-Identifier: MIT
// The session engine: gw's wire protocol (docs/PROTOCOL.md) for one interface
// and all its peers, as a pure state machine.
//
// It never touches a socket, a clock or a thread. The caller feeds it
//   handle_datagram(now, from, bytes)   a UDP datagram from the network,
//   send_packet(now, peer, buffer, len) an IP packet for a peer, from the TUN,
//   poll(now)                           at or after the returned deadline,
// and it answers through the Sink: datagrams to send (and where), packets to
// deliver, and events (handshakes, drops and their reasons) to log and count.
// Every entry point returns the next deadline at which poll() must be called.
//
// On the established data path nothing is allocated: a transport packet is
// decrypted and encrypted in the caller's buffer. Handshakes, new peers and
// packets staged while a handshake is under way allocate.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "gw/bytes.hpp"
#include "gw/constants.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/x25519.hpp"
#include "gw/noise/handshake_state.hpp"
#include "gw/session/cookie.hpp"
#include "gw/session/endpoint.hpp"
#include "gw/session/index_table.hpp"
#include "gw/session/pending_book.hpp"
#include "gw/session/rate_limiter.hpp"
#include "gw/session/replay_window.hpp"
#include "gw/session/timers.hpp"
#include "gw/time.hpp"
#include "gw/wire/messages.hpp"
#include "gw/wire/payloads.hpp"

namespace gw::noise {
class CipherState;
}

namespace gw::session {

using PeerId = std::uint32_t;
inline constexpr PeerId kNoPeer = 0;

// Why a datagram or a handshake was refused. Every drop is reported once.
enum class Drop : std::uint8_t {
  malformed,            // wrong type, size or reserved field
  bad_mac1,             // not for us: dropped before any DH
  under_load,           // no valid mac2 while under load: answered with a cookie
  rate_limited,         // the source exceeded its handshake rate
  replayed_initiation,  // an initiation whose ephemeral key we answered already
  unknown_index,        // no handshake or session under that index (also replays)
  decrypt_failed,       // authentication failed
  replay,               // a transport counter seen before
  outside_window,       // a transport counter older than the replay window
  expired_keypair,      // the session is older than REJECT_AFTER_TIME
  bad_inner_packet,     // a decrypted packet that is not IPv4 or IPv6
  unsupported_version,  // an initiation of another protocol version (byte 3 or the offer)
  no_common_suite,      // nothing in the offer that our policy accepts
  negotiation_failed,   // a second attempt that still names the wrong suite
  bad_retry,            // a retry tag or retry message that does not verify
  identity_mismatch,    // the responder is not the peer we meant to reach
  unknown_peer,         // the initiator's static key is not admitted
  psk_mismatch,         // the payload failed after mixing the peer's PSK
  psk_required,         // the peer has a PSK but did not use it
  psk_not_configured,   // the initiator used a PSK we do not have for it
  bad_payload,          // an offer or extension list that breaks PROTOCOL.md 4.1 or 6
  critical_extension,   // an unknown extension marked critical
  too_many_handshakes,  // the table of pending handshakes is full
  no_session,           // a packet for a peer that has no endpoint or gave up
  not_admitted,         // a known peer whose admission the authorizer refused now
  unproven_source,      // a response would exceed 3x the initiation: a cookie reply instead
  count_,
};
const char* to_string(Drop d) noexcept;

struct Event {
  enum class Kind : std::uint8_t {
    dropped,             // `drop` says why
    handshake_started,   // we sent an initiation
    handshake_complete,  // a session was derived (either role)
    session_confirmed,   // initiator: the responder's first packet on the new keys came
    handshake_gave_up,   // REKEY_ATTEMPT_TIME passed without success
    cookie_sent,         // under load: a cookie reply instead of DH
    retry_sent,          // the initiator's suite was not our pick
    keys_wiped,          // no session for 3 * REJECT_AFTER_TIME
    admitted,            // the authorizer admitted `peer` for the handshake now done
    admission_ended,     // an admitted peer is gone (`ended` says why); `key` is its key
  };
  // With admission_ended: why an admitted (not configured) peer was removed.
  enum class Ended : std::uint8_t {
    expired,  // its admission's end (valid_until) came: its sessions ended with it
    idle,     // no new session for 3 * REJECT_AFTER_TIME
    refused,  // the authorizer refused it in a handshake
  };
  Kind kind = Kind::dropped;
  Drop drop = Drop::malformed;
  PeerId peer = kNoPeer;
  Endpoint from;
  std::optional<crypto::PublicKey> key;  // an unknown peer's static key, for the log
  std::uint8_t suite = 0;
  std::uint8_t version = 0;  // with unsupported_version: initiation byte 3, or the offer's
  // With handshake_complete: we sent message 3. The session is ours to use,
  // but the responder has not yet shown it accepted it (session_confirmed).
  bool we_initiated = false;
  Ended ended = Ended::expired;  // with admission_ended
  std::uint8_t message = 0;      // with dropped: the wire type of the message (0: none)
};

// Where the engine's output goes. Calls come synchronously from inside the
// entry points; the bytes are valid only during the call.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void send_datagram(const Endpoint& to, Bytes datagram) = 0;
  virtual void deliver_packet(PeerId peer, Bytes packet) = 0;
  virtual void on_event(const Event& event) { (void)event; }
};

struct PeerConfig {
  std::string name;
  crypto::PublicKey public_key{};
  crypto::LockedKey psk;  // in the locked key pool; empty: none
  std::optional<Endpoint> endpoint;
  std::uint16_t persistent_keepalive_s = 0;  // 0: off
  // A peer the authorizer admitted (a certificate, say), not one configured:
  // the engine forgets it when its admission ends, when it is refused, and
  // when it has had no new session for 3 * REJECT_AFTER_TIME.
  bool admitted = false;
};

// Our role in a handshake.
enum class Role : std::uint8_t { initiator, responder };

// An authorizer's decision about the peer whose static key a handshake has
// just proved (docs/PROTOCOL.md 5.3 and 5.4). It changes nothing itself: the
// engine acts on it.
struct Admission {
  bool admit = false;
  // Admitted: the peer in the engine it is admitted as; kNoPeer with
  // `newcomer` set: add that peer first (`admitted` is set on it).
  PeerId peer = kNoPeer;
  std::optional<PeerConfig> newcomer;
  // Admitted: the sessions of this peer end at this instant (a
  // certificate's not_after, say), whatever their age; nullopt: no end.
  std::optional<Instant> valid_until;

  static Admission refuse() { return {}; }
  static Admission existing(PeerId id, std::optional<Instant> until = std::nullopt) {
    Admission a;
    a.admit = true;
    a.peer = id;
    a.valid_until = until;
    return a;
  }
  static Admission add(PeerConfig config, std::optional<Instant> until) {
    Admission a;
    a.admit = true;
    a.newcomer = std::move(config);
    a.valid_until = until;
    return a;
  }
};

// Decides which peers the engine keeps sessions with, in both roles: as
// responder once message 3 has proved the initiator's static key, and as
// initiator once message 2 has proved the responder's (before message 3 is
// sent). Without one the engine admits exactly its configured peers, as they
// are; certificates plug in here. It is called from inside the engine's
// entry points and must not call back into the engine.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // `known` is the engine's peer with that key, if any. `extensions` is the
  // other side's message-2 (we initiated) or message-3 payload: it carries a
  // certificate, if any.
  virtual Admission authorize(Instant now, Role our_role, const crypto::PublicKey& key,
                              std::optional<PeerId> known,
                              const wire::ExtensionList& extensions) = 0;
};

// Why a peer's handshakes are not getting through, as far as we can tell.
enum class Trouble : std::uint8_t {
  none,
  no_response,    // initiations go unanswered
  not_confirmed,  // message 3 went out, the responder's confirmation never came
  refused,        // we refused the responder: `refusal` says why
};

struct PeerStats {
  std::uint64_t rx_bytes = 0, tx_bytes = 0;  // inner packets
  std::uint64_t rx_packets = 0, tx_packets = 0;
  std::uint64_t handshakes = 0;  // sessions established (as initiator: confirmed)
  std::optional<Instant> last_handshake;
  std::uint8_t suite = 0;  // of the current session
  // The attempt under way, if any: since when, and initiations sent since.
  std::optional<Instant> attempt_since;
  std::uint32_t attempts = 0;
  Trouble trouble = Trouble::none;  // of the attempts since the last session
  Drop refusal = Drop::malformed;   // with Trouble::refused
};

struct EngineConfig {
  // Required. Locked memory, shared with every pending handshake, never copied.
  crypto::LockedKeyPair static_key;
  std::vector<std::uint8_t> suites;  // our policy and offer, preferred first; empty: default
  // Whether this machine runs AES-256-GCM (suite 2); nullopt: ask the CPU.
  // A simulation sets false to play a responder without AES hardware.
  std::optional<bool> aes_hardware;
  std::uint32_t under_load_threshold = cookie_spec::kUnderLoadThreshold;
  bool always_under_load = false;
  // The interface MTU: padding stops there (0: pad every packet to 16 bytes).
  std::size_t mtu = 0;
  // The deployment's network key (PROTOCOL.md 7.1): every mac1 and cookie
  // key is derived from it too. Members share it; strangers get no answer.
  std::optional<NetworkKey> network_key;
  // Our certificate's encoding, or empty: extension 1 of every message 3 we
  // send, and of a message 2 when the initiation asks for it (its
  // CERTIFICATE flag, PROTOCOL.md 4.1).
  std::vector<std::uint8_t> certificate;
  // Extensions sent in messages 2 and 3 besides gw's own (suites, features):
  // our certificate, extensions still to come, and tests of how peers treat
  // them. One of gw's own types here replaces the entry gw would write.
  struct Extension {
    std::uint16_t type = 0;
    bool critical = false;
    std::vector<std::uint8_t> value;
  };
  std::vector<Extension> extra_extensions;
};

// Bytes of room a caller leaves around a packet for send_packet().
inline constexpr std::size_t kPacketHeadroom = wire_spec::kTransportHeaderSize;
inline constexpr std::size_t kPacketTailroom = wire_spec::kPaddingMultiple + noise_spec::kTagLen;

// The batch data path (Engine::prepare_send ... finish_receive): a caller
// that spreads the AEAD work over threads keeps these jobs in preallocated
// arrays. A job is filled by a prepare call, sealed or opened by the static
// seal()/open() on any thread, and finished by a finish call, in the order
// the prepares ran. Between the first prepare and the last finish of a batch
// nothing but those finish calls may enter the engine (no handle_datagram,
// send_packet, poll, peer changes); seal() and open() touch only the job, its
// buffer and the keys it points to, which nothing changes in the meantime.
struct SealJob {
  PeerId peer = kNoPeer;
  const noise::CipherState* cipher = nullptr;  // the keypair's sending key
  MutBytes buffer;                             // as given to prepare_send
  std::size_t len = 0;                         // the inner packet
  std::size_t padded = 0;                      // the plaintext sealed: packet and padding
  std::uint64_t counter = 0;
  std::size_t size = 0;  // after seal(): the datagram's length (0: sealing failed)
};

struct OpenJob {
  Endpoint from;
  MutBytes datagram;
  const noise::CipherState* cipher = nullptr;  // the keypair's receiving key
  std::uint32_t receiver_index = 0;
  std::uint64_t counter = 0;
  std::size_t plain_len = 0;  // after open(): the decrypted payload
  bool ok = false;            // after open(): authentic
};

// What prepare_receive made of a datagram.
enum class Prepared : std::uint8_t {
  job,            // an OpenJob to open and finish
  dropped,        // refused (and reported) already
  not_transport,  // a handshake message or junk: give it to handle_datagram, in its place
};

class Engine {
 public:
  Engine(EngineConfig config, crypto::Rng& rng, Sink& sink);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- Peers ---
  PeerId add_peer(PeerConfig config);
  // Ends the peer's sessions and handshakes and wipes their keys.
  bool remove_peer(PeerId id);
  std::optional<PeerId> find_peer(const crypto::PublicKey& key) const;
  // Where to send the peer's next datagram (a re-resolved DNS name, say). An
  // authenticated datagram from elsewhere moves it again (roaming).
  bool set_endpoint(PeerId id, const Endpoint& endpoint);
  // Forgets the peer's endpoint: it waits for the peer to reach us.
  bool clear_endpoint(PeerId id);
  // A new pre-shared key (empty: none). The current sessions stay; the key
  // takes effect at the next handshake, in either role.
  bool set_psk(PeerId id, crypto::LockedKey psk);
  // A new persistent keepalive interval (0: off), counted from `now`.
  Instant set_persistent_keepalive(Instant now, PeerId id, std::uint16_t seconds);
  // Replaces the default admission (configured peers only). Not owned; it
  // must outlive the engine. nullptr restores the default.
  void set_authorizer(Authorizer* authorizer) noexcept { authorizer_ = authorizer; }
  const PeerStats* stats(PeerId id) const;
  std::optional<Endpoint> endpoint(PeerId id) const;
  // A session the other side has confirmed (as initiator: its first packet
  // on the new keys came): what `show` calls a session.
  bool has_session(PeerId id) const;
  // Any keys to send on, confirmed or not (an initiator's unconfirmed first
  // session, say).
  bool has_keys(PeerId id) const;
  // When the peer's admission ends (Admission::valid_until), if it does.
  std::optional<Instant> valid_until(PeerId id) const;

  // --- Entry points; each returns the next deadline ---
  // A datagram from `from`. It may be changed in place (decryption).
  Instant handle_datagram(Instant now, const Endpoint& from, MutBytes datagram);
  // An IP packet for `peer`: `buffer` holds it at offset kPacketHeadroom,
  // `packet_len` bytes long, with kPacketTailroom bytes free after it. The
  // packet is encrypted in place. Without a session it is staged (a few) and
  // a handshake starts.
  Instant send_packet(Instant now, PeerId peer, MutBytes buffer, std::size_t packet_len);

  // --- The data path in three steps, for batches spread over threads ---
  // send_packet(now, peer, buffer, len) is prepare_send, seal and finish_send;
  // a datagram of type transport given to handle_datagram is
  // prepare_receive, open and finish_receive. Neither allocates.
  //
  // Picks the keypair, pads, takes the counter and writes the header (as
  // send_packet does; without a session the packet is staged and a handshake
  // starts). True when `job` is to be sealed and finished.
  bool prepare_send(Instant now, PeerId peer, MutBytes buffer, std::size_t packet_len,
                    SealJob& job);
  // Encrypts the job's buffer in place. Thread-safe.
  static void seal(SealJob& job) noexcept;
  // Sends the datagram, counts it, runs the timer and rekey rules.
  Instant finish_send(Instant now, const SealJob& job);
  // Parses a transport message and checks its index, keys' age and counter;
  // changes no session, but reports drops, and for an unknown index from a
  // configured peer's endpoint with no session it starts a handshake to that
  // peer (we lost the session it still uses: PROTOCOL.md 9).
  Prepared prepare_receive(Instant now, const Endpoint& from, MutBytes datagram, OpenJob& job);
  // Decrypts the job's datagram in place. Thread-safe.
  static void open(OpenJob& job) noexcept;
  // Finds the keypair again (one replaced by an earlier finish of the batch
  // drops the packet as unknown_index), records the counter, then confirms,
  // roams and delivers as handle_datagram does.
  Instant finish_receive(Instant now, const OpenJob& job);

  // Starts a handshake with `peer` now, if none is under way.
  Instant initiate(Instant now, PeerId peer);
  // Runs every timer that is due.
  Instant poll(Instant now);
  Instant next_deadline() const noexcept { return next_deadline_; }

  // --- Counters ---
  std::uint64_t drops(Drop d) const noexcept { return drops_[static_cast<std::size_t>(d)]; }
  std::size_t pending_handshakes() const noexcept { return pending_.size(); }
  // Pending handshakes ended to make room for newer ones (PROTOCOL.md 7.5).
  std::uint64_t pending_evictions() const noexcept { return pending_evictions_; }
  const crypto::PublicKey& public_key() const noexcept { return config_.static_key->public_key; }
  // The one copy of our static key pair, which every pending handshake shares.
  const crypto::LockedKeyPair& static_key() const noexcept { return config_.static_key; }

 private:
  struct Keypair;
  struct InitiatorHandshake;
  struct Attempt;
  struct PendingResponder;
  struct Peer;
  // Looks up the PSK of the initiator named by message 3 (responder side).
  class PskLookup final : public noise::PskProvider {
   public:
    explicit PskLookup(Engine& e) : engine(e) {}
    // Forgets what the last lookup saw.
    void reset() noexcept {
      asked.reset();
      peer = kNoPeer;
      has_psk = false;
    }
    bool provide_psk(const std::optional<crypto::PublicKey>& remote_static,
                     crypto::Secret<noise_spec::kPskLen>& psk) override;
    Engine& engine;
    std::optional<crypto::PublicKey> asked;
    PeerId peer = kNoPeer;
    bool has_psk = false;
  };
  using PendingMap = std::unordered_map<std::uint32_t, std::unique_ptr<PendingResponder>>;

  // engine.cpp: dispatch and bookkeeping
  Peer* peer_of(PeerId id) const;
  void report(const Event& e);
  void drop(Drop d, const Endpoint& from, PeerId peer = kNoPeer);
  void drop_with_key(Drop d, const Endpoint& from, PeerId peer,
                     const std::optional<crypto::PublicKey>& key);
  void wipe_peer_keys(Peer& p);
  // Acts on the authorizer's decision (or the default one) about `key`: the
  // peer admitted, added first if it is a newcomer; nullopt when refused.
  std::optional<PeerId> admit(Instant now, Role role, const crypto::PublicKey& key,
                              const wire::ExtensionList& extensions);
  // Removes an admitted (not configured) peer and reports why.
  void forget(PeerId id, Event::Ended why);
  void report_admitted(const Peer& p);
  void expire_pending(Instant now);
  Instant settle(Instant deadline);
  // Our extension list for message 2 or 3, padded to one of
  // kExtensionListSizes; with our certificate when `with_certificate`.
  std::size_t write_extensions(MutBytes out, bool with_certificate) const;
  const NetworkKey* network() const noexcept {
    return config_.network_key ? &*config_.network_key : nullptr;
  }
  std::optional<Drop> check_extensions(Bytes payload, wire::ExtensionList& list) const;
  // The suite's Noise protocol if this machine runs it (see aes_hardware), else nullptr.
  const noise::Protocol* protocol_of(std::uint8_t suite, bool psk) const noexcept;

  // initiator.cpp
  void start_handshake(Peer& p, Instant now, bool retransmit);
  // Sends a new attempt; with `keep_earlier` the attempts under way stay
  // answerable (a retry's or a cookie reply's second attempt), else they end.
  void send_initiation(Peer& p, Instant now, wire::InitiationFields fields,
                       bool keep_earlier = false);
  // Ends the round's attempts, all but the one under `keep` (kNoIndex: all).
  void end_attempts(Peer& p, std::uint32_t keep = kNoIndex);
  Attempt initiator_of(std::uint32_t index) const;
  void on_retry(Instant now, const Endpoint& from, MutBytes datagram);
  void on_response(Instant now, const Endpoint& from, MutBytes datagram);
  void send_finish(Peer& p, InitiatorHandshake& h, Instant now, const Endpoint& to,
                   std::uint32_t remote_index);
  void on_cookie_reply(Instant now, const Endpoint& from, MutBytes datagram);

  // responder.cpp
  void on_initiation(Instant now, const Endpoint& from, MutBytes datagram);
  // Reports an initiation of another protocol version (its byte 3 or its offer's).
  void drop_version(const Endpoint& from, std::uint8_t version);
  bool admit_under_load(Instant now, const Endpoint& from, Bytes datagram,
                        const wire::Initiation& m);
  std::optional<Drop> read_initiation(const wire::Initiation& m, PendingResponder& pending,
                                      wire::Offer& offer);
  void send_retry(Instant now, const Endpoint& from, Bytes datagram, std::uint32_t receiver,
                  std::uint8_t suite, const crypto::PublicKey& initiator_e);
  // A PSK initiation on a suite we do not run hides its offer: a retry for
  // each suite of our policy, and the initiator follows those it offered.
  void send_blind_retries(Instant now, const Endpoint& from, Bytes datagram,
                          const wire::Initiation& m, const crypto::PublicKey& initiator_e);
  // A cookie reply in place of a response that would exceed
  // kAmplificationFactor times the initiation from an unproven source.
  bool amplification_guard(Instant now, const Endpoint& from, Bytes datagram,
                           const wire::Initiation& m);
  void send_cookie_reply(Instant now, const Endpoint& from, const wire::Initiation& m);
  void send_response(Instant now, const Endpoint& from, const wire::Initiation& m,
                     std::unique_ptr<PendingResponder> pending,
                     const crypto::PublicKey& initiator_e);
  void on_finish(Instant now, const Endpoint& from, MutBytes datagram);
  Drop finish_failure(const PendingResponder& pending, PeerId& peer,
                      std::optional<crypto::PublicKey>& key) const;
  void accept_finish(Peer& p, Instant now, const Endpoint& from, std::uint32_t index,
                     PendingMap::iterator it);

  // transport.cpp
  std::unique_ptr<Keypair> make_keypair(noise::TransportState& t, Instant now, bool we_initiated,
                                        std::uint32_t local, std::uint32_t remote,
                                        std::uint8_t suite);
  Keypair* sending_keypair(Peer& p, Instant now);
  // The keypair under `index` if a transport message with `counter` may use
  // it now (and, when `expected` is given, if it is still the keypair that
  // cipher belongs to); else nullptr, with the drop reported.
  Keypair* receiving_keypair(Instant now, const Endpoint& from, std::uint32_t index,
                             std::uint64_t counter, const noise::CipherState* expected,
                             Peer*& peer);
  bool encrypt_and_send(Peer& p, Keypair& kp, Instant now, MutBytes buffer, std::size_t len);
  void prepare_seal(Keypair& kp, PeerId peer, MutBytes buffer, std::size_t len, SealJob& job);
  bool complete_send(Peer& p, Instant now, const SealJob& job);
  void rekey_after_send(Peer& p, const Keypair& kp, Instant now, std::uint64_t next_counter);
  void send_keepalive(Peer& p, Instant now);
  void flush_staged(Peer& p, Instant now);
  void on_transport(Instant now, const Endpoint& from, MutBytes datagram);
  void restart_hint(Instant now, const Endpoint& from);
  // Sets where we send to the peer, and the index rekeying_peer() reads.
  void move_endpoint(Peer& p, const std::optional<Endpoint>& to);
  // The peer we hold a session with whose endpoint is `from`, or kNoPeer.
  PeerId rekeying_peer(const Endpoint& from) const;
  // Ends a pending handshake: its index (unless kept) and its book entry.
  void end_pending(PendingMap::iterator it, bool free_index);
  void index_endpoint(Peer& p, const std::optional<Endpoint>& configured);
  void confirm_next(Peer& p, Instant now);

  // timers.cpp: the event hooks and the rules
  Instant jittered(Instant now);
  void on_handshake_initiated(Peer& p, Instant now);
  void session_derived(Peer& p, Instant now, bool responder);
  void on_session_confirmed(Peer& p, Instant now);
  void on_data_sent(Peer& p, Instant now);
  void on_data_received(Peer& p, Instant now);
  void on_packet_sent(Peer& p, Instant now);
  void on_packet_received(Peer& p, Instant now);
  void arm_persistent_keepalive(Peer& p, Instant now);
  void give_up(Peer& p);
  void set_valid_until(Peer& p, std::optional<Instant> until);
  void end_admission(Peer& p, Instant now);
  // Runs the peer's due timers; false when the peer is gone after them.
  bool run_timers(Peer& p, Instant now);

  EngineConfig config_;
  crypto::Rng& rng_;
  Sink& sink_;
  Hash256 mac1_key_;  // MAC1 key of our own static key
  CookieChecker cookies_;
  RateLimiter rate_limiter_;
  IndexTable indices_;
  std::unordered_map<PeerId, std::unique_ptr<Peer>> peers_;
  std::map<crypto::PublicKey, PeerId> peers_by_key_;
  struct EndpointLess {
    bool operator()(const Endpoint& a, const Endpoint& b) const noexcept {
      return std::tie(a.family, a.address, a.port) < std::tie(b.family, b.address, b.port);
    }
  };
  std::map<Endpoint, PeerId, EndpointLess> by_endpoint_;     // configured endpoints
  std::map<Endpoint, PeerId, EndpointLess> live_endpoints_;  // where we send to each peer
  PendingMap pending_;
  PendingBook pending_book_;
  std::uint64_t pending_evictions_ = 0;
  PskLookup psk_lookup_{*this};
  Authorizer* authorizer_ = nullptr;
  // Ephemeral keys of initiations answered lately, and when (oldest first).
  std::map<crypto::PublicKey, Instant> answered_;
  std::deque<std::pair<Instant, crypto::PublicKey>> answered_order_;
  PeerId next_peer_id_ = 1;
  std::uint8_t message_ = 0;  // the wire type handle_datagram is working on, for drop events
  std::array<std::uint64_t, static_cast<std::size_t>(Drop::count_)> drops_{};
  Instant next_deadline_ = Instant::max();
  std::array<std::uint8_t, wire_spec::kMaxHandshakeSize> scratch_{};
  std::array<std::uint8_t, wire_spec::kMaxHandshakeSize> payload_{};
};

}  // namespace gw::session
