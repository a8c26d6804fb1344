// SPDX-License-Identifier: MIT
// noise-vectors [-v] FILE...: replays cacophony-format Noise test vectors.
// Prints every failure, with -v every skipped vector and why, and ends with
// "N passed, M failed, S skipped". Exits non-zero on any failure, on a file
// that cannot be read, or when nothing passed.
#include <cstdio>
#include <string>
#include <vector>

#include "vector_file.hpp"

int main(int argc, char** argv) {
  bool verbose = false;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-v" || arg == "--verbose") {
      verbose = true;
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: noise-vectors [-v] FILE...\n");
      return 0;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "noise-vectors: unknown option '%s'\n", arg.c_str());
      return 2;
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: noise-vectors [-v] FILE...\n");
    return 2;
  }

  std::size_t passed = 0, failed = 0, skipped = 0;
  for (const std::string& path : files) {
    const gw::vectors::VectorFile file = gw::vectors::load_vector_file(path);
    if (!file.error.empty()) {
      std::printf("FAIL %s: %s\n", path.c_str(), file.error.c_str());
      ++failed;
      continue;
    }
    std::size_t file_passed = 0, file_failed = 0, file_skipped = 0;
    for (const gw::vectors::Vector& v : file.vectors) {
      const gw::vectors::ReplayResult r = gw::vectors::replay(v);
      switch (r.outcome) {
        case gw::vectors::Outcome::pass:
          ++file_passed;
          break;
        case gw::vectors::Outcome::fail:
          ++file_failed;
          std::printf("FAIL %s #%zu %s: %s\n", path.c_str(), v.index, v.protocol_name.c_str(),
                      r.reason.c_str());
          break;
        case gw::vectors::Outcome::skip:
          ++file_skipped;
          if (verbose) {
            std::printf("SKIP %s #%zu %s: %s\n", path.c_str(), v.index, v.protocol_name.c_str(),
                        r.reason.c_str());
          }
          break;
      }
    }
    std::printf("%s: %zu passed, %zu failed, %zu skipped\n", path.c_str(), file_passed, file_failed,
                file_skipped);
    passed += file_passed;
    failed += file_failed;
    skipped += file_skipped;
  }
  std::printf("%zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
  return failed == 0 && passed > 0 ? 0 : 1;
}
