#!/usr/bin/env bash
# XMPP export benchmark: wall time and peak RSS of `ferry export xmpp` on a synthetic store, and the time
# a throwaway Prosody (loopback, own config and data dir) needs to load it with OUT/load.sh. Not part of
# the test run.
#
#   bench/xmpp_bench.sh [BUILD_DIR] [MESSAGES] [CHANNELS] [STORE]     defaults: build 200000 4
#   (the 2M-message figure of issue 8: bench/xmpp_bench.sh build 2000000 8)
#
# STORE: an existing store to export instead of generating one (MESSAGES is then only used for the rates;
# CHANNELS is ignored). The binary is copied first, so a rebuild cannot change it under the run.
#
# Needs prosody and lua-dbi-sqlite3 (scripts/setup.sh --test).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
messages=${2:-200000}
channels=${3:-4}
store=${4:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-xmpp-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
[ -x "$build/ferry" ] || { echo "build ferry first (make build)"; exit 2; }
cp "$build/ferry" "$work/ferry"
ferry=$work/ferry

if [ -z "$store" ]; then
  echo "generating $messages messages in $channels channels"
  /usr/bin/python3 bench/gen_dce.py --messages "$messages" --channels "$channels" --out "$work/dce" >/dev/null
  "$ferry" import dce "$work/dce" --store "$work/store.db" --json >/dev/null
  rm -rf "$work/dce"
  store=$work/store.db
fi

/usr/bin/python3 bench/measure.py "$work/export.json" -- \
  "$ferry" export xmpp --store "$store" --domain bench.test --muc-domain rooms.bench.test \
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
rows=$(wc -l <"$work/out/muc/muc_log.tsv")
# Runs load.sh once and prints its counts, wall time, CPU and peak RSS (of that run alone: a fresh Python).
load() {
  /usr/bin/python3 - "$1" "$rows" "$work/out/load.sh" "$work/prosody/bench.cfg.lua" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[3:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
wall = time.monotonic() - t
out = r.stdout.decode("utf-8", "replace")
if r.returncode != 0:
    sys.exit("load.sh failed (%d):\n%s" % (r.returncode, out))
for line in out.splitlines():
    if any(k in line for k in ("rows", "Accounts", "Rooms")) and "history:" not in line:
        print("  " + line.strip())
u = resource.getrusage(resource.RUSAGE_CHILDREN)
rows = int(sys.argv[2])
print("prosody load.sh, %s: %d history rows in %.1f s = %.0f rows/s, CPU %.1f s, peak RSS %.0f MB" % (
    sys.argv[1], rows, wall, rows / wall, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024))
PY
}
load "fresh database"
load "again (everything already there)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
