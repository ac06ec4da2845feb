#!/usr/bin/env bash
# ctest run_sh_demo_test (issue 17, defect 13): `./run.sh demo` builds only the `sessionring`
# program (target sessionring_cli), never the test suite or the benchmarks, while
# `./run.sh test` still builds everything. Runs a copy of run.sh with cmake, dpkg-query and the
# program replaced by stubs that log how they were called.
# usage: run_sh_demo_test.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sessionring-runsh-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "run_sh_demo_test: $*" >&2; exit 1; }

mkdir -p "$tmp/repo/build/tools" "$tmp/bin"
cp "$src/run.sh" "$tmp/repo/run.sh"
cat > "$tmp/bin/cmake" <<STUB
#!/usr/bin/env bash
echo "cmake \$*" >> "$tmp/calls"
STUB
cat > "$tmp/bin/dpkg-query" <<'STUB'
#!/usr/bin/env bash
echo "install ok installed"
STUB
cat > "$tmp/bin/ctest" <<STUB
#!/usr/bin/env bash
echo "ctest \$*" >> "$tmp/calls"
STUB
cat > "$tmp/repo/build/tools/sessionring" <<STUB
#!/usr/bin/env bash
echo "sessionring \$*" >> "$tmp/calls"
STUB
chmod +x "$tmp/bin/"* "$tmp/repo/build/tools/sessionring"

PATH="$tmp/bin:$PATH" "$tmp/repo/run.sh" demo --events 1000 2>/dev/null
cat "$tmp/calls"
builds=$(grep -c '^cmake --build' "$tmp/calls")
[ "$builds" = 1 ] || fail "demo ran $builds builds"
grep -q '^cmake --build build -j [0-9]* --target sessionring_cli$' "$tmp/calls" ||
    fail "demo's build is not limited to the sessionring_cli target"
grep -q '^sessionring demo --events 1000$' "$tmp/calls" || fail "demo did not run the program with its arguments"

: > "$tmp/calls"
PATH="$tmp/bin:$PATH" "$tmp/repo/run.sh" test 2>/dev/null
cat "$tmp/calls"
grep -q '^cmake --build build -j [0-9]*$' "$tmp/calls" || fail "test does not build every target"
grep -q '^ctest ' "$tmp/calls" || fail "test did not run ctest"
echo "run_sh_demo_test: ok"
