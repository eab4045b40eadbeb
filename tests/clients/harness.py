#!/usr/bin/python3
"""Runs one real-client suite (discord.py or discord.js) against a freshly started `ferry serve`.

    harness.py --lib py|js --ferry build/ferry [--fixtures fixtures/dce/sample] [--spec openapi.json]

Steps: import the DCE sample into a temporary store, create bots A (administrator), B (a member with plain
read/send rights: the receiver of every event) and C (--permissions 0, for the denial), start `ferry serve` on a free
loopback port and the OpenAPI proxy in front of it, write the suite's config (ports, tokens, and the expectations
read from the fixture and the store), run the suite, then fail if the suite failed or any REST body violated its
OpenAPI schema. Everything started here is killed on every exit path.
"""
import argparse
import atexit
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SUITE_TIMEOUT_S = 130

# Permission bits (Discord's names).
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
READ_MESSAGE_HISTORY = 1 << 16

procs = []
tmpdirs = []


def cleanup():
    for p in reversed(procs):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.time() + 5
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
    procs.clear()
    if os.environ.get("FERRY_KEEP_TMP"):
        return
    for d in tmpdirs:
        shutil.rmtree(d, ignore_errors=True)


def on_signal(signum, _frame):
    cleanup()
    sys.exit(128 + signum)


def start(cmd, log_path, env=None):
    log = open(log_path, "wb")
    # Own process group: the cleanup kills the whole tree, never anything this harness did not start.
    p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    procs.append(p)
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, what, log_path, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            fail_setup(f"{what} exited with {proc.returncode} before answering", log_path)
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is listening
        except OSError:
            time.sleep(0.1)
    fail_setup(f"{what} did not answer {url} within {timeout}s", log_path)


def tail(path, n=60):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError:
        return "(no log)"


def fail_setup(msg, log_path=None):
    print(f"FAIL setup: {msg}")
    if log_path:
        print(f"--- {log_path} (last lines) ---\n{tail(log_path)}")
    print("0 passed, 1 failed")
    cleanup()
    sys.exit(1)


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        fail_setup(f"{what} exited {r.returncode}: {' '.join(cmd)}\nstdout: {r.stdout[-2000:]}\n"
                   f"stderr: {r.stderr[-2000:]}")
    return r.stdout


def u64(v):
    return None if v is None else (v + 2**64 if v < 0 else v)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def load_fixture(fixtures):
    """Every DCE channel document under `fixtures`, with local media resolved to their bytes' sha256."""
    docs = []
    for path in sorted(glob.glob(os.path.join(fixtures, "**", "*.json"), recursive=True)):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (ValueError, UnicodeDecodeError):
            continue  # a deliberately truncated export, say: not useful as an expectation
        if not isinstance(doc, dict) or "messages" not in doc or "channel" not in doc:
            continue
        base = os.path.dirname(path)
        for m in doc["messages"]:
            for a in m.get("attachments", []):
                local = a.get("url", "")
                if local and "://" not in local:
                    p = os.path.join(base, local.replace("\\", "/"))
                    if os.path.isfile(p):
                        a["_sha256"] = sha256_file(p)
                        a["_size"] = os.path.getsize(p)
        docs.append(doc)
    return docs


def message_expectation(m):
    ref = m.get("reference")
    return {
        "id": m["id"],
        "type": m.get("type"),
        "author_id": m["author"]["id"],
        "author_name": m["author"].get("name"),
        "timestamp": m["timestamp"],
        "edited_timestamp": m.get("timestampEdited"),
        "content": m.get("content", ""),
        "pinned": bool(m.get("isPinned")),
        "attachments": [{"id": a["id"], "filename": a.get("fileName"), "size": a.get("fileSizeBytes"),
                         "sha256": a.get("_sha256")} for a in m.get("attachments", [])],
        "reactions": [{"emoji_id": (r["emoji"].get("id") or None), "emoji_name": r["emoji"].get("name"),
                       "count": r.get("count")} for r in m.get("reactions", [])],
        "reference": ({"message_id": ref.get("messageId"), "channel_id": ref.get("channelId")}
                      if ref and ref.get("messageId") else None),
    }


def build_config(args, tmp, store, ports, tokens, bot_ids):
    docs = load_fixture(args.fixtures)
    if not docs:
        fail_setup(f"no DCE channel documents under {args.fixtures}")
    guild_ids = {d["guild"]["id"] for d in docs if d["guild"]["id"] != "0"}
    # The guild with the most exported messages is the one the scenarios use.
    counts = {}
    for d in docs:
        counts[d["guild"]["id"]] = counts.get(d["guild"]["id"], 0) + len(d["messages"])
    guild_id = max(guild_ids, key=lambda g: counts[g])
    gdocs = [d for d in docs if d["guild"]["id"] == guild_id]

    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    g = db.execute("SELECT name FROM guilds WHERE id = ?", (int(guild_id),)).fetchone()
    if g is None:
        fail_setup(f"guild {guild_id} of the fixture is not in the imported store")
    channels = [{"id": str(u64(r[0])), "type": r[1], "name": r[2], "parent_id": str(u64(r[3])) if r[3] else None}
                for r in db.execute("SELECT id, type, name, parent_id FROM channels WHERE guild_id = ?",
                                    (int(guild_id),))]
    roles = [{"id": str(u64(r[0])), "name": r[1], "managed": bool(r[2])}
             for r in db.execute("SELECT id, name, managed FROM roles WHERE guild_id = ?", (int(guild_id),))]
    db.close()

    # Channels as the fixture names them (the store may know more, e.g. parents).
    fixture_channels = {d["channel"]["id"]: d["channel"] for d in gdocs}
    text_docs = [d for d in gdocs if d["channel"].get("type") == "GuildTextChat"]
    if not text_docs:
        fail_setup("the fixture guild has no text channel export")
    history = max(text_docs, key=lambda d: len(d["messages"]))
    # Writes (and public threads, which announcement channels don't take) go to another plain text channel when
    # there is one, so paging sees the imported history untouched; the denial goes to a third channel if any.
    others = [d["channel"]["id"] for d in text_docs if d is not history]
    write_channel = others[0] if others else history["channel"]["id"]
    spare = [d["channel"]["id"] for d in gdocs if d["channel"].get("type") in ("GuildTextChat", "GuildNews")
             and d["channel"]["id"] not in (write_channel, history["channel"]["id"])]
    deny_channel = spare[0] if spare else history["channel"]["id"]
    messages = sorted((message_expectation(m) for m in history["messages"]), key=lambda m: int(m["id"]))
    # Attachments may live in any exported channel: the CDN check downloads up to 10 of them.
    with_files = [dict(message_expectation(m), channel_id=d["channel"]["id"])
                  for d in gdocs for m in d["messages"] if m.get("attachments")][:10]
    fixture_roles = {}
    for d in gdocs:
        for m in d["messages"]:
            for r in m["author"].get("roles", []):
                fixture_roles[r["id"]] = r["name"]

    ferry_base = f"http://127.0.0.1:{ports['ferry']}"
    return {
        "api": f"http://127.0.0.1:{ports['proxy']}/api",
        "api_v10": f"http://127.0.0.1:{ports['proxy']}/api/v10",
        "gateway": f"ws://127.0.0.1:{ports['ferry']}/",
        "ferry": ferry_base,
        "cdn": f"{ferry_base}/cdn",
        "tokens": tokens,
        "bot_ids": bot_ids,
        "guild": {"id": guild_id, "name": g[0], "fixture_name": history["guild"]["name"]},
        "store_channels": channels,
        "store_roles": roles,
        "fixture_channels": [{"id": c["id"], "name": c.get("name"), "type": c.get("type")}
                             for c in fixture_channels.values()],
        "fixture_roles": [{"id": k, "name": v} for k, v in sorted(fixture_roles.items())],
        "history_channel": history["channel"]["id"],
        "write_channel": write_channel,
        "deny_channel": deny_channel,
        "messages": messages,
        "attachment_messages": with_files,
        "upload_bytes_path": os.path.join(tmp, "upload.bin"),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", choices=("py", "js"), required=True)
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "fixtures", "dce", "sample"))
    ap.add_argument("--spec", default=os.path.join(ROOT, "third_party", "discord-api-spec", "openapi.json"))
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    atexit.register(cleanup)
    t0 = time.time()

    if args.lib == "js" and not os.path.isdir(os.path.join(HERE, "js", "node_modules", "discord.js")):
        fail_setup("discord.js is not installed: run scripts/setup.sh --test (npm ci in tests/clients/js)")
    if not os.path.isfile(args.spec):
        fail_setup(f"OpenAPI description not found at {args.spec}")

    tmp = tempfile.mkdtemp(prefix=f"ferry-clients-{args.lib}-")
    tmpdirs.append(tmp)
    store = os.path.join(tmp, "s.db")
    run([args.ferry, "import", "dce", args.fixtures, "--store", store], "ferry import dce")

    tokens, bot_ids = {}, {}
    perms = {"A": ADMINISTRATOR, "B": VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | ADD_REACTIONS, "C": 0}
    for name, p in perms.items():
        out = run([args.ferry, "bot", "create", "--store", store, "--name", f"{args.lib}-bot-{name}",
                   "--permissions", str(p)], f"ferry bot create {name}")
        lines = out.splitlines()
        if len(lines) != 1 or not lines[0].strip():
            fail_setup(f"`ferry bot create` must print only the token, printed {out!r}")
        tokens[name] = lines[0].strip()
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    for name in perms:
        row = db.execute("SELECT user_id FROM bots WHERE name = ?", (f"{args.lib}-bot-{name}",)).fetchone()
        bot_ids[name] = str(u64(row[0])) if row else None
    db.close()

    ports = {"ferry": free_port(), "proxy": free_port()}
    ferry_log = os.path.join(tmp, "ferry.log")
    ferry = start([args.ferry, "serve", "--store", store, "--listen", f"127.0.0.1:{ports['ferry']}"], ferry_log)
    wait_http(f"http://127.0.0.1:{ports['ferry']}/api/v10/gateway", ferry, "ferry serve", ferry_log)
    proxy_log = os.path.join(tmp, "proxy.log")
    report_path = os.path.join(tmp, "openapi-report.json")
    proxy = start(["/usr/bin/python3", os.path.join(HERE, "openapi_proxy.py"), "--spec", args.spec,
                   "--upstream", f"http://127.0.0.1:{ports['ferry']}", "--listen", f"127.0.0.1:{ports['proxy']}",
                   "--report", report_path], proxy_log)
    wait_http(f"http://127.0.0.1:{ports['proxy']}/_proxy/report", proxy, "openapi proxy", proxy_log)

    config = build_config(args, tmp, store, ports, tokens, bot_ids)
    with open(config["upload_bytes_path"], "wb") as f:
        f.write(bytes(range(256)) * 40 + "ferry ✓ upload\n".encode())  # binary, not valid UTF-8 as a whole
    config_path = os.path.join(tmp, "config.json")
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=1)
    setup_s = time.time() - t0

    if args.lib == "py":
        cmd = ["/usr/bin/python3", os.path.join(HERE, "py", "suite.py"), config_path]
    else:
        cmd = ["node", os.path.join(HERE, "js", "suite.js"), config_path]
    suite = subprocess.Popen(cmd, start_new_session=True)
    procs.append(suite)
    try:
        rc = suite.wait(SUITE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        print(f"FAIL suite: did not finish within {SUITE_TIMEOUT_S}s")
        rc = 1

    # The OpenAPI verdict covers every REST exchange the suite made.
    try:
        report = json.loads(urllib.request.urlopen(
            f"http://127.0.0.1:{ports['proxy']}/_proxy/report", timeout=10).read())
    except OSError as e:
        report = {"requests": 0, "violations": 1, "failing_exchanges": [{"violations": [f"no report: {e}"]}]}
    if report["violations"]:
        print(f"FAIL openapi: {report['violations']} violation(s) in {len(report['failing_exchanges'])} of "
              f"{report['requests']} REST responses")
        seen = set()
        for e in report["failing_exchanges"]:
            key = (e.get("method"), e.get("operation"), tuple(v[:120] for v in e["violations"]))
            if key in seen:
                continue  # one example per distinct failure keeps the report readable
            seen.add(key)
            print(f"  {e.get('method')} {e.get('path')}{'?' + e['query'] if e.get('query') else ''} "
                  f"-> {e.get('status')} [{e.get('operation')}]")
            for v in e["violations"]:
                print(f"    - {v}")
            if e.get("request_body"):
                print(f"    request:  {e['request_body'][:600]}")
            if e.get("response_body"):
                print(f"    response: {e['response_body'][:1200]}")
    else:
        print(f"PASS openapi: all {report['requests']} REST responses valid "
              f"({len(report.get('operations', []))} operations)")
    ok = rc == 0 and not report["violations"]
    if not ok:
        print(f"--- ferry serve log (last lines) ---\n{tail(ferry_log, 40)}")
    print(f"{args.lib} suite: {'PASS' if ok else 'FAIL'} (setup {setup_s:.1f}s, total {time.time() - t0:.1f}s)")
    cleanup()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
