#!/usr/bin/env bash
# Import benchmark: generates a synthetic DCE export (default 2M messages), imports it with
# `ferry import dce`, then runs the naive Python baseline (bench/naive_import.py) on the same files,
# and prints messages/s, MB/s and peak RSS of both, and the ratio.
#
#   bench/import_bench.sh [BUILD_DIR] [MESSAGES] [CHANNELS]
# Inputs are cached in bench/out/ (regenerated when the size changes). Not part of the test run.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-2000000}
C=${3:-8}
FERRY=$BUILD/ferry
OUT=bench/out
IN=$OUT/dce-$N-$C
mkdir -p "$OUT"
[ -x "$FERRY" ] || { echo "build ferry first (make build)"; exit 2; }
if [ ! -f "$IN/.done" ]; then
  rm -rf "$IN"
  echo "generating $N messages in $C channels into $IN ..."
  /usr/bin/python3 bench/gen_dce.py --messages "$N" --channels "$C" --out "$IN" --seed 1
  touch "$IN/.done"
fi
bytes=$(du -sb --exclude='*_Files' "$IN" | cut -f1)
rm -f "$OUT/bench.db" "$OUT/bench.db-wal" "$OUT/bench.db-shm"; rm -rf "$OUT/bench.db.blobs"
sync
echo "ferry import dce ($((bytes / 1000000)) MB of JSON) ..."
/usr/bin/python3 bench/measure.py "$OUT/ferry.json" -- "$FERRY" import dce "$IN" --store "$OUT/bench.db" --json
# Search on the imported store: a word in about a third of the messages, a rarer one, a miss.
/usr/bin/python3 - "$FERRY" "$OUT/bench.db" <<'PY'
import subprocess, sys, time
for words in ("hello", "shard gateway", "zzzznotthere"):
    best = None
    for _ in range(3):
        t = time.time()
        subprocess.run([sys.argv[1], "search", "--store", sys.argv[2], "--json", words], check=True, stdout=subprocess.DEVNULL)
        best = min(best or 1e9, time.time() - t)
    print(f"ferry search {words!r:<18} {best * 1000:7.1f} ms (best of 3, whole command)")
PY
echo "naive python (json.load + sqlite3 executemany) ..."
/usr/bin/python3 bench/measure.py "$OUT/naive.json" -- /usr/bin/python3 bench/naive_import.py "$OUT/naive.db" "$IN" || true
/usr/bin/python3 - "$OUT/ferry.json" "$OUT/naive.json" "$N" "$bytes" <<'PY'
import json, sys
f, nv = (json.load(open(p)) for p in sys.argv[1:3])
n, b = int(sys.argv[3]), int(sys.argv[4])
def row(name, r):
    ok = r["rc"] == 0
    print(f"{name:<28} {r['wall_s']:8.1f} s  {n / r['wall_s']:10.0f} msg/s  {b / r['wall_s'] / 1e6:7.1f} MB/s  "
          f"peak RSS {r['peak_rss_mb']:7.1f} MB{'' if ok else '  (FAILED rc=%d)' % r['rc']}")
print(f"\ninput: {n} messages, {b / 1e6:.0f} MB of DCE JSON")
row("ferry import dce", f)
row("naive python baseline", nv)
if nv["rc"] == 0:
    print(f"speed-up: {nv['wall_s'] / f['wall_s']:.1f}x")
PY
