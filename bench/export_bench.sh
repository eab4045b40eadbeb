#!/usr/bin/env bash
# Export benchmark: time and peak RSS of `ferry export html` and `ferry export dce` on a generated store,
# plus search latency in headless Chromium on the HTML archive. Not part of the test run.
#
#   bench/export_bench.sh [BUILD_DIR] [MESSAGES] [CHANNELS]     defaults: build 2000000 20
#
# Needs bench/gen_dce.py (synthetic DCE export); the store and archives live in a temp folder that is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
messages=${2:-2000000}
channels=${3:-20}
ferry=$(realpath "$build/ferry")
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-export-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Runs a command and prints "<seconds> <peak RSS MB>" of that command alone.
measure() {
  /usr/bin/python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.time()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
if r.returncode != 0:
    sys.exit(f"failed ({r.returncode}): {' '.join(sys.argv[1:])}")
print(f"{time.time() - t:.1f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f}")
PY
}

echo "generating $messages messages in $channels channels ..."
/usr/bin/python3 bench/gen_dce.py --messages "$messages" --channels "$channels" --out "$work/dce"
read -r t rss < <(measure "$ferry" import dce "$work/dce" --store "$work/store.db" --json)
echo "import dce:   ${t} s, peak RSS ${rss} MB (for reference)"
rm -rf "$work/dce"
read -r t rss < <(measure "$ferry" export html --store "$work/store.db" --out "$work/html" --json)
echo "export html:  ${t} s, peak RSS ${rss} MB, $(du -sh "$work/html" | cut -f1) on disk"
read -r t rss < <(measure "$ferry" export dce --store "$work/store.db" --out "$work/json" --json)
echo "export dce:   ${t} s, peak RSS ${rss} MB, $(du -sh "$work/json" | cut -f1) on disk"
if command -v chromium >/dev/null; then
  /usr/bin/python3 bench/search_latency.py "$work/html"
fi
