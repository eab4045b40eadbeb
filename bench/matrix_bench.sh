#!/usr/bin/env bash
# Matrix export benchmark: messages/s of `ferry export matrix` against the test homeserver with a fixed
# per-request latency (a stand-in for a real homeserver's round trip), one room at a time vs rooms in
# parallel. Not part of the test run.
#
#   bench/matrix_bench.sh [BUILD_DIR] [MESSAGES] [ROOMS] [LATENCY_MS]     defaults: build 2000 8 20
#
# Needs the build's tests/integration/export_matrix/matrix_fixture_store and python3-aiohttp.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
messages=${2:-2000}
rooms=${3:-8}
latency=${4:-20}
ferry=$(realpath "$build/ferry")
make_store=$(realpath "$build/tests/integration/export_matrix/matrix_fixture_store")
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-matrix-bench.XXXXXX")
hs_pid=""
cleanup() { if [ -n "$hs_pid" ]; then kill "$hs_pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

report() {
  /usr/bin/python3 -c '
import json, sys
s = json.loads(sys.argv[1]); p = sys.argv[2]
secs = s["elapsed_ms"] / 1000
print("--parallel %s: %d messages, %d events, %d requests in %.1f s = %.0f msg/s (%s)"
      % (p, s["sent"], s["events"], s["requests"], secs, s["sent"] / secs, s["status"]))' "$1" "$2"
}

"$ferry" export matrix --write-registration "$work/reg.yaml" --server-name bench.test >/dev/null
echo "latency ${latency} ms per request, ${messages} filler messages over ${rooms} rooms (+ the fixture's 13)"
for parallel in 1 4 8; do
  rm -rf "$work/store.db"* "$work/port"
  "$make_store" "$work/store.db" "$messages" "$rooms" >/dev/null
  /usr/bin/python3 tests/matrix_homeserver/server.py --registration "$work/reg.yaml" --server-name bench.test \
    --port-file "$work/port" --latency-ms "$latency" >/dev/null 2>&1 &
  hs_pid=$!
  for _ in $(seq 100); do if [ -s "$work/port" ]; then break; fi; sleep 0.05; done
  out=$("$ferry" export matrix --store "$work/store.db" --homeserver "http://127.0.0.1:$(cat "$work/port")" \
        --server-name bench.test --registration "$work/reg.yaml" --parallel "$parallel" --json)
  kill "$hs_pid"; wait "$hs_pid" 2>/dev/null || true; hs_pid=""
  report "$out" "$parallel"
done
