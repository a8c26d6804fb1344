// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "gw/wire/payloads.hpp"

using namespace gw::wire;
using namespace gw::wire_spec;
using Buf = std::vector<std::uint8_t>;

TEST_CASE("offer round trip and checks") {
  Offer o;
  o.count = 3;
  o.suites = {2, 1, 3, 0, 0, 0};
  Buf b(kOfferSize);
  REQUIRE(write_offer(b, o) == kOfferSize);
  Offer p;
  REQUIRE(parse_offer(b, p) == ParseStatus::ok);
  CHECK(p.version == 1);
  CHECK(p.count == 3);
  CHECK(p.contains(3));
  CHECK_FALSE(p.contains(4));
  CHECK(p.list().front() == 2);

  struct Case {
    Buf bytes;
    ParseStatus want;
  };
  const Case cases[] = {
      {{1, 0, 0, 0, 0, 0, 0, 0}, ParseStatus::bad_value},         // nothing offered
      {{1, 7, 1, 2, 3, 4, 5, 6}, ParseStatus::bad_value},         // count over 6
      {{1, 2, 1, 1, 0, 0, 0, 0}, ParseStatus::bad_value},         // a suite twice
      {{1, 2, 1, 0, 0, 0, 0, 0}, ParseStatus::bad_value},         // zero in the list
      {{1, 1, 1, 2, 0, 0, 0, 0}, ParseStatus::reserved_nonzero},  // bytes past count
      {{1, 1, 1, 0, 0, 0, 0}, ParseStatus::wrong_size},
      {{1, 1, 1, 0, 0, 0, 0, 0, 0}, ParseStatus::wrong_size},
      {{9, 1, 1, 0, 0, 0, 0, 0}, ParseStatus::ok},  // the version is the caller's to judge
  };
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    CAPTURE(i);
    CHECK(parse_offer(cases[i].bytes, p) == cases[i].want);
  }
}

TEST_CASE("extension list round trip") {
  Buf b(64);
  ExtensionWriter w(b);
  const Buf suites{1, 2}, features{0, 0, 0, 0};
  REQUIRE(w.add(kExtSuites, 0, suites));
  REQUIRE(w.add(kExtFeatures, kExtensionCritical, features));
  REQUIRE(w.add(900, 0, {}));
  ExtensionList l;
  REQUIRE(parse_extensions({b.data(), w.size()}, l) == ParseStatus::ok);
  CHECK(l.count == 3);
  REQUIRE(l.find(kExtSuites) != nullptr);
  CHECK(Buf(l.find(kExtSuites)->value.begin(), l.find(kExtSuites)->value.end()) == suites);
  CHECK(l.find(kExtFeatures)->critical());
  CHECK(l.find(900)->value.empty());
  CHECK(l.find(kExtCertificate) == nullptr);

  Buf empty(2);
  ExtensionWriter e(empty);
  CHECK(e.size() == 2);
  CHECK(parse_extensions({empty.data(), 2}, l) == ParseStatus::ok);
  CHECK(l.count == 0);
  CHECK_FALSE(e.add(1, 0, {}));  // no room
}

TEST_CASE("extension list faults") {
  ExtensionList l;
  struct Case {
    Buf bytes;
    ParseStatus want;
  };
  const Case cases[] = {
      {{}, ParseStatus::wrong_size},
      {{1}, ParseStatus::wrong_size},
      {{2, 0}, ParseStatus::bad_value},                                // version
      {{1, 1}, ParseStatus::wrong_size},                               // entry missing
      {{1, 1, 3, 0, 0, 4, 0, 0}, ParseStatus::wrong_size},             // value cut short
      {{1, 0, 0}, ParseStatus::wrong_size},                            // trailing byte
      {{1, 1, 3, 0, 2, 0, 0}, ParseStatus::reserved_nonzero},          // unknown flag bit
      {{1, 2, 3, 0, 0, 0, 0, 3, 0, 0, 0, 0}, ParseStatus::bad_value},  // a type twice
      {{1, 17}, ParseStatus::bad_value},                               // over the entry limit
  };
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    CAPTURE(i);
    CHECK(parse_extensions(cases[i].bytes, l) == cases[i].want);
  }
}

TEST_CASE("extension lists are checked against the table of defined types") {
  CHECK(std::string(extension_type(kExtCertificate)->name) == "certificate");
  CHECK(std::string(extension_type(kExtSuites)->name) == "suites");
  CHECK(std::string(extension_type(kExtFeatures)->name) == "features");
  CHECK(std::string(extension_type(kExtPadding)->name) == "padding");
  CHECK(extension_type(5) == nullptr);
  CHECK(extension_type(0) == nullptr);

  struct Entry {
    std::uint16_t type;
    bool critical;
    std::size_t length;
  };
  struct Case {
    const char* what;
    std::vector<Entry> entries;
    ExtensionFault fault;
    std::uint16_t type;  // the entry at fault
  };
  const Case cases[] = {
      {"every defined type marked critical",
       {{1, true, 200}, {2, true, 3}, {3, true, 4}, {4, true, 0}},
       ExtensionFault::none,
       0},
      {"an unknown type, not critical, any length",
       {{5, false, 0}, {0x4242, false, 900}},
       ExtensionFault::none,
       0},
      {"an unknown type marked critical",
       {{3, false, 4}, {0x4242, true, 2}},
       ExtensionFault::unknown_critical,
       0x4242},
      {"features of 3 bytes", {{3, false, 3}}, ExtensionFault::wrong_length, 3},
      {"features of 5 bytes", {{3, false, 5}}, ExtensionFault::wrong_length, 3},
      {"features empty", {{3, false, 0}}, ExtensionFault::wrong_length, 3},
      {"suites empty", {{2, false, 0}}, ExtensionFault::wrong_length, 2},
      {"suites of 6 bytes", {{2, false, kMaxOfferedSuites}}, ExtensionFault::none, 0},
      {"suites of 7 bytes", {{2, false, kMaxOfferedSuites + 1}}, ExtensionFault::wrong_length, 2},
      {"certificate empty", {{1, true, 0}}, ExtensionFault::wrong_length, 1},
      {"certificate of 4096 bytes", {{1, false, kMaxCertificateSize}}, ExtensionFault::none, 0},
      {"certificate of 4097 bytes",
       {{1, false, kMaxCertificateSize + 1}},
       ExtensionFault::wrong_length,
       1},
      {"the first fault in list order",
       {{0x4242, true, 1}, {3, false, 3}},
       ExtensionFault::unknown_critical,
       0x4242},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Buf b(8192);
    ExtensionWriter w(b);
    for (const Entry& e : c.entries)
      REQUIRE(w.add(e.type, e.critical ? kExtensionCritical : 0, Buf(e.length, 0x11)));
    ExtensionList l;
    const ExtensionCheck check = read_extensions({b.data(), w.size()}, l);
    CHECK(check.fault == c.fault);
    CHECK(static_cast<bool>(check) == (c.fault == ExtensionFault::none));
    if (c.fault != ExtensionFault::none) CHECK(check.type == c.type);
  }

  // A list that does not parse is refused whole: another version, a type
  // twice, trailing bytes.
  for (const Buf& bad : {Buf{2, 0}, Buf{1, 2, 3, 0, 0, 0, 0, 3, 0, 0, 0, 0}, Buf{1, 0, 0}}) {
    ExtensionList l;
    CHECK(read_extensions(bad, l).fault == ExtensionFault::malformed);
  }
}
