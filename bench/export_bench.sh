#!/usr/bin/env bash
# Export benchmark: time and peak RSS of `ferry export html` and `ferry export dce`, plus search latency in
# headless Chromium on the HTML archive. Not part of the test run.
#
#   bench/export_bench.sh [BUILD_DIR] [MESSAGES] [CHANNELS] [STORE]     defaults: build 2000000 20
#
# STORE: an existing store to export (MESSAGES and CHANNELS are then ignored), e.g. one the import benchmark
# left; when STORE is given but does not exist yet, the generated store is kept there for the next run.
# Without STORE, the input is generated with bench/gen_dce.py and imported into a temp folder. The archives
# always live in a temp folder that is removed. The binary is copied first, so a rebuild cannot change it
# under the run.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
messages=${2:-2000000}
channels=${3:-20}
store=${4:-}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-export-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
[ -x "$build/ferry" ] || { echo "build ferry first (make build)"; exit 2; }
cp "$build/ferry" "$work/ferry"
ferry=$work/ferry

# Runs a ferry command with --json and prints "<seconds> <peak RSS MB> <messages/s>" of that command alone.
measure() {
  /usr/bin/python3 - "$@" <<'PY'
import json, resource, subprocess, sys, time
t = time.time()
r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)
if r.returncode != 0:
    sys.exit(f"failed ({r.returncode}): {' '.join(sys.argv[1:])}")
t = time.time() - t
lines = r.stdout.decode("utf-8", "replace").strip().splitlines()
try:
    n = json.loads(lines[-1]).get("messages", 0)
except (IndexError, ValueError, AttributeError):
    n = 0
print(f"{t:.1f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} {n / max(t, 0.1):.0f}")
PY
}

if [ -n "$store" ] && [ -f "$store" ]; then
  echo "store: $store (existing)"
else
  [ -n "$store" ] || store=$work/store.db
  echo "generating $messages messages in $channels channels ..."
  /usr/bin/python3 bench/gen_dce.py --messages "$messages" --channels "$channels" --out "$work/dce" >/dev/null
  read -r t rss rate < <(measure "$ferry" import dce "$work/dce" --store "$store" --json)
  echo "import dce:   ${t} s, peak RSS ${rss} MB (for reference)"
  rm -rf "$work/dce"
fi
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
read -r t rss rate < <(measure "$ferry" export html --store "$store" --out "$work/html" --json)
echo "export html:  ${t} s (${rate} msg/s), peak RSS ${rss} MB, $(du -sh "$work/html" | cut -f1) on disk"
read -r t rss rate < <(measure "$ferry" export dce --store "$store" --out "$work/json" --json)
echo "export dce:   ${t} s (${rate} msg/s), peak RSS ${rss} MB, $(du -sh "$work/json" | cut -f1) on disk"
rm -rf "$work/json"
if command -v chromium >/dev/null; then
  /usr/bin/python3 bench/search_latency.py "$work/html"
else
  echo "search latency: skipped (no chromium)"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
