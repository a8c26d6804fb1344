// SPDX-License-Identifier: MIT
// libFuzzer targets for the wire parsers, one binary per parser (chosen by
// GW_FUZZ_PARSER at compile time). A message that parses must be written back
// by its writer to exactly the same bytes: the parser accepts nothing the
// protocol cannot produce.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gw/wire/messages.hpp"
#include "gw/wire/payloads.hpp"

namespace {

using namespace gw::wire;
using Buf = std::vector<std::uint8_t>;

void same(const Buf& written, gw::Bytes original) {
  if (written.size() != original.size() ||
      std::memcmp(written.data(), original.data(), original.size()) != 0) {
    std::abort();
  }
}

// Copies the parts a header writer does not write (Noise message, MACs).
void copy_tail(Buf& out, gw::Bytes original, std::size_t from) {
  std::memcpy(out.data() + from, original.data() + from, original.size() - from);
}

void fuzz_initiation(gw::Bytes d) {
  Initiation m;
  if (parse_initiation(d, m) != ParseStatus::ok) return;
  Buf out(d.size());
  const std::size_t h = write_initiation_header(out, m.fields);
  if (h != m.header.size()) std::abort();
  copy_tail(out, d, h);
  same(out, d);
}

void fuzz_response(gw::Bytes d) {
  Response m;
  if (parse_response(d, m) != ParseStatus::ok) return;
  Buf out(d.size());
  copy_tail(out, d, write_response_header(out, m.sender_index, m.receiver_index));
  same(out, d);
}

void fuzz_finish(gw::Bytes d) {
  Finish m;
  if (parse_finish(d, m) != ParseStatus::ok) return;
  Buf out(d.size());
  copy_tail(out, d, write_finish_header(out, m.receiver_index));
  same(out, d);
}

void fuzz_retry(gw::Bytes d) {
  Retry m;
  if (parse_retry(d, m) != ParseStatus::ok) return;
  Buf out(d.size());
  if (write_retry(out, m.suite, m.receiver_index, m.retry_tag) != d.size()) std::abort();
  std::memcpy(out.data() + 24, m.mac1.data(), m.mac1.size());
  same(out, d);
}

void fuzz_cookie_reply(gw::Bytes d) {
  CookieReply m;
  if (parse_cookie_reply(d, m) != ParseStatus::ok) return;
  Buf out(d.size());
  if (write_cookie_reply(out, m.receiver_index, m.nonce, m.encrypted_cookie) != d.size()) {
    std::abort();
  }
  same(out, d);
}

void fuzz_transport(gw::Bytes d) {
  Transport m;
  if (parse_transport(d, m) != ParseStatus::ok) return;
  Buf out(d.size());
  copy_tail(out, d, write_transport_header(out, m.receiver_index, m.counter));
  same(out, d);
}

void fuzz_offer(gw::Bytes d) {
  Offer o;
  if (parse_offer(d, o) != ParseStatus::ok) return;
  Buf out(d.size());
  if (write_offer(out, o) != d.size()) std::abort();
  same(out, d);
}

void fuzz_extensions(gw::Bytes d) {
  ExtensionList l;
  if (parse_extensions(d, l) != ParseStatus::ok) return;
  Buf out(d.size());
  ExtensionWriter w(out);
  for (const Extension& e : l.view()) {
    if (!w.add(e.type, e.flags, e.value)) std::abort();
  }
  if (w.size() != d.size()) std::abort();
  same(out, d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  GW_FUZZ_PARSER(gw::Bytes(data, size));
  return 0;
}
