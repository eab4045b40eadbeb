#!/usr/bin/python3
"""`ferry export matrix` against the project's strict test homeserver, read back through the Matrix API.

  full    export the fixture guild, check senders, times, order, relations, media, state; rerun sends nothing
  resume  kill -9 in the middle, rerun with lost responses and 502s injected: no duplicates, no gaps
  storm   429 storms (M_LIMIT_EXCEEDED with retry_after_ms) are waited out; nothing lost or doubled
  holes   a homeserver refusing one author: failures listed with Discord ids, exit 1, never "complete";
          the rerun sends exactly the missing messages
  tls     HTTPS: an untrusted certificate or a wrong host name stops the export; a trusted one works
  dce     the DCE sample (fixtures/dce/sample) imported with `ferry import dce`, exported, read back

Environment: FERRY, MAKE_STORE, HOMESERVER (server.py).
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

FERRY = os.environ["FERRY"]
MAKE_STORE = os.environ["MAKE_STORE"]
HOMESERVER = os.environ["HOMESERVER"]
SERVER_NAME = "example.org"
BASE_MS = 1577836800000
EPOCH = 1420070400000


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def sf_time(sid):
    return (int(sid) >> 22) + EPOCH


def at(minute, inc=0):
    return str(((BASE_MS + minute * 60000 - EPOCH) << 22) + inc)


def ghost(uid):
    return "@discord_%s:%s" % (uid, SERVER_NAME)


class Homeserver:
    def __init__(self, tmp, registration, *args):
        self.port_file = os.path.join(tmp, "hs.port")
        self.log = open(os.path.join(tmp, "hs.log"), "w")
        self.proc = subprocess.Popen([sys.executable, HOMESERVER, "--registration", registration, "--server-name",
                                      SERVER_NAME, "--port-file", self.port_file] + list(args),
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(self.port_file):
                break
            if self.proc.poll() is not None:
                fail("test homeserver exited: " + open(os.path.join(tmp, "hs.log")).read())
            time.sleep(0.05)
        else:
            fail("test homeserver did not start")
        self.url = "http://127.0.0.1:" + open(self.port_file).read().strip()
        with open(registration) as f:
            self.token = yaml.safe_load(f)["as_token"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def request(self, method, path, params=None, body=None, raw=False):
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": "Bearer " + self.token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                payload = r.read()
                return payload if raw else json.loads(payload)
        except urllib.error.HTTPError as e:
            fail("%s %s -> %d %s" % (method, path, e.code, e.read()[:300]))

    def get(self, path, **params):
        return self.request("GET", path, params or None)

    def stats(self):
        return self.get("/_test/stats")

    def configure(self, **cfg):
        return self.request("POST", "/_test/config", body=cfg)

    def rooms(self):
        return {r["name"]: r for r in self.get("/_test/rooms")}

    def timeline(self, room_id):
        out, token = [], None
        while True:
            params = {"dir": "f", "limit": "100"}
            if token:
                params["from"] = token
            page = self.get("/_matrix/client/v3/rooms/%s/messages" % urllib.parse.quote(room_id, safe=""), **params)
            out.extend(page["chunk"])
            if not page["chunk"] or "end" not in page:
                return out
            token = page["end"]

    def state(self, room_id):
        return self.get("/_matrix/client/v3/rooms/%s/state" % urllib.parse.quote(room_id, safe=""))

    def relations(self, room_id, event_id, rel_type):
        return self.get("/_matrix/client/v1/rooms/%s/relations/%s/%s" % (
            urllib.parse.quote(room_id, safe=""), urllib.parse.quote(event_id, safe=""), rel_type), dir="f")["chunk"]


def run_export(tmp, hs, *extra, check_rc=None):
    cmd = [FERRY, "export", "matrix", "--store", os.path.join(tmp, "store.db"), "--homeserver", hs.url,
           "--server-name", SERVER_NAME, "--registration", os.path.join(tmp, "reg.yaml"), "--json"] + list(extra)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=100)
    if check_rc is not None and p.returncode != check_rc:
        fail("export exit %d (wanted %d)\nstdout: %s\nstderr: %s" % (p.returncode, check_rc, p.stdout, p.stderr[-3000:]))
    try:
        summary = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        fail("no JSON summary: %r / %s" % (p.stdout, p.stderr[-2000:]))
    return p.returncode, summary


def setup(tmp, filler):
    out = subprocess.run([MAKE_STORE, os.path.join(tmp, "store.db"), str(filler)], capture_output=True, text=True)
    check(out.returncode == 0, "make_store failed: " + out.stderr)
    ids = json.loads(out.stdout)
    reg = os.path.join(tmp, "reg.yaml")
    p = subprocess.run([FERRY, "export", "matrix", "--write-registration", reg, "--server-name", SERVER_NAME],
                       capture_output=True, text=True)
    check(p.returncode == 0, "--write-registration failed: " + p.stderr)
    check(oct(os.stat(reg).st_mode & 0o777) == "0o600", "registration must be private (0600)")
    p = subprocess.run([FERRY, "export", "matrix", "--write-registration", reg, "--server-name", SERVER_NAME],
                       capture_output=True, text=True)
    check(p.returncode != 0 and "already exists" in p.stderr, "must refuse to overwrite a registration")
    return ids


def main_events(timeline):
    """Discord message id -> list of (index, event) for every event that carries one (not edits/reactions)."""
    out = {}
    for i, ev in enumerate(timeline):
        c = ev.get("content", {})
        if ev["type"] == "m.room.message" and "org.ferry.discord_message_id" in c and \
                (c.get("m.relates_to") or {}).get("rel_type") != "m.replace":
            out.setdefault(c["org.ferry.discord_message_id"], []).append((i, ev))
    return out


def check_no_duplicates_no_gaps(hs, rooms, expected_general_ids, ordered=True):
    """Every txn marker once per room; every general message once, in snowflake order, with its own time."""
    for name, r in rooms.items():
        seen = {}
        for ev in hs.timeline(r["room_id"]):
            txn = ev.get("content", {}).get("org.ferry.txn")
            if txn:
                check(txn not in seen, "duplicate event for %s in %s" % (txn, name))
                seen[txn] = ev["event_id"]
    tl = hs.timeline(rooms["general"]["room_id"])
    mains = main_events(tl)
    top = [(i, ev) for i, ev in enumerate(tl) if ev["type"] == "m.room.message" and
           ev["content"].get("org.ferry.txn", "").startswith("ferry.m.") and
           (ev["content"].get("m.relates_to") or {}).get("rel_type") is None]
    got = [ev["content"]["org.ferry.discord_message_id"] for _, ev in top]
    missing = [x for x in expected_general_ids if x not in mains]
    check(not missing, "messages missing from #general: %s" % missing[:10])
    check(not ordered or got == sorted(got, key=int), "#general is not in Discord order")
    for _, ev in top:
        check(ev["origin_server_ts"] == sf_time(ev["content"]["org.ferry.discord_message_id"]),
              "event ts is not the original time: %s" % ev)


def test_full(tmp):
    ids = setup(tmp, 0)
    hs = Homeserver(tmp, os.path.join(tmp, "reg.yaml"))
    try:
        # Dry run: plan only, nothing on the server.
        rc, plan = run_export(tmp, hs, "--dry-run", check_rc=0)
        check(plan["plan"]["to_send"] == 13, "dry-run to_send: %s" % plan["plan"])
        check(plan["plan"]["attachments_missing"] == 1, "dry-run missing attachments")
        check(hs.stats()["events"] == 0, "dry run must not send anything")

        rc, s = run_export(tmp, hs, check_rc=0)
        check(s["status"] == "complete" and s["failed"] == 0, "summary: %s" % s)
        check(s["sent"] == 12 and s["skipped_other"] == 1, "sent/skipped: %s" % s)
        check(s["private_threads_skipped"] == 1, "private thread must be left out")
        check(s["media_missing"] == 1 and s["uploads"] >= 2, "media counts: %s" % s)

        rooms = hs.rooms()
        for name in ("Ferry Test Guild", "Text Channels", "general", "secret", "help-forum"):
            check(name in rooms, "room %r missing: %s" % (name, list(rooms)))
        check(rooms["Ferry Test Guild"]["type"] == "m.space" and rooms["Text Channels"]["type"] == "m.space",
              "guild and category must be spaces")
        space, cat = rooms["Ferry Test Guild"]["room_id"], rooms["Text Channels"]["room_id"]
        general, secret, forum = rooms["general"]["room_id"], rooms["secret"]["room_id"], rooms["help-forum"]["room_id"]

        # Space structure both ways, with order.
        children = {e["state_key"]: e["content"] for e in hs.state(space) if e["type"] == "m.space.child"}
        check(cat in children and forum in children, "guild space children: %s" % children)
        children = {e["state_key"]: e["content"] for e in hs.state(cat) if e["type"] == "m.space.child"}
        check(general in children and secret in children, "category children")
        check(children[general]["order"] < children[secret]["order"], "channel order not kept")
        st = {(e["type"], e["state_key"]): e["content"] for e in hs.state(general)}
        check(("m.space.parent", cat) in st, "general has no m.space.parent")
        check(st[("m.room.topic", "")]["topic"] == "General chat", "topic")
        pl = st[("m.room.power_levels", "")]["users"]
        check(pl.get(ghost(1002)) == 100 and pl.get(ghost(1003)) == 50 and pl.get(ghost(1001)) == 100,
              "power levels for admin/mod/owner: %s" % pl)
        sst = {(e["type"], e["state_key"]): e["content"] for e in hs.state(secret)}
        check(sst[("m.room.join_rules", "")]["join_rule"] == "invite", "private channel must be invite-only")

        tl = hs.timeline(general)
        mains = main_events(tl)
        ev = lambda sid: mains[sid][0][1]
        m1, m2, m3, m4, m5, m6, m7 = at(1), at(2), at(3), at(4), at(7), at(8), at(9)
        check(ev(m1)["sender"] == ghost(1001) and ev(m1)["origin_server_ts"] == sf_time(m1), "m1 sender/ts")
        check("<strong>world</strong>" in ev(m1)["content"]["formatted_body"], "markdown -> HTML")
        check(general in ev(m1)["content"]["formatted_body"], "channel mention links the room")
        c2 = ev(m2)["content"]
        check(ev(m2)["sender"] == ghost(1002), "m2 sender")
        check(c2["m.relates_to"]["m.in_reply_to"]["event_id"] == ev(m1)["event_id"], "reply relation")
        check("https://matrix.to/#/" + ghost(1001) in c2["formatted_body"] and ghost(1001) in c2["m.mentions"]["user_ids"],
              "mention pill")
        check(c2["body"] == "hi <@1001> \U0001F44B", "body must be the Discord content exactly")
        reactions = hs.relations(general, ev(m2)["event_id"], "m.annotation")
        got = sorted((r["sender"], r["content"]["m.relates_to"]["key"]) for r in reactions)
        bot = "@discord_ferry:" + SERVER_NAME
        want = sorted([(ghost(1001), "\U0001F44D"), (ghost(1003), "\U0001F44D"), (bot, "\U0001F44D"),
                       (ghost(1004), ":partyblob:")])
        check(got == want, "reactions: %s" % got)
        check([r for r in reactions if r["sender"] == bot][0]["content"]["org.ferry.count"] == 1, "unknown reactor count")
        # Attachments: one uploaded (bytes round-trip), one stated as missing.
        parts = [e for _, e in mains[m3]]
        img = [e for e in parts if e["content"]["msgtype"] == "m.image"]
        check(len(img) == 1 and img[0]["content"]["info"]["w"] == 640, "image event: %s" % parts)
        server, media = img[0]["content"]["url"][len("mxc://"):].split("/", 1)
        data = hs.request("GET", "/_matrix/client/v1/media/download/%s/%s" % (server, media), raw=True)
        check(data == b"\x89PNG\r\n\x1a\n" + b"x" * 3000, "uploaded bytes differ")
        notice = [e for e in parts if e["content"]["msgtype"] == "m.notice"]
        check(len(notice) == 1 and "notes.pdf" in notice[0]["content"]["body"] and "120.6 KB" in notice[0]["content"]["body"],
              "missing attachment notice: %s" % parts)
        # Thread from a message: root is that message, replies are m.thread relations in order.
        thread = hs.relations(general, ev(m4)["event_id"], "m.thread")
        check([t["sender"] for t in thread] == [ghost(1001), ghost(1002)], "thread: %s" % thread)
        rel = thread[1]["content"]["m.relates_to"]
        check(rel["is_falling_back"] is False and rel["m.in_reply_to"]["event_id"] == thread[0]["event_id"],
              "reply inside thread")
        # Edit: final text, marked edited by an m.replace.
        edits = hs.relations(general, ev(m5)["event_id"], "m.replace")
        check(len(edits) == 1 and edits[0]["content"]["m.new_content"]["body"] == "final text after edits", "edit")
        check(m6 not in mains, "pin notice must not be sent")
        check(ev(m7)["content"]["body"] == "line one\r\n  indented line  \n\ttab\n", "whitespace must be kept")
        check(st[("m.room.pinned_events", "")]["pinned"] == [ev(m4)["event_id"]], "pins")
        # Forum post: root notice named after the post, messages in the thread.
        ftl = hs.timeline(forum)
        roots = [e for e in ftl if e["content"].get("body") == "Thread: How do I export?"]
        check(len(roots) == 1 and roots[0]["sender"] == bot, "forum post root")
        posts = hs.relations(forum, roots[0]["event_id"], "m.thread")
        check([p["sender"] for p in posts] == [ghost(1003), ghost(1004)], "forum post messages")
        # Private channel, private thread.
        check(sorted(e["sender"] for e in hs.timeline(secret) if e["type"] == "m.room.message") ==
              [ghost(1002), ghost(1003)], "secret messages")
        for r in rooms.values():
            for e in hs.timeline(r["room_id"]):
                check("secret thread message" not in json.dumps(e), "private thread leaked")
        # Ghost profile.
        prof = hs.get("/_matrix/client/v3/profile/" + urllib.parse.quote(ghost(1004)))
        check(prof.get("displayname") == "Dave" and prof.get("avatar_url", "").startswith("mxc://"), "profile: %s" % prof)
        check_no_duplicates_no_gaps(hs, {"general": rooms["general"], "secret": rooms["secret"]}, [m1, m2, m3, m4, m5, m7])

        # Rerun: nothing new.
        before = hs.stats()["events"]
        rc, s2 = run_export(tmp, hs, check_rc=0)
        check(s2["sent"] == 0 and s2["skipped_existing"] == 13 and s2["failed"] == 0, "rerun: %s" % s2)
        check(hs.stats()["events"] == before, "rerun created events")
    finally:
        hs.stop()


def filler_ids(n):
    return [at(40 + i) for i in range(n)]


def test_resume(tmp):
    filler = 300
    setup(tmp, filler)
    hs = Homeserver(tmp, os.path.join(tmp, "reg.yaml"), "--latency-ms", "3")
    try:
        cmd = [FERRY, "export", "matrix", "--store", os.path.join(tmp, "store.db"), "--homeserver", hs.url,
               "--server-name", SERVER_NAME, "--registration", os.path.join(tmp, "reg.yaml"), "--json"]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while hs.stats()["events"] < 150 and time.time() < deadline and p.poll() is None:
            time.sleep(0.02)
        check(p.poll() is None, "export finished before it could be killed; raise the filler count")
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        killed_at = hs.stats()["events"]
        # Rerun through lost responses (committed, then 500) and 502s: transaction ids keep it exact.
        hs.configure(fail_after_every=9, fail_before_every=13, latency_ms=0)
        rc, s = run_export(tmp, hs, check_rc=0)
        check(s["status"] == "complete" and s["skipped_existing"] > 0, "resumed run: %s" % s)
        st = hs.stats()
        check(st["failed_after"] > 0 and st["failed_before"] > 0, "failures were not injected: %s" % st)
        rooms = hs.rooms()
        check_no_duplicates_no_gaps(hs, rooms, [at(1), at(2), at(3), at(4), at(7), at(9)] + filler_ids(filler))
        print("killed after %d events; resumed run sent %d, skipped %d; %d lost responses replayed" %
              (killed_at, s["sent"], s["skipped_existing"], st["txn_replays"]))
    finally:
        hs.stop()


def test_storm(tmp):
    filler = 60
    setup(tmp, filler)
    hs = Homeserver(tmp, os.path.join(tmp, "reg.yaml"), "--storm-every", "7", "--storm-length", "3",
                    "--retry-after-ms", "30")
    try:
        rc, s = run_export(tmp, hs, check_rc=0)
        check(s["status"] == "complete" and s["failed"] == 0, "storm run: %s" % s)
        check(s["rate_limited"] > 20 and hs.stats()["rate_limited"] == s["rate_limited"],
              "429s not seen/honoured: %s / %s" % (s["rate_limited"], hs.stats()))
        hs.configure(storm_every=0)  # let the read-back through
        check_no_duplicates_no_gaps(hs, hs.rooms(), [at(1), at(2), at(3), at(4), at(7), at(9)] + filler_ids(filler))
    finally:
        hs.stop()


def test_holes(tmp):
    filler = 20
    setup(tmp, filler)
    hs = Homeserver(tmp, os.path.join(tmp, "reg.yaml"))
    try:
        hs.configure(forbid_senders=[ghost(1005)])
        rc, s = run_export(tmp, hs, check_rc=1)
        erin = [at(9)] + [at(40 + i) for i in range(filler) if i % 5 == 4]
        check(s["status"] == "incomplete" and s["failed"] == len(erin), "holes: %s" % s)
        check(sorted(f["discord_id"] for f in s["failures"]) == sorted(erin), "failures: %s" % s["failures"])
        check(all("M_FORBIDDEN" in f["answer"] for f in s["failures"]), "answer missing: %s" % s["failures"])
        p = subprocess.run([FERRY, "export", "matrix", "--store", os.path.join(tmp, "store.db"), "--homeserver", hs.url,
                            "--server-name", SERVER_NAME, "--registration", os.path.join(tmp, "reg.yaml")],
                           capture_output=True, text=True)
        check(p.returncode == 1 and "INCOMPLETE" in p.stdout and at(9) in p.stdout, "text summary: %s" % p.stdout)
        hs.configure(forbid_senders=[])
        rc, s2 = run_export(tmp, hs, check_rc=0)
        check(s2["status"] == "complete" and s2["sent"] == len(erin), "rerun: %s" % s2)
        check_no_duplicates_no_gaps(hs, hs.rooms(), [at(1), at(2), at(3), at(4), at(7), at(9)] + filler_ids(filler),
                                    ordered=False)
    finally:
        hs.stop()


def test_tls(tmp):
    setup(tmp, 0)
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                       capture_output=True, text=True)
    check(p.returncode == 0, "openssl: " + p.stderr)
    hs = Homeserver(tmp, os.path.join(tmp, "reg.yaml"), "--tls-cert", cert, "--tls-key", key)
    try:
        port = hs.url.rsplit(":", 1)[1]
        base = [FERRY, "export", "matrix", "--store", os.path.join(tmp, "store.db"), "--server-name", SERVER_NAME,
                "--registration", os.path.join(tmp, "reg.yaml"), "--json", "--homeserver"]
        env = dict(os.environ)
        env.pop("SSL_CERT_FILE", None)
        p = subprocess.run(base + ["https://localhost:" + port], capture_output=True, text=True, env=env, timeout=60)
        check(p.returncode == 5 and "certificate" in p.stderr, "untrusted certificate accepted: %d %s" % (p.returncode, p.stderr))
        env["SSL_CERT_FILE"] = cert
        p = subprocess.run(base + ["https://127.0.0.1:" + port], capture_output=True, text=True, env=env, timeout=60)
        check(p.returncode == 5, "certificate for another host name accepted: %s" % p.stderr)
        p = subprocess.run(base + ["https://localhost:" + port], capture_output=True, text=True, env=env, timeout=60)
        check(p.returncode == 0 and json.loads(p.stdout)["status"] == "complete", "trusted HTTPS: %s %s" % (p.stdout, p.stderr))
    finally:
        hs.stop()


def test_dce(tmp):
    sample = os.path.join(os.environ["SOURCE_DIR"], "fixtures", "dce", "sample")
    store = os.path.join(tmp, "store.db")
    p = subprocess.run([FERRY, "import", "dce", sample, "--store", store, "--json"], capture_output=True, text=True)
    check(p.returncode == 0, "import dce failed: %s" % p.stderr[-2000:])
    reg = os.path.join(tmp, "reg.yaml")
    # A registration as an admin might write it by hand (flow style, other sender, extra keys).
    with open(reg, "w") as f:
        f.write('id: hand-written\nurl: null\nas_token: "tok-%s"\nhs_token: "hs"\nsender_localpart: importbot\n'
                'rate_limited: false\nnamespaces:\n  users: [ { exclusive: true, regex: "@discord_[0-9]+:example\\\\.org" } ]\n'
                '  rooms: []\n' % os.getpid())
    hs = Homeserver(tmp, reg)
    try:
        rc, s = run_export(tmp, hs, check_rc=0)
        check(s["status"] == "complete" and s["sent"] > 0 and s["sent"] + s["skipped_other"] == s["messages"],
              "dce export: %s" % s)
        rooms = hs.rooms()
        sent = 0
        for name, r in rooms.items():
            for ev in hs.timeline(r["room_id"]):
                c = ev.get("content", {})
                if "org.ferry.discord_message_id" in c and (c.get("m.relates_to") or {}).get("rel_type") != "m.replace":
                    check(ev["sender"].startswith("@discord_"), "sender %s" % ev["sender"])
                    check(ev["origin_server_ts"] < 1735689600000, "import date instead of the original: %s" % ev)
                    if c.get("org.ferry.txn", "").startswith("ferry.m."):
                        sent += 1
        check_no_duplicates_no_gaps(hs, {k: v for k, v in rooms.items() if k == "general"}, [])
        rc, s2 = run_export(tmp, hs, check_rc=0)
        check(s2["sent"] == 0 and s2["events"] == 0, "rerun sent again: %s" % s2)
    finally:
        hs.stop()


def main():
    mode = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="ferry-mx-")
    try:
        {"full": test_full, "resume": test_resume, "storm": test_storm, "holes": test_holes, "tls": test_tls, "dce": test_dce}[mode](tmp)
        print("PASS " + mode)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
