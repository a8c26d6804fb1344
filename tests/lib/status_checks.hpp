// SPDX-License-Identifier: MIT
// Checks of a gw::Status for the libgw tests: doctest prints an Errc by its
// name, and a failure must come with a message of one non-empty line.
#pragma once

#include <string>

#include <doctest/doctest.h>

#include "gw/gw.hpp"

namespace gw {
// doctest prints an Errc by its name (found by argument-dependent lookup).
inline doctest::String toString(Errc e) {
  return to_string(e);
}
}  // namespace gw

// The code of a Status, and on failure a message that is one non-empty line.
#define CHECK_STATUS(expr, want)                              \
  do {                                                        \
    const gw::Status status_ = (expr);                        \
    INFO("status message: ", status_.message);                \
    CHECK(status_.code == (want));                            \
    if (!status_.ok()) {                                      \
      CHECK_FALSE(status_.message.empty());                   \
      CHECK(status_.message.find('\n') == std::string::npos); \
    }                                                         \
  } while (false)

#define REQUIRE_OK(expr)                       \
  do {                                         \
    const gw::Status status_ = (expr);         \
    INFO("status message: ", status_.message); \
    REQUIRE(status_.code == gw::Errc::ok);     \
  } while (false)
