#!/usr/bin/env bash
# XMPP export benchmark: wall time and peak RSS of `ferry export xmpp` on a synthetic store, and the time
# a throwaway Prosody (loopback, own config and data dir) needs to load it with OUT/load.sh. Not part of
# the test run.
#
#   bench/xmpp_bench.sh [BUILD_DIR] [MESSAGES] [CHANNELS]     defaults: build 200000 4
#   (the 2M-message figure of issue 8: bench/xmpp_bench.sh build 2000000 8)
#
# Needs prosody and lua-dbi-sqlite3 (scripts/setup.sh --test).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
messages=${2:-200000}
channels=${3:-4}
ferry=$(realpath "$build/ferry")
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-xmpp-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "generating $messages messages in $channels channels"
/usr/bin/python3 bench/gen_dce.py --messages "$messages" --channels "$channels" --out "$work/dce" >/dev/null
"$ferry" import dce "$work/dce" --store "$work/store.db" --json >/dev/null

/usr/bin/python3 bench/measure.py "$work/export.json" -- \
  "$ferry" export xmpp --store "$work/store.db" --domain bench.test --muc-domain rooms.bench.test \
  --out "$work/out" --password-mode none --json >/dev/null
/usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
print("export xmpp: %d messages in %.1f s = %.0f msg/s, peak RSS %.0f MB" % (
    int(sys.argv[2]), m["wall_s"], int(sys.argv[2]) / m["wall_s"], m["peak_rss_mb"]))' \
  "$work/export.json" "$messages" 2>/dev/null || cat "$work/export.json"
du -sh "$work/out" | sed 's/^/export size: /'

mkdir -p "$work/prosody/data" "$work/prosody/certs"
cat >"$work/prosody/bench.cfg.lua" <<CFG
run_as_root = true
pidfile = "$work/prosody/prosody.pid"
data_path = "$work/prosody/data"
certificates = "$work/prosody/certs"
storage = "sql"
sql = { driver = "SQLite3", database = "prosody.sqlite" }
archive_expires_after = "never"
log = { { levels = { min = "warn" }, to = "file", filename = "$work/prosody/prosody.log" } }
VirtualHost "bench.test"
Component "rooms.bench.test" "muc"
  modules_enabled = { "muc_mam" }
  muc_log_expires_after = "never"
CFG
start=$(date +%s.%N)
"$work/out/load.sh" "$work/prosody/bench.cfg.lua" >"$work/load.log" 2>&1 || { cat "$work/load.log"; exit 1; }
end=$(date +%s.%N)
grep -E "rows|Accounts|Rooms" "$work/load.log"
/usr/bin/python3 -c 'import sys; s=float(sys.argv[2])-float(sys.argv[1]); print("prosody load.sh: %.1f s = %.0f rows/s" % (s, int(sys.argv[3])/s))' \
  "$start" "$end" "$messages"
