#!/usr/bin/python3
"""Benchmark of `ferry serve` (not part of the test run). Prints the issue's figures:

  POST message and GET 50 messages: throughput, p50/p99 at 1 and 16 connections (wrk)
  POST -> MESSAGE_CREATE latency at the first and the last of 100 gateway sessions
  idle RSS, and RSS per idle gateway session at 1,000 sessions

Usage: bench/serve_bench.py [FERRY_BINARY] [--seconds N]
Runs on a store imported from fixtures/dce/sample, with --no-rate-limits (the limits would cap one bot).
"""
import json, os, re, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "compat_core"))
FERRY = next((a for a in sys.argv[1:] if not a.startswith("--")), os.path.join(ROOT, "build", "ferry"))
SECONDS = int(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 5
sys.argv = [sys.argv[0], FERRY, ROOT]  # test_serve reads its own argv at import
import test_serve  # noqa: E402  (the minimal WebSocket client)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def wrk(url, token, conns, script=None):
    args = ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{SECONDS}s", "--latency",
            "-H", f"Authorization: Bot {token}", url]
    if script:
        args[1:1] = ["-s", script]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, pct(50), pct(99), int(non2xx.group(1)) if non2xx else 0


def main():
    tmp = tempfile.mkdtemp(prefix="ferry-serve-bench-")
    server = None
    try:
        store = os.path.join(tmp, "bench.db")
        subprocess.run([FERRY, "import", "dce", os.path.join(ROOT, "fixtures", "dce", "sample"), "--store", store],
                       check=True, capture_output=True)
        token = subprocess.run([FERRY, "bot", "create", "--store", store, "--name", "Bench", "--permissions", "8"],
                               check=True, capture_output=True, text=True).stdout.strip()
        server = subprocess.Popen([FERRY, "serve", "--store", store, "--listen", "127.0.0.1:0", "--json",
                                   "--no-rate-limits", "--max-connections", "5000"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        info = json.loads(server.stdout.readline())
        port = int(info["listen"].rsplit(":", 1)[1])
        base = f"http://127.0.0.1:{port}/api/v10"
        time.sleep(0.5)
        idle_rss = rss_kb(server.pid)

        ws = test_serve.WS(port, "v=10&encoding=json")
        ws.recv()
        ws.send({"op": 2, "d": {"token": token, "intents": 3276799, "properties": {}}})
        ready = ws.recv_until(lambda p: p.get("t") == "READY")
        gc = ws.recv()
        channel = next(c["id"] for c in gc["d"]["channels"] if c["type"] == 0)
        ws.close()

        lua = os.path.join(tmp, "post.lua")
        with open(lua, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = \'{"content": "benchmark message"}\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n')
        print(f"ferry serve benchmark ({SECONDS}s per wrk run, store: fixtures/dce/sample)")
        for conns in (1, 16):
            rps, p50, p99, bad = wrk(f"{base}/channels/{channel}/messages", token, conns, lua)
            print(f"POST message      c={conns:<3} {rps:9.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  non-2xx {bad}")
            rps, p50, p99, bad = wrk(f"{base}/channels/{channel}/messages?limit=50", token, conns)
            print(f"GET 50 messages   c={conns:<3} {rps:9.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  non-2xx {bad}")

        # POST -> MESSAGE_CREATE at the first and last of 100 sessions
        sessions = []
        for _ in range(100):
            w = test_serve.WS(port, "v=10&encoding=json")
            w.recv()
            w.send({"op": 2, "d": {"token": token, "intents": 513 | (1 << 15), "properties": {}}})
            w.recv_until(lambda p: p.get("t") == "GUILD_CREATE")
            for _ in range(len(ready["d"]["guilds"]) - 1):
                w.recv()
            sessions.append(w)
        first, last = [], []
        for i in range(50):
            body = json.dumps({"content": f"latency {i}"}).encode()
            req = urllib.request.Request(f"{base}/channels/{channel}/messages", data=body, method="POST",
                                         headers={"Authorization": f"Bot {token}", "Content-Type": "application/json"})
            t0 = time.perf_counter()
            urllib.request.urlopen(req).read()
            for w, acc in ((sessions[0], first), (sessions[-1], last)):
                w.recv_until(lambda p: p.get("t") == "MESSAGE_CREATE")
                acc.append((time.perf_counter() - t0) * 1000)
            for w in sessions[1:-1]:  # drain
                w.recv_until(lambda p: p.get("t") == "MESSAGE_CREATE")
        q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(len(xs) * p))]
        print(f"POST->MESSAGE_CREATE first session p50 {q(first, .5):.2f} ms p99 {q(first, .99):.2f} ms; "
              f"last of 100 p50 {q(last, .5):.2f} ms p99 {q(last, .99):.2f} ms (includes the POST round trip)")
        for w in sessions:
            w.close()
        time.sleep(1)

        before = rss_kb(server.pid)
        idle = []
        for _ in range(1000):
            w = test_serve.WS(port, "v=10&encoding=json")
            w.recv()
            w.send({"op": 2, "d": {"token": token, "intents": 513, "properties": {}}})
            w.recv_until(lambda p: p.get("t") == "GUILD_CREATE")
            idle.append(w)
        time.sleep(1)
        after = rss_kb(server.pid)
        print(f"idle RSS {idle_rss / 1024:.1f} MB; RSS per idle gateway session at 1,000 sessions "
              f"{(after - before) / 1000:.1f} KB")
        for w in idle:
            w.sock.close()
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
