#!/usr/bin/env python3
"""Runs a command and prints its wall time and peak RSS as JSON on stderr's last line.

usage: measure.py OUT.json -- command args...
Peak RSS is the child's ru_maxrss (the largest resident set of the process tree's biggest process).
"""
import json
import resource
import subprocess
import sys
import time

out = sys.argv[1]
assert sys.argv[2] == "--"
cmd = sys.argv[3:]
t0 = time.monotonic()
proc = subprocess.run(cmd, stdout=subprocess.PIPE)
wall = time.monotonic() - t0
rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(out, "w") as f:
    json.dump({"wall_s": wall, "peak_rss_mb": rss_kb / 1024.0, "rc": proc.returncode,
               "stdout": proc.stdout.decode("utf-8", "replace")[-20000:]}, f)
sys.exit(proc.returncode)
