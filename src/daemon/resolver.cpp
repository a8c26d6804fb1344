// SPDX-License-Identifier: MIT
// Endpoint resolution: peers whose endpoint is a DNS name, resolved at start
// (blocking, before the loop runs), then asynchronously when handshakes keep
// failing, at most once per kResolveInterval per peer.
#include <netdb.h>

#include <cstring>

#include "gateway.hpp"

namespace gw::daemon {
namespace {

namespace asio = boost::asio;

constexpr std::chrono::seconds kResolveInterval{5};

Endpoint to_endpoint(const asio::ip::udp::endpoint& ep) {
  const auto addr = ep.address();
  if (addr.is_v4()) return Endpoint::ipv4(addr.to_v4().to_bytes(), ep.port());
  const auto v6 = addr.to_v6();
  if (v6.is_v4_mapped()) {
    return Endpoint::ipv4(asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes(), ep.port());
  }
  return Endpoint::ipv6(v6.to_bytes(), ep.port());
}

std::optional<Endpoint> first_endpoint(const addrinfo* res, std::uint16_t port) {
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
    if (a->ai_family == AF_INET) {
      sockaddr_in sin{};
      std::memcpy(&sin, a->ai_addr, sizeof sin);
      std::array<std::uint8_t, 4> b{};
      std::memcpy(b.data(), &sin.sin_addr, 4);
      return Endpoint::ipv4(b, port);
    }
    if (a->ai_family == AF_INET6) {
      sockaddr_in6 sin6{};
      std::memcpy(&sin6, a->ai_addr, sizeof sin6);
      std::array<std::uint8_t, 16> b{};
      std::memcpy(b.data(), &sin6.sin6_addr, 16);
      return Endpoint::ipv6(b, port);
    }
  }
  return std::nullopt;
}

}  // namespace

void Gateway::resolve_blocking(PeerId id, PeerInfo& info) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(info.host->port);
  const int rc = ::getaddrinfo(info.host->host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    log_.warn("peer " + info.name + ": cannot resolve " + info.host->host + ": " +
              ::gai_strerror(rc) + " (will try again when a handshake is due)");
    return;
  }
  const std::optional<Endpoint> ep = first_endpoint(res, info.host->port);
  ::freeaddrinfo(res);
  if (ep) {
    engine_->set_endpoint(id, *ep);
    log_.info("peer " + info.name + ": " + info.host->host + " is " + ep->to_string());
  }
}

void Gateway::resolve_async(PeerId id) {
  const auto it = peers_.find(id);
  if (it == peers_.end() || !it->second.host || it->second.resolving) return;
  const Instant now = Clock::now();
  if (it->second.last_resolve != Instant{} && now - it->second.last_resolve < kResolveInterval) {
    return;
  }
  it->second.last_resolve = now;
  it->second.resolving = true;
  resolver_.async_resolve(it->second.host->host, std::to_string(it->second.host->port),
                          [this, id](const boost::system::error_code& ec,
                                     const asio::ip::udp::resolver::results_type& results) {
                            const auto p = peers_.find(id);
                            if (p == peers_.end()) return;
                            p->second.resolving = false;
                            if (ec || results.empty()) {
                              log_.warn("peer " + p->second.name + ": cannot resolve " +
                                        p->second.host->host + ": " +
                                        (ec ? ec.message() : std::string("no address")));
                              return;
                            }
                            const Endpoint ep = to_endpoint(results.begin()->endpoint());
                            const auto before = engine_->endpoint(id);
                            if (before == ep) return;
                            log_.info("peer " + p->second.name + ": " + p->second.host->host +
                                      " is now " + ep.to_string());
                            engine_->set_endpoint(id, ep);
                            if (!before && p->second.keepalive) {
                              // Resolved at last: start the session it would have had.
                              now_ = Clock::now();
                              engine_->initiate(now_, id);
                              after_engine();
                            }
                          });
}

}  // namespace gw::daemon
