#!/usr/bin/env bash
# The whole test suite, as CI runs it: sets up the Python reader HMT uses (py-http-types
# 0.0.18) in .venv for the real-client check, then tests, lints, checks formatting, and runs
# every fuzz target under libFuzzer for WIRECAP_FUZZ_SECONDS each (10; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads the terminal; CI gives no standard input at all.
exec </dev/null

if ! .venv/bin/python -c 'import http_types, jsonschema, rfc3339_validator' 2>/dev/null; then
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check \
    http-types==0.0.18 jsonschema rfc3339-validator
fi
export WIRECAP_PYTHON="$PWD/.venv/bin/python"

# The fuzz smoke (its own build, then every target for a few seconds) runs beside the tests
# and lints, which leave a core idle for much of their time; its output comes at the end.
cargo test --locked --no-run
fuzz_secs=${WIRECAP_FUZZ_SECONDS:-10}
fuzz_log=$(mktemp)
fuzz_pid=
trap '[ -z "$fuzz_pid" ] || kill -- -"$fuzz_pid" 2> /dev/null; rm -f "$fuzz_log"' EXIT
if [ "$fuzz_secs" != 0 ]; then
  setsid fuzz/smoke.sh "$fuzz_secs" > "$fuzz_log" 2>&1 &
  fuzz_pid=$!
fi

cargo test --locked
# A lint fails the run, and so does a clippy that cannot start: lints that did not run are
# not a pass.
cargo clippy --locked --all-targets -- -D warnings
cargo fmt --check

if [ -n "$fuzz_pid" ]; then
  fuzz_status=0
  wait "$fuzz_pid" || fuzz_status=$?
  fuzz_pid=
  cat "$fuzz_log"
  exit $fuzz_status
fi
