#!/usr/bin/env bash
# ctest event_input_rejects_temporaries: the control build of event_input_temporary.cpp compiles,
# and assigning a temporary std::string to each byte field of EventInput fails to compile with
# a "deleted" diagnostic (not some other error).
# usage: run.sh CXX INCLUDE_DIR
set -uo pipefail
cxx=$1 include=$2
src=$(dirname "$0")/event_input_temporary.cpp
flags=(-std=c++20 -fsyntax-only -Wall -Wextra -I"$include")
"$cxx" "${flags[@]}" -DSESSIONRING_CONTROL "$src" || { echo "FAIL: the control (zero-copy uses) does not compile"; exit 1; }
for field in data metadata run_id id correlation_id provider; do
    if out=$("$cxx" "${flags[@]}" -DFIELD="$field" "$src" 2>&1); then
        echo "FAIL: e.$field = std::string(...) compiles"; exit 1
    fi
    grep -q "deleted" <<<"$out" || { echo "FAIL: e.$field: failed for another reason:"; echo "$out"; exit 1; }
    echo "ok: e.$field = std::string(...) is rejected (use of deleted function)"
done
