// SPDX-License-Identifier: MIT
// A full tunnel's nftables table and the src_valid_mark sysctl
// (gw/platform/nft.hpp): the ruleset as text, handed to libnftables.
#include "gw/platform/nft.hpp"

#include <fcntl.h>
#include <nftables/libnftables.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace gw::platform {

namespace {

constexpr const char* kSrcValidMark = "/proc/sys/net/ipv4/conf/all/src_valid_mark";

std::string hex(std::uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", v);
  return text;
}

// "10.77.0.1/24" -> "10.77.0.1": the interface's own address.
std::string host_address(const routing::Prefix& p) {
  const std::string text = p.to_string();
  return text.substr(0, text.find('/'));
}

// nft's error report without the caret lines that point into the input:
// its first line, without "Error: ".
std::string first_error_line(const char* buffer) {
  std::string text = buffer != nullptr ? buffer : "";
  text = text.substr(0, text.find('\n'));
  if (text.rfind("Error: ", 0) == 0) text.erase(0, 7);
  return text.empty() ? "failed, no reason given" : text;
}

}  // namespace

std::string nft_table_name(const std::string& interface) {
  return "gw-" + interface;
}

std::string full_tunnel_ruleset(const FullTunnelFilter& f) {
  const std::string mark = hex(f.fwmark);
  std::ostringstream out;
  out << "table inet " << nft_table_name(f.interface) << " {\n";
  out << "  chain preraw {\n"
         "    type filter hook prerouting priority raw; policy accept;\n";
  for (const routing::Prefix& a : f.addresses) {
    out << "    iifname != \"" << f.interface << "\" "
        << (a.family == routing::Family::v4 ? "ip" : "ip6") << " daddr " << host_address(a)
        << " fib saddr type != local drop\n";
  }
  out << "  }\n";
  out << "  chain premangle {\n"
         "    type filter hook prerouting priority mangle; policy accept;\n"
         "    meta l4proto udp ct mark "
      << mark
      << " meta mark set ct mark\n"
         "  }\n";
  out << "  chain postmangle {\n"
         "    type filter hook postrouting priority mangle; policy accept;\n"
         "    meta l4proto udp meta mark "
      << mark
      << " ct mark set meta mark\n"
         "  }\n";
  out << "}\n";
  return out.str();
}

Nft::Nft() : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
  if (ctx_ == nullptr) throw NftError("nftables: cannot create a libnftables context");
  if (nft_ctx_buffer_output(ctx_) != 0 || nft_ctx_buffer_error(ctx_) != 0) {
    nft_ctx_free(ctx_);
    throw NftError("nftables: cannot buffer libnftables' output");
  }
}

Nft::~Nft() {
  nft_ctx_free(ctx_);
}

void Nft::run(const std::string& commands, const std::string& what) {
  const int rc = nft_run_cmd_from_buffer(ctx_, commands.c_str());
  nft_ctx_get_output_buffer(ctx_);  // reading a buffer empties it for the next command
  const std::string error = first_error_line(nft_ctx_get_error_buffer(ctx_));
  if (rc != 0) throw NftError("nftables: " + what + ": " + error);
}

bool Nft::has_table(const std::string& name) {
  const int rc = nft_run_cmd_from_buffer(ctx_, "list tables inet");
  const std::string listing = nft_ctx_get_output_buffer(ctx_);
  const std::string error = first_error_line(nft_ctx_get_error_buffer(ctx_));
  if (rc != 0) throw NftError("nftables: list tables: " + error);
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    if (line == "table inet " + name) return true;
  }
  return false;
}

void Nft::install(const FullTunnelFilter& filter) {
  const std::string table = "inet " + nft_table_name(filter.interface);
  // "add" makes the table if it is missing, so that "delete" cannot fail:
  // one transaction replaces whatever an earlier run left.
  run("add table " + table + "\ndelete table " + table + "\n" + full_tunnel_ruleset(filter),
      "add the full tunnel's table " + table);
}

void Nft::remove_table(const std::string& name) {
  run("delete table inet " + name, "delete table inet " + name);
}

bool enable_src_valid_mark() {
  const auto fail = [](const char* what) {
    return std::runtime_error(std::string(what) + " " + kSrcValidMark + ": " +
                              std::strerror(errno));
  };
  char value = 0;
  int fd = ::open(kSrcValidMark, O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail("open");
  const ssize_t n = ::read(fd, &value, 1);
  ::close(fd);
  if (n != 1) {
    if (n == 0) errno = EIO;
    throw fail("read");
  }
  if (value == '1') return false;
  fd = ::open(kSrcValidMark, O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw fail("open");
  const ssize_t w = ::write(fd, "1\n", 2);
  const int saved = w < 0 ? errno : EIO;
  ::close(fd);
  errno = saved;
  if (w != 2) throw fail("write");
  return true;
}

}  // namespace gw::platform
