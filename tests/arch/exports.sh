#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every global symbol libvouch defines begins with vouch_: the rest is
# static, so a program linking the library sees only the names it is
# meant to use, and a helper's name can never collide with a caller's.
#   usage: tests/arch/exports.sh LIBVOUCH.a
# TAP output: one case for the library, with the offending names.
set -euo pipefail
lib=${1:?usage: tests/arch/exports.sh LIBVOUCH.a}
echo "1..1"
bad=$(nm -g --defined-only "$lib" | awk 'NF == 3 && $3 !~ /^vouch_/ { print $3 }' | sort -u)
if [ -z "$bad" ]; then
  echo "ok 1 - every global symbol of $(basename "$lib") begins with vouch_"
else
  echo "not ok 1 - $(echo "$bad" | wc -l) global symbols of $(basename "$lib") lack the vouch_ prefix"
  echo "$bad" | sed 's/^/#   /'
fi
