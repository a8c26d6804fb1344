#!/usr/bin/env bash
# Fails when a C++ file in the tree differs from what clang-format makes of it
# (the committed .clang-format), naming each such file.
set -euo pipefail
root=${1:?usage: check_format.sh SOURCE_ROOT}
cd "$root"
mapfile -t files < <(find include src tests bench examples -type f \( -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "check_format: no C++ files found under $root" >&2
  exit 1
fi
bad=0
for f in "${files[@]}"; do
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
echo "check_format: ${#files[@]} files, $bad not formatted"
[ "$bad" -eq 0 ]
