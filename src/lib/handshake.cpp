// SPDX-License-Identifier: MIT
// libgw: one handshake, driven by the caller, in either mode:
//  * fixed: a Noise protocol name; the messages are the Noise messages alone;
//  * negotiated: XX over one of gw's suites, with the header, retry and
//    prologue of negotiation.hpp around the Noise messages.
// The trust is checked the moment the handshake learns the peer's static key,
// so an initiator in XX refuses an impostor at message 2 and never sends
// message 3, which would reveal who it is.
#include <algorithm>
#include <chrono>

#include "gw/constants.hpp"
#include "gw/crypto/random.hpp"
#include "gw/crypto/sodium.hpp"
#include "gw/noise/handshake_state.hpp"
#include "gw/noise/protocol.hpp"
#include "gw/session/suites.hpp"
#include "gw/wire/payloads.hpp"
#include "internal.hpp"
#include "negotiation.hpp"

namespace gw {

using lib::fail;
namespace neg = lib::negotiation;

struct GW_LOCAL Handshake::Impl {
  enum class Phase : std::uint8_t { running, done, failed, finished };

  Phase phase = Phase::running;
  Role role = Role::initiator;
  Transport transport = Transport::stream;
  bool negotiated = false;
  std::shared_ptr<const Identity::Impl> identity;
  Trust::Impl trust;
  std::vector<std::shared_ptr<const Psk::Impl>> psks;
  std::vector<std::uint8_t> caller_prologue;
  std::optional<Key> remote_key;
  std::optional<noise::HandshakeState> hs;
  std::optional<RemoteIdentity> remote;
  std::string protocol;

  // Negotiated mode.
  std::vector<std::uint8_t> policy;      // our suites, in our order
  wire::Offer offer;                     // initiator: what it offers (= policy)
  neg::Header header{};                  // the current attempt's initiation header
  std::uint8_t suite = 0;                // the suite of the current attempt
  bool retried = false;                  // the current attempt is the second
  std::vector<std::uint8_t> initiation;  // the first initiation, as sent or received
  bool retry_pending = false;            // responder: the next write is a retry
  std::uint8_t retry_suite = 0;
  neg::FirstHash first_hash{};

  noise::Role noise_role() const noexcept {
    return role == Role::initiator ? noise::Role::initiator : noise::Role::responder;
  }
  bool has_psk() const noexcept { return !psks.empty(); }

  // Ends the handshake: the keys are wiped with the HandshakeState.
  Status fatal(Status s) {
    phase = Phase::failed;
    hs.reset();
    return s;
  }
};

namespace {

using Impl = Handshake::Impl;

bool sends_static(const noise::HandshakePattern& pattern, noise::Role sender) {
  for (std::size_t i = 0; i < pattern.message_count; ++i) {
    if (pattern.sender(i) == sender && pattern.messages[i].contains(noise::Token::s)) return true;
  }
  return false;
}

noise::Role other(noise::Role r) noexcept {
  return r == noise::Role::initiator ? noise::Role::responder : noise::Role::initiator;
}

// Starts the Noise HandshakeState of `protocol` with our keys and PSKs.
Status begin_noise(Impl& h, const noise::Protocol& protocol, ByteView prologue) {
  const noise::Role role = h.noise_role();
  h.hs.emplace(protocol, role, crypto::system_rng());
  noise::HandshakeState& hs = *h.hs;
  noise::Error e = hs.set_prologue(prologue);
  if (e == noise::Error::ok && protocol.needs_local_static(role)) {
    e = hs.set_local_static(h.identity->key_pair());
  }
  if (e == noise::Error::ok && protocol.needs_remote_static(role)) {
    e = hs.set_remote_static(*h.remote_key);
  }
  for (const auto& psk : h.psks) {
    if (e == noise::Error::ok) e = hs.add_psk(psk->key.bytes());
  }
  if (e == noise::Error::ok) e = hs.start();
  if (e != noise::Error::ok) return h.fatal(lib::from_noise(e, "handshake start"));
  return {};
}

Status start_fixed(Impl& h, const std::string& name) {
  const noise::ParseResult r = noise::parse_protocol(name);
  if (!r) {
    return fail(r.status == noise::ParseResult::Status::unsupported ? Errc::unsupported
                                                                    : Errc::invalid_argument,
                "protocol " + name + ": " + r.message);
  }
  const noise::Protocol& p = *r.protocol;
  const noise::Role role = h.noise_role();
  const std::string where = "protocol " + name + ": ";
  const char* peer = role == noise::Role::initiator ? "responder" : "initiator";
  if (p.needs_local_static(role) && !h.identity) {
    return fail(Errc::invalid_argument, where + "the pattern needs our static key: set identity");
  }
  const bool pre_known = p.needs_remote_static(role);
  if (pre_known && !h.remote_key) {
    return fail(Errc::invalid_argument, where + "the pattern needs the " + std::string(peer) +
                                            "'s static key in advance: set remote_key");
  }
  if (!pre_known && h.remote_key) {
    return fail(Errc::invalid_argument,
                where + "the pattern takes no peer key in advance: require a key with trust");
  }
  const bool learns = sends_static(p.pattern, other(role));
  if (learns && h.trust.empty()) {
    return fail(Errc::invalid_argument,
                where + "the " + std::string(peer) +
                    " sends its static key: trust must admit someone (Trust::any() to check it "
                    "yourself)");
  }
  if (!learns && !h.trust.empty()) {
    return fail(Errc::invalid_argument,
                where + "the " + std::string(peer) +
                    " never sends its static key, so a trust cannot be checked" +
                    (pre_known ? " (remote_key names the key)" : ""));
  }
  if (h.psks.size() != p.psk_count) {
    return fail(Errc::invalid_argument, where + "the pattern has " + std::to_string(p.psk_count) +
                                            " psk token(s), " + std::to_string(h.psks.size()) +
                                            " PSK(s) given");
  }
  h.protocol = std::string(p.name());
  if (pre_known) h.remote = RemoteIdentity{*h.remote_key, false, {}, {}, 0};
  return begin_noise(h, p, h.caller_prologue);
}

std::uint8_t flags_of(const Impl& h, bool retried) noexcept {
  return static_cast<std::uint8_t>((h.has_psk() ? neg::kFlagPsk : 0) |
                                   (retried ? neg::kFlagRetried : 0));
}

// One attempt of negotiated mode: the initiation's header as the initiator
// sends it or the responder received it.
Status begin_attempt(Impl& h, const neg::Header& header) {
  h.header = header;
  h.suite = header[2];
  h.retried = (header[3] & neg::kFlagRetried) != 0;
  const noise::Protocol* p = session::suite_protocol(h.suite, h.has_psk());
  if (p == nullptr) return h.fatal(fail(Errc::unsupported, "suite " + std::to_string(h.suite)));
  h.protocol = std::string(p->name());
  const std::vector<std::uint8_t> prologue =
      neg::prologue(header, h.retried ? &h.first_hash : nullptr, h.caller_prologue);
  return begin_noise(h, *p, prologue);
}

Status start_negotiated(Impl& h, const std::vector<std::string>& suites) {
  if (Status s = neg::suite_ids(suites, h.policy); !s) return s;
  if (h.policy.empty()) return fail(Errc::unsupported, "suites: none runs on this machine");
  const std::string where = "negotiated mode (XX): ";
  if (!h.identity)
    return fail(Errc::invalid_argument, where + "set identity: XX needs our static key");
  if (h.remote_key) {
    return fail(Errc::invalid_argument,
                where + "XX takes no peer key in advance: require a key with trust");
  }
  if (h.trust.empty()) {
    return fail(Errc::invalid_argument,
                where + "trust must admit someone (Trust::any() to check the key yourself)");
  }
  if (h.psks.size() > 1) {
    return fail(Errc::invalid_argument,
                where + "at most one PSK (XXpsk3), " + std::to_string(h.psks.size()) + " given");
  }
  h.negotiated = true;
  if (h.role == Role::responder) return {};  // the initiation says which suite
  h.offer.count = static_cast<std::uint8_t>(h.policy.size());
  std::copy(h.policy.begin(), h.policy.end(), h.offer.suites.begin());
  return begin_attempt(h, neg::header(h.policy.front(), flags_of(h, false), h.offer));
}

// Our handshake payload: an extension list with our certificate in the
// message that carries our static key; otherwise an empty list (negotiated
// mode) or nothing (fixed mode, where another Noise implementation may be
// reading).
std::vector<std::uint8_t> our_payload(const Impl& h, bool carries_static) {
  const bool certificate = carries_static && h.identity && h.identity->certificate;
  if (!certificate && !h.negotiated) return {};
  const std::size_t cert_len = certificate ? h.identity->certificate_bytes.size() : 0;
  std::vector<std::uint8_t> payload(2 + wire_spec::kExtensionHeaderSize + cert_len);
  wire::ExtensionWriter writer(payload);
  if (certificate) writer.add(wire_spec::kExtCertificate, 0, h.identity->certificate_bytes);
  payload.resize(writer.size());
  return payload;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Whether the trust admits the peer's static key, with the certificate it sent.
Status admit(Impl& h, const Key& key, const wire::Extension* certificate) {
  RemoteIdentity id;
  id.key = key;
  const Trust::Impl& t = h.trust;
  if (t.any || std::find(t.keys.begin(), t.keys.end(), key) != t.keys.end()) {
    h.remote = std::move(id);
    return {};
  }
  const std::string who = "peer key " + to_base64(key);
  if (t.cas.empty()) return fail(Errc::peer_refused, who + " is not trusted");
  if (certificate == nullptr) {
    return fail(Errc::peer_refused, who + " is not trusted and showed no certificate");
  }
  std::string error;
  const std::optional<identity::Certificate> cert = identity::decode(certificate->value, &error);
  if (!cert) return fail(Errc::peer_refused, who + ": unreadable certificate: " + error);
  const identity::CertError ce = identity::verify(*cert, t.cas, t.revoked, unix_now(), key);
  if (ce != identity::CertError::ok) {
    return fail(Errc::peer_refused,
                who + ": certificate '" + cert->name + "' refused: " + identity::to_string(ce));
  }
  id.certified = true;
  id.name = cert->name;
  id.groups = cert->groups;
  id.not_after = cert->not_after;
  h.remote = std::move(id);
  return {};
}

// A received extension list, checked against gw's table of defined types
// (docs/PROTOCOL.md, section 6), as gwd checks it.
Status check_extensions(ByteView payload, std::size_t message, wire::ExtensionList& out) {
  const std::string where = "message " + std::to_string(message) + ": ";
  const wire::ExtensionCheck c = wire::read_extensions(payload, out);
  switch (c.fault) {
    case wire::ExtensionFault::none:
      return {};
    case wire::ExtensionFault::malformed:
      return fail(Errc::malformed, where + "the payload is not an extension list");
    case wire::ExtensionFault::unknown_critical:
      return fail(Errc::malformed, where + "unknown critical extension " + std::to_string(c.type));
    case wire::ExtensionFault::wrong_length: {
      const wire::ExtensionType& t = *wire::extension_type(c.type);
      const std::string expected =
          t.min_len == t.max_len ? std::to_string(t.min_len)
                                 : std::to_string(t.min_len) + " to " + std::to_string(t.max_len);
      return fail(Errc::malformed, where + t.name + " extension of " + std::to_string(c.length) +
                                       " bytes, expected " + expected);
    }
  }
  return {};
}

void after_step(Impl& h) {
  if (h.hs && h.hs->action() == noise::HandshakeState::Action::split) h.phase = Impl::Phase::done;
}

// Reads one Noise message. A message that fails, Noise's checks or ours of
// its payload, leaves the handshake as it was: a forged or stray message (in
// XX, message 1 and its payload are not authenticated at all) must not end a
// genuine handshake. A peer key the trust refuses ends it: that key was proved.
Status read_noise(Impl& h, ByteView message, bool payload_is_extensions) {
  noise::HandshakeState& hs = *h.hs;
  const bool knew_static = hs.remote_static().has_value();
  const noise::HandshakeState before = hs;  // to undo a message whose payload is refused
  std::vector<std::uint8_t> payload(message.size());
  std::size_t written = 0;
  if (noise::Error e = hs.read_message(message, payload, written); e != noise::Error::ok) {
    return lib::from_noise(e, "message " + std::to_string(hs.message_index() + 1));
  }
  payload.resize(written);
  wire::ExtensionList extensions;
  if (payload_is_extensions && !payload.empty()) {
    if (Status refused = check_extensions(payload, hs.message_index(), extensions); !refused) {
      hs = before;
      return refused;
    }
  }
  if (!knew_static && hs.remote_static()) {
    if (Status s = admit(h, *hs.remote_static(), extensions.find(wire_spec::kExtCertificate)); !s) {
      return h.fatal(std::move(s));
    }
  }
  after_step(h);
  return {};
}

Status write_noise(Impl& h, ByteView prefix, ByteView payload, std::vector<std::uint8_t>& out) {
  noise::HandshakeState& hs = *h.hs;
  const std::size_t size = hs.next_message_size(payload.size());
  if (size > noise_spec::kMaxMessageLen) {
    return fail(Errc::invalid_argument,
                "handshake message of " + std::to_string(size) + " bytes: more than 65535");
  }
  std::vector<std::uint8_t> message(prefix.size() + size);
  std::copy(prefix.begin(), prefix.end(), message.begin());
  std::size_t written = 0;
  if (noise::Error e = hs.write_message(payload, MutBytes(message).subspan(prefix.size()), written);
      e != noise::Error::ok) {
    return h.fatal(lib::from_noise(e, "message " + std::to_string(hs.message_index() + 1)));
  }
  message.resize(prefix.size() + written);
  out = std::move(message);
  after_step(h);
  return {};
}

bool carries_static(const Impl& h) {
  const noise::HandshakeState& hs = *h.hs;
  const std::size_t i = hs.message_index();
  return i < hs.protocol().pattern.message_count &&
         hs.protocol().pattern.messages[i].contains(noise::Token::s);
}

Status write_negotiated(Impl& h, std::vector<std::uint8_t>& out) {
  if (h.retry_pending) {
    std::vector<std::uint8_t> retry{neg::kRetry, h.retry_suite};
    h.first_hash = neg::first_hash(h.initiation, retry);
    h.retry_pending = false;
    out = std::move(retry);
    return {};
  }
  const std::size_t index = h.hs->message_index();
  if (index == 0) {
    Status s = write_noise(h, h.header, {}, out);
    if (s && !h.retried) h.initiation = out;
    return s;
  }
  const std::uint8_t type = index == 1 ? neg::kResponse : neg::kFinish;
  const std::array<std::uint8_t, 1> prefix{type};
  return write_noise(h, prefix, our_payload(h, carries_static(h)), out);
}

// The responder reads an initiation: checks the header and the offer, picks
// a suite, then answers with a retry or reads the Noise message.
Status read_initiation(Impl& h, ByteView message) {
  const std::size_t expected = h.has_psk() ? neg::kInitiationPskLen : neg::kInitiationLen;
  if (message.size() != neg::kInitiationLen && message.size() != neg::kInitiationPskLen) {
    return fail(Errc::malformed, "initiation of " + std::to_string(message.size()) +
                                     " bytes; expected " + std::to_string(expected));
  }
  if (message[1] != neg::kVersion) {
    return fail(Errc::malformed, "initiation of version " + std::to_string(message[1]) +
                                     "; this library speaks version 1");
  }
  const std::uint8_t flags = message[3];
  if ((flags & ~(neg::kFlagPsk | neg::kFlagRetried)) != 0) {
    return fail(Errc::malformed, "initiation with reserved flag bits set");
  }
  const bool psk = (flags & neg::kFlagPsk) != 0;
  if (psk != h.has_psk()) {
    return fail(Errc::malformed, psk ? "the initiator uses a PSK and none is configured here"
                                     : "the initiator has no PSK and one is configured here");
  }
  if (message.size() != expected) {
    return fail(Errc::malformed, "initiation of " + std::to_string(message.size()) +
                                     " bytes; expected " + std::to_string(expected));
  }
  const bool retried = (flags & neg::kFlagRetried) != 0;
  if (retried != !h.initiation.empty()) {
    return fail(Errc::malformed,
                retried ? "a second attempt, but no retry was sent"
                        : "a first attempt, but a retry was sent: expected the second");
  }
  wire::Offer offer;
  if (wire::parse_offer(message.subspan(4, wire_spec::kOfferSize), offer) !=
          wire::ParseStatus::ok ||
      offer.version != wire_spec::kProtocolVersion) {
    return fail(Errc::malformed, "initiation with a malformed offer");
  }
  const std::uint8_t pick = session::pick_suite(h.policy, offer);
  if (pick == 0) {
    return h.fatal(fail(Errc::negotiation_failed, "no common suite: the initiator offers " +
                                                      neg::suite_list(offer.list()) +
                                                      ", ours are " + neg::suite_list(h.policy)));
  }
  const std::uint8_t suite = message[2];
  if (pick != suite) {
    if (retried) {
      return h.fatal(fail(Errc::negotiation_failed,
                          "the second attempt runs " + neg::suite_list({&suite, 1}) +
                              ", not the suite we picked, " + neg::suite_list({&pick, 1})));
    }
    h.initiation.assign(message.begin(), message.end());
    h.retry_pending = true;
    h.retry_suite = pick;
    h.protocol = std::string(session::suite_protocol(pick, h.has_psk())->name());
    return {};
  }
  neg::Header header{};
  std::copy_n(message.begin(), neg::kHeaderLen, header.begin());
  if (Status s = begin_attempt(h, header); !s) return s;
  Status s = read_noise(h, message.subspan(neg::kHeaderLen), false);
  if (!s && h.phase == Impl::Phase::running) h.hs.reset();  // a forged one: wait for another
  return s;
}

Status read_retry(Impl& h, ByteView message) {
  if (message.size() != neg::kRetryLen || h.hs->message_index() != 1) {
    return fail(Errc::malformed, "a retry of " + std::to_string(message.size()) +
                                     " bytes, or one that comes too late");
  }
  const std::uint8_t suite = message[1];
  if (h.retried) return h.fatal(fail(Errc::negotiation_failed, "a second retry"));
  if (!h.offer.contains(suite) || suite == h.suite || !session::suite_available(suite)) {
    return h.fatal(fail(Errc::negotiation_failed, "the responder's retry names " +
                                                      neg::suite_list({&suite, 1}) +
                                                      ", which is not a suite left in our offer"));
  }
  h.first_hash = neg::first_hash(h.initiation, message);
  return begin_attempt(h, neg::header(suite, flags_of(h, true), h.offer));
}

Status read_negotiated(Impl& h, ByteView message) {
  if (message.empty()) return fail(Errc::malformed, "an empty handshake message");
  const std::uint8_t type = message[0];
  const std::size_t index = h.hs ? h.hs->message_index() : 0;
  if (h.role == Role::responder && !h.hs) {
    if (type != neg::kInitiation) {
      return fail(Errc::malformed,
                  "expected an initiation (type 1), got type " + std::to_string(type));
    }
    return read_initiation(h, message);
  }
  if (h.role == Role::initiator && type == neg::kRetry) return read_retry(h, message);
  const std::uint8_t expected = index == 1 ? neg::kResponse : neg::kFinish;
  if (type != expected) {
    return fail(Errc::malformed, "expected a handshake message of type " +
                                     std::to_string(expected) + ", got type " +
                                     std::to_string(type));
  }
  return read_noise(h, message.subspan(1), true);
}

}  // namespace

Handshake::Handshake() noexcept = default;
Handshake::Handshake(Handshake&&) noexcept = default;
Handshake& Handshake::operator=(Handshake&&) noexcept = default;
Handshake::~Handshake() = default;

Status Handshake::create(const HandshakeOptions& options, Handshake& out) {
  crypto::ensure_sodium();
  out.impl_.reset();
  auto h = std::make_unique<Impl>();
  h->role = options.role;
  h->transport = options.transport;
  h->identity = options.identity.impl_;
  if (options.trust.impl_) h->trust = *options.trust.impl_;
  for (std::size_t i = 0; i < options.psks.size(); ++i) {
    if (!options.psks[i].impl_) {
      return fail(Errc::invalid_argument, "psks[" + std::to_string(i) + "]: empty PSK");
    }
    h->psks.push_back(options.psks[i].impl_);
  }
  h->caller_prologue = options.prologue;
  h->remote_key = options.remote_key;
  if (Status s = options.protocol.empty() ? start_negotiated(*h, options.suites)
                                          : start_fixed(*h, options.protocol);
      !s) {
    return s;
  }
  out.impl_ = std::move(h);
  return {};
}

Handshake::Next Handshake::next() const noexcept {
  if (!impl_) return Next::failed;
  switch (impl_->phase) {
    case Impl::Phase::done:
      return Next::done;
    case Impl::Phase::failed:
    case Impl::Phase::finished:
      return Next::failed;
    case Impl::Phase::running:
      break;
  }
  if (impl_->retry_pending) return Next::write;
  if (!impl_->hs) return Next::read;  // negotiated responder: waiting for an initiation
  switch (impl_->hs->action()) {
    case noise::HandshakeState::Action::write_message:
      return Next::write;
    case noise::HandshakeState::Action::read_message:
      return Next::read;
    case noise::HandshakeState::Action::split:
      return Next::done;
    default:
      return Next::failed;
  }
}

Status Handshake::write(std::vector<std::uint8_t>& message) {
  const Next n = next();
  if (n != Next::write) {
    return fail(Errc::wrong_state, n == Next::read ? "write: it is the peer's turn to send"
                                                   : "write: the handshake is over");
  }
  return impl_->negotiated
             ? write_negotiated(*impl_, message)
             : write_noise(*impl_, {}, our_payload(*impl_, carries_static(*impl_)), message);
}

Status Handshake::read(ByteView message) {
  const Next n = next();
  if (n != Next::read) {
    return fail(Errc::wrong_state,
                n == Next::write ? "read: it is our turn to send" : "read: the handshake is over");
  }
  if (message.size() > noise_spec::kMaxMessageLen + 1) {
    return fail(Errc::malformed, "a handshake message of " + std::to_string(message.size()) +
                                     " bytes: more than any Noise message");
  }
  return impl_->negotiated ? read_negotiated(*impl_, message) : read_noise(*impl_, message, true);
}

Status Handshake::finish(Channel& out) {
  if (next() != Next::done) return fail(Errc::wrong_state, "finish: the handshake is not done");
  auto ch = std::make_unique<Channel::Impl>();
  if (noise::Error e = impl_->hs->split(ch->keys); e != noise::Error::ok) {
    return impl_->fatal(lib::from_noise(e, "finish"));
  }
  ch->role = impl_->role;
  ch->transport = impl_->transport;
  ch->protocol = impl_->protocol;
  ch->remote = impl_->remote;
  out.impl_ = std::move(ch);
  impl_->phase = Impl::Phase::finished;
  impl_->hs.reset();
  return {};
}

std::string Handshake::protocol() const {
  return impl_ ? impl_->protocol : std::string();
}

std::optional<Key> Handshake::remote_key() const {
  if (!impl_ || !impl_->remote) return std::nullopt;
  return impl_->remote->key;
}

}  // namespace gw
