// SPDX-License-Identifier: MIT
#include "gw/routing/allowed_ips.hpp"

#include <algorithm>
#include <bit>
#include <utility>

namespace gw::routing {

struct AllowedIps::Node {
  std::array<std::uint8_t, 16> bits{};  // masked to `length`
  std::uint8_t length = 0;
  bool has_value = false;
  Value value = 0;
  std::array<std::unique_ptr<Node>, 2> child;
};

namespace {

using Node = AllowedIps::Node;
using Value = AllowedIps::Value;

constexpr std::size_t kIpv4MinHeader = 20;
constexpr std::size_t kIpv6Header = 40;

// ---- bit helpers (addresses are big-endian bit strings) ----

unsigned bit_at(const std::uint8_t* a, unsigned i) noexcept {
  return (a[i / 8] >> (7 - i % 8)) & 1u;
}

// How many leading bits `a` and `b` share, at most `limit`.
unsigned common_bits(const std::uint8_t* a, const std::uint8_t* b, unsigned limit) noexcept {
  for (unsigned byte = 0; byte * 8 < limit; ++byte) {
    const auto diff = static_cast<std::uint8_t>(a[byte] ^ b[byte]);
    if (diff != 0) {
      return std::min(limit, byte * 8 + static_cast<unsigned>(std::countl_zero(diff)));
    }
  }
  return limit;
}

void mask_bits(std::array<std::uint8_t, 16>& a, unsigned length) noexcept {
  for (unsigned byte = length / 8; byte < a.size(); ++byte) {
    const unsigned keep = byte * 8 < length ? length - byte * 8 : 0;  // 0..7 here
    a[byte] = static_cast<std::uint8_t>(a[byte] & ~(0xffu >> keep));
  }
}

// ---- text ----

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

int hex_value(char c) noexcept {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Dotted quad, exactly four decimal octets without leading zeros.
bool parse_v4(std::string_view s, std::uint8_t* out) noexcept {
  std::size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
    const std::size_t start = i;
    unsigned v = 0;
    while (i < s.size() && is_digit(s[i]) && i - start < 3) {
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
      ++i;
    }
    const std::size_t digits = i - start;
    if (digits == 0 || v > 255 || (digits > 1 && s[start] == '0')) return false;
    out[part] = static_cast<std::uint8_t>(v);
  }
  return i == s.size();
}

// Fills `groups`; `count` groups were written, the "::" gap (if any) sits
// before group `gap`. False on any syntax error.
bool parse_v6_groups(std::string_view s, std::array<std::uint16_t, 8>& groups, int& count,
                     int& gap) noexcept {
  std::size_t i = 0;
  if (s.starts_with("::")) {
    gap = 0;
    i = 2;
    if (i == s.size()) return true;
  }
  while (true) {
    const std::size_t start = i;
    unsigned v = 0;
    while (i < s.size() && hex_value(s[i]) >= 0 && i - start < 4) {
      v = v << 4 | static_cast<unsigned>(hex_value(s[i]));
      ++i;
    }
    if (i < s.size() && s[i] == '.') {  // an IPv4 tail ends the address
      std::array<std::uint8_t, 4> quad{};
      if (count > 6 || !parse_v4(s.substr(start), quad.data())) return false;
      groups[static_cast<std::size_t>(count++)] =
          static_cast<std::uint16_t>(quad[0] << 8 | quad[1]);
      groups[static_cast<std::size_t>(count++)] =
          static_cast<std::uint16_t>(quad[2] << 8 | quad[3]);
      return true;
    }
    if (i == start || count == 8) return false;
    groups[static_cast<std::size_t>(count++)] = static_cast<std::uint16_t>(v);
    if (i == s.size()) return true;
    if (s[i] != ':') return false;
    ++i;
    if (i < s.size() && s[i] == ':') {
      if (gap >= 0) return false;
      gap = count;
      ++i;
      if (i == s.size()) return true;
    } else if (i == s.size()) {
      return false;  // a single trailing colon
    }
  }
}

bool parse_v6(std::string_view s, std::uint8_t* out) noexcept {
  std::array<std::uint16_t, 8> groups{};
  int count = 0;
  int gap = -1;
  if (!parse_v6_groups(s, groups, count, gap)) return false;
  std::array<std::uint16_t, 8> full{};
  if (gap < 0) {
    if (count != 8) return false;
    full = groups;
  } else {
    if (count > 7) return false;  // "::" stands for at least one group
    const int tail = count - gap;
    for (int k = 0; k < gap; ++k)
      full[static_cast<std::size_t>(k)] = groups[static_cast<std::size_t>(k)];
    for (int k = 0; k < tail; ++k) {
      full[static_cast<std::size_t>(8 - tail + k)] = groups[static_cast<std::size_t>(gap + k)];
    }
  }
  for (std::size_t k = 0; k < 8; ++k) {
    out[2 * k] = static_cast<std::uint8_t>(full[k] >> 8);
    out[2 * k + 1] = static_cast<std::uint8_t>(full[k] & 0xff);
  }
  return true;
}

// Decimal 0..max, no sign, no leading zero (except "0" itself).
std::optional<unsigned> parse_length(std::string_view s, unsigned max) noexcept {
  if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

void append_v6(std::string& out, const std::array<std::uint8_t, 16>& a) {
  std::array<unsigned, 8> g{};
  for (std::size_t k = 0; k < 8; ++k)
    g[k] = static_cast<unsigned>(a[2 * k] << 8 | a[2 * k + 1]);
  // RFC 5952: the longest run of two or more zero groups (the first on a tie) becomes "::".
  std::size_t best_at = 8, best_len = 0;
  for (std::size_t k = 0; k < 8;) {
    std::size_t run = 0;
    while (k + run < 8 && g[k + run] == 0)
      ++run;
    if (run >= 2 && run > best_len) {
      best_at = k;
      best_len = run;
    }
    k += run == 0 ? 1 : run;
  }
  constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t k = 0; k < 8; ++k) {
    if (k == best_at) {
      out += "::";
      k += best_len - 1;
      continue;
    }
    if (k > 0 && k != best_at + best_len) out += ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nibble = (g[k] >> shift) & 0xfu;
      if (nibble != 0 || started || shift == 0) {
        out += kHex[nibble];
        started = true;
      }
    }
  }
}

// ---- packets ----

// The source or destination address field of an inner IP packet, or an
// empty view when the version nibble or the header length is wrong.
Bytes address_field(Bytes packet, bool destination) noexcept {
  if (packet.empty()) return {};
  const unsigned version = packet[0] >> 4;
  if (version == 4 && packet.size() >= kIpv4MinHeader) {
    return packet.subspan(destination ? 16 : 12, 4);
  }
  if (version == 6 && packet.size() >= kIpv6Header) {
    return packet.subspan(destination ? 24 : 8, 16);
  }
  return {};
}

// ---- trie ----

std::unique_ptr<Node> make_node(const std::array<std::uint8_t, 16>& bits, unsigned length) {
  auto n = std::make_unique<Node>();
  n->bits = bits;
  n->length = static_cast<std::uint8_t>(length);
  return n;
}

std::unique_ptr<Node> make_leaf(const Prefix& p, Value value) {
  auto n = make_node(p.address, p.length);
  n->has_value = true;
  n->value = value;
  return n;
}

// Keeps the invariant that a node without a value has two children.
void compact(std::unique_ptr<Node>& slot) noexcept {
  Node* n = slot.get();
  if (n == nullptr || n->has_value || (n->child[0] && n->child[1])) return;
  std::unique_ptr<Node> only = std::move(n->child[n->child[0] ? 0 : 1]);
  slot = std::move(only);
}

// `p` is masked. Returns true when a new prefix was added (not a replacement).
bool insert_into(std::unique_ptr<Node>& root, const Prefix& p, Value value) {
  const std::uint8_t* key = p.address.data();
  const unsigned len = p.length;
  std::unique_ptr<Node>* slot = &root;
  while (true) {
    Node* n = slot->get();
    if (n == nullptr) {
      *slot = make_leaf(p, value);
      return true;
    }
    const unsigned common = common_bits(n->bits.data(), key, std::min<unsigned>(n->length, len));
    if (common == n->length) {
      if (n->length == len) {  // the same prefix: replace
        const bool added = !n->has_value;
        n->has_value = true;
        n->value = value;
        return added;
      }
      slot = &n->child[bit_at(key, n->length)];
      continue;
    }
    // `n` does not cover `p`: a new node goes above it, either `p` itself
    // (when `p` covers `n`) or a valueless fork where the two first differ.
    std::unique_ptr<Node> above;
    if (common == len) {
      above = make_leaf(p, value);
    } else {
      std::array<std::uint8_t, 16> fork = p.address;
      mask_bits(fork, common);
      above = make_node(fork, common);
      above->child[bit_at(key, common)] = make_leaf(p, value);
    }
    above->child[bit_at(n->bits.data(), common)] = std::move(*slot);
    *slot = std::move(above);
    return true;
  }
}

bool remove_from(std::unique_ptr<Node>& slot, const Prefix& p) noexcept {
  Node* n = slot.get();
  if (n == nullptr || n->length > p.length ||
      common_bits(n->bits.data(), p.address.data(), n->length) != n->length) {
    return false;
  }
  bool found = false;
  if (n->length == p.length) {
    found = n->has_value;
    n->has_value = false;
  } else {
    found = remove_from(n->child[bit_at(p.address.data(), n->length)], p);
  }
  if (found) compact(slot);
  return found;
}

std::size_t remove_value_from(std::unique_ptr<Node>& slot, Value value) noexcept {
  if (!slot) return 0;
  std::size_t count =
      remove_value_from(slot->child[0], value) + remove_value_from(slot->child[1], value);
  if (slot->has_value && slot->value == value) {
    slot->has_value = false;
    ++count;
  }
  compact(slot);
  return count;
}

void collect(const Node* n, Family family, Value value, std::vector<Prefix>& out) {
  if (n == nullptr) return;
  if (n->has_value && n->value == value) out.push_back(Prefix{family, n->bits, n->length});
  collect(n->child[0].get(), family, value, out);
  collect(n->child[1].get(), family, value, out);
}

// A value other than `except` on a node whose prefix shares an address with
// `p` (one contains the other): the subtrees that cannot overlap are skipped.
std::optional<Value> first_overlap(const Node* n, const Prefix& p, Value except) noexcept {
  if (n == nullptr) return std::nullopt;
  const unsigned shorter = std::min<unsigned>(n->length, p.length);
  if (common_bits(n->bits.data(), p.address.data(), shorter) != shorter) return std::nullopt;
  if (n->has_value && n->value != except) return n->value;
  for (const auto& c : n->child) {
    if (const auto v = first_overlap(c.get(), p, except)) return v;
  }
  return std::nullopt;
}

std::optional<Value> longest_match(const Node* n, const std::uint8_t* address,
                                   unsigned width) noexcept {
  std::optional<Value> best;
  while (n != nullptr && common_bits(n->bits.data(), address, n->length) == n->length) {
    if (n->has_value) best = n->value;
    if (n->length >= width) break;
    n = n->child[bit_at(address, n->length)].get();
  }
  return best;
}

}  // namespace

// ---- Prefix ----

std::optional<Prefix> Prefix::parse(std::string_view text) noexcept {
  Prefix p;
  const std::size_t slash = text.find('/');
  const std::string_view addr = text.substr(0, slash);
  if (addr.find(':') != std::string_view::npos) {
    p.family = Family::v6;
    if (!parse_v6(addr, p.address.data())) return std::nullopt;
  } else if (!parse_v4(addr, p.address.data())) {
    return std::nullopt;
  }
  const unsigned width = address_bits(p.family);
  unsigned length = width;
  if (slash != std::string_view::npos) {
    const auto parsed = parse_length(text.substr(slash + 1), width);
    if (!parsed) return std::nullopt;
    length = *parsed;
  }
  p.length = static_cast<std::uint8_t>(length);
  return p;
}

std::optional<Prefix> Prefix::from_bytes(Bytes address, unsigned length) noexcept {
  Prefix p;
  if (address.size() == 4) {
    p.family = Family::v4;
  } else if (address.size() == 16) {
    p.family = Family::v6;
  } else {
    return std::nullopt;
  }
  if (length > address_bits(p.family)) return std::nullopt;
  std::copy(address.begin(), address.end(), p.address.begin());
  p.length = static_cast<std::uint8_t>(length);
  return p;
}

std::string Prefix::to_string() const {
  std::string out;
  if (family == Family::v4) {
    for (std::size_t k = 0; k < 4; ++k) {
      if (k > 0) out += '.';
      out += std::to_string(address[k]);
    }
  } else {
    append_v6(out, address);
  }
  out += '/';
  out += std::to_string(length);
  return out;
}

Prefix Prefix::masked() const noexcept {
  Prefix p = *this;
  mask_bits(p.address, length);
  return p;
}

bool Prefix::contains(Bytes addr) const noexcept {
  if (addr.size() * 8 != address_bits(family)) return false;
  return common_bits(address.data(), addr.data(), length) == length;
}

bool Prefix::overlaps(const Prefix& other) const noexcept {
  if (family != other.family) return false;
  const unsigned shorter = std::min(length, other.length);
  return common_bits(address.data(), other.address.data(), shorter) == shorter;
}

// ---- AllowedIps ----

AllowedIps::AllowedIps() = default;
AllowedIps::~AllowedIps() = default;
AllowedIps::AllowedIps(AllowedIps&&) noexcept = default;
AllowedIps& AllowedIps::operator=(AllowedIps&&) noexcept = default;

void AllowedIps::insert(const Prefix& prefix, Value value) {
  const Prefix p = prefix.masked();
  if (insert_into(p.family == Family::v4 ? v4_ : v6_, p, value)) ++size_;
}

bool AllowedIps::remove(const Prefix& prefix) {
  const Prefix p = prefix.masked();
  const bool found = remove_from(p.family == Family::v4 ? v4_ : v6_, p);
  if (found) --size_;
  return found;
}

std::size_t AllowedIps::remove_value(Value value) {
  const std::size_t count = remove_value_from(v4_, value) + remove_value_from(v6_, value);
  size_ -= count;
  return count;
}

std::optional<AllowedIps::Value> AllowedIps::lookup(Bytes address) const noexcept {
  if (address.size() == 4) return longest_match(v4_.get(), address.data(), 32);
  if (address.size() == 16) return longest_match(v6_.get(), address.data(), 128);
  return std::nullopt;
}

std::optional<AllowedIps::Value> AllowedIps::lookup_destination(Bytes packet) const noexcept {
  return lookup(address_field(packet, true));
}

bool AllowedIps::source_allowed(Bytes packet, Value value) const noexcept {
  return lookup(address_field(packet, false)) == value;
}

std::optional<Value> AllowedIps::overlapping(const Prefix& prefix, Value except) const noexcept {
  const Prefix p = prefix.masked();
  return first_overlap((p.family == Family::v4 ? v4_ : v6_).get(), p, except);
}

std::vector<Prefix> AllowedIps::entries(Value value) const {
  std::vector<Prefix> out;
  collect(v4_.get(), Family::v4, value, out);
  collect(v6_.get(), Family::v6, value, out);
  return out;
}

void AllowedIps::clear() noexcept {
  v4_.reset();
  v6_.reset();
  size_ = 0;
}

}  // namespace gw::routing
