#!/usr/bin/python3
"""Integration tests of `ferry import dce`: the real binary on the real fixtures in fixtures/dce/.

    test_import_dce.py --ferry BIN --source DIR CASE      (CASE: sample reimport merge bad cases kill)
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

ARGS = None
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what, file=sys.stderr)


def ferry(*args, timeout=300):
    p = subprocess.run([ARGS.ferry] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def import_json(store, *paths):
    rc, out, err = ferry("import", "dce", *paths, "--store", store, "--json")
    try:
        summary = json.loads(out)
    except ValueError:
        raise AssertionError("stdout is not one JSON document (rc %d):\n%s\nstderr:\n%s" % (rc, out, err))
    return rc, summary, err


def fixtures(*parts):
    return os.path.join(ARGS.source, "fixtures", "dce", *parts)


def db(store):
    c = sqlite3.connect(store)
    c.row_factory = None
    return c


def q(store, sql, *params):
    with db(store) as c:
        return c.execute(sql, params).fetchall()


def dump(store, skip_tables=("import_runs", "run_files", "sqlite_sequence"), skip_columns=()):
    """Every row of every table (FTS shadow tables excepted), sorted, as comparable text."""
    out = {}
    with db(store) as c:
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for t in tables:
            if t in skip_tables or t.startswith("messages_fts"):
                continue
            cur = c.execute('SELECT * FROM "%s"' % t)
            cols = [d[0] for d in cur.description]
            keep = [i for i, n in enumerate(cols) if n not in skip_columns]
            out[t] = sorted(repr(tuple(row[i] for i in keep)) for row in cur.fetchall())
    return out


def diff(a, b):
    lines = []
    for t in sorted(set(a) | set(b)):
        ra, rb = set(a.get(t, [])), set(b.get(t, []))
        for r in sorted(ra - rb)[:5]:
            lines.append("%s only in first: %s" % (t, r[:300]))
        for r in sorted(rb - ra)[:5]:
            lines.append("%s only in second: %s" % (t, r[:300]))
    return "\n".join(lines)


def integrity(store):
    with db(store) as c:
        ok = c.execute("PRAGMA integrity_check").fetchone()[0]
        c.execute("INSERT INTO messages_fts(messages_fts) VALUES('integrity-check')")
    return ok


def sha256_file(p):
    return hashlib.sha256(open(p, "rb").read()).hexdigest()


# ---- cases --------------------------------------------------------------------------------------------

def test_sample(tmp):
    store = os.path.join(tmp, "s.db")
    rc, s, err = import_json(store, fixtures("sample"))
    check(rc == 0, "sample import exits 0 (got %d): %s" % (rc, err))
    expect = {"files": 5, "files_imported": 5, "files_skipped": 0, "files_failed": 0, "messages": 28,
              "messages_skipped": 0, "users": 5, "attachments": 2, "attachments_missing": 0, "blobs_copied": 5,
              "media_missing": 0, "status": "done"}
    for k, v in expect.items():
        check(s.get(k) == v, "summary %s == %r (got %r)" % (k, v, s.get(k)))
    check(s["failed"] == [] and s["warnings"] == [], "no failures or warnings: %r" % s)
    check(len(s["run_ids"]) == 1, "one run id")
    check(err.strip() == "", "--json keeps stderr quiet: %r" % err)
    # A new store is written unsynced in rollback-journal mode while the import runs; it must end synced,
    # in WAL, with no marker or journal left beside it.
    check(not os.path.exists(store + ".unsynced-import"), "no unsynced-import marker after the import")
    check(not os.path.exists(store + "-journal"), "no rollback journal after the import")
    check(q(store, "PRAGMA journal_mode")[0][0] == "wal", "the store is in WAL mode after the import")
    counts = {t: q(store, "SELECT count(*) FROM %s" % t)[0][0]
              for t in ("guilds", "channels", "users", "members", "roles", "messages", "attachments", "reactions",
                        "reaction_users", "embeds", "message_stickers", "mentions", "blobs", "member_roles")}
    expect_rows = {"guilds": 1, "channels": 6, "users": 5, "members": 5, "roles": 2, "messages": 28,
                   "attachments": 2, "reactions": 7, "reaction_users": 16, "embeds": 2, "message_stickers": 1,
                   "mentions": 3, "blobs": 5, "member_roles": 2}
    for k, v in expect_rows.items():
        check(counts[k] == v, "table %s has %d rows (got %d)" % (k, v, counts[k]))
    # Every message: content byte for byte, timestamp text kept, author, channel.
    for f in glob.glob(fixtures("sample", "*.json")):
        d = json.load(open(f, encoding="utf-8"))
        cid = int(d["channel"]["id"])
        for m in d["messages"]:
            row = q(store, "SELECT channel_id, content, ts_text, author_id, type FROM messages WHERE id=?", int(m["id"]))
            check(len(row) == 1, "message %s stored" % m["id"])
            if row:
                ch, content, ts_text, author, _ = row[0]
                check(ch == cid, "message %s in channel %d" % (m["id"], cid))
                check(content == m["content"], "content of %s byte-exact: %r vs %r" % (m["id"], content, m["content"]))
                check(ts_text == m["timestamp"], "timestamp text of %s kept" % m["id"])
                check(author == int(m["author"]["id"]), "author of %s" % m["id"])
    # Media: attachment bytes in the blob store, addressed by sha256.
    cat = fixtures("sample", "Example Guild - Text Channels - general [794762915348742153].json_Files",
                   "cat-348e06d309b030de.png")
    sha = q(store, "SELECT sha256 FROM attachments WHERE id=1246433064016674816")[0][0]
    check(sha == sha256_file(cat), "attachment sha256 is the file's")
    blob = os.path.join(store + ".blobs", sha[:2], sha)
    check(os.path.exists(blob) and sha256_file(blob) == sha, "blob file present at %s" % blob)
    check(q(store, "SELECT avatar_sha256 IS NOT NULL FROM users WHERE id=469654673817862151")[0][0] == 1, "local avatar copied")
    check(q(store, "SELECT icon_sha256 IS NOT NULL FROM guilds")[0][0] == 1, "guild icon copied")
    # Types, structure, references.
    types = dict(q(store, "SELECT id, type FROM messages WHERE id IN (1246433095004192775, 1246433441218822151,"
                          " 1246434573722845191, 1246435003597062151)"))
    check(types == {1246433095004192775: 19, 1246433441218822151: 7, 1246434573722845191: 18,
                    1246435003597062151: 20}, "message types mapped: %r" % types)
    chans = {r[0]: r[1:] for r in q(store, "SELECT id, type, parent_id, guild_id, name FROM channels")}
    check(chans[794762915348742152][0] == 4, "category is a GuildCategory")
    check(chans[794762915348742153][1] == 794762915348742152, "general's parent is the category")
    check(chans[1246434573722714112][0:2] == (11, 794762915348742153), "thread parent is #general")
    ref = q(store, "SELECT ref_message_id, ref_channel_id FROM messages WHERE id=1246433095004192775")[0]
    check(ref == (1246433064247361543, 794762915348742153), "reply reference kept")
    check(q(store, "SELECT edited_text FROM messages WHERE id=1246433095004192775")[0][0] == "2024-06-01T12:02:00+00:00",
          "edit time kept")
    pins = q(store, "SELECT count(*) FROM messages WHERE pinned=1")[0][0]
    check(pins == 3, "3 pinned messages (got %d)" % pins)
    roles = q(store, "SELECT name, color, position FROM roles ORDER BY position DESC")
    check(roles[0] == ("Moderator", 0xE67E22, 3), "role with name/color/position: %r" % roles)
    nick = q(store, "SELECT nick, color FROM members WHERE user_id=469654673817862151")[0]
    check(nick == ("Alice", "#E67E22"), "member nick and colour: %r" % (nick,))
    emb = json.loads(q(store, "SELECT json FROM embeds WHERE message_id=1246433095004192775")[0][0])
    check(emb.get("color") == 0x1DA1F2 and emb["thumbnail"]["url"] == "https://example.com/t.jpg"
          and emb["thumbnail"]["proxy_url"].startswith("https://images-ext-1"), "embed in API shape: %r" % emb)
    extra = json.loads(q(store, "SELECT extra FROM messages WHERE id=1246435003597062151")[0][0])
    check(extra.get("interaction", {}).get("name") == "ping", "interaction kept in extra")
    fmt = q(store, "SELECT content_format FROM messages WHERE id=1246433064247361543")[0][0]
    check(fmt == "display", "display-formatted content detected (got %s)" % fmt)
    runs = q(store, "SELECT kind, status FROM import_runs")
    check(runs == [("dce", "done")], "one finished dce run: %r" % runs)
    files = q(store, "SELECT status, sha256 FROM run_files")
    check(len(files) == 5 and all(s == "done" and len(h) == 64 for s, h in files), "run_files done with sha256")


def test_reimport(tmp):
    store = os.path.join(tmp, "r.db")
    rc, _, _ = import_json(store, fixtures("sample"))
    check(rc == 0, "first import ok")
    # meta holds the importer's size/mtime notes of files it has seen (bookkeeping, not data)
    dump = lambda s: globals()["dump"](s, skip_tables=("import_runs", "run_files", "sqlite_sequence", "meta"))  # noqa
    before = dump(store)
    rc, s, _ = import_json(store, fixtures("sample"))
    check(rc == 0 and s["files_skipped"] == 5 and s["messages"] == 0, "second import skips everything: %r" % s)
    after = dump(store)
    check(before == after, "re-import changes nothing:\n" + diff(before, after))
    # Copied elsewhere (new paths, new mtimes): recognised by content.
    copy = os.path.join(tmp, "copy")
    shutil.copytree(fixtures("sample"), copy)
    rc, s, _ = import_json(store, copy)
    check(rc == 0 and s["files_skipped"] == 5, "copied files recognised by sha256: %r" % s.get("files_skipped"))
    skipped = q(store, "SELECT count(*) FROM run_files WHERE status='skipped'")[0][0]
    check(skipped == 10, "skipped files recorded in their runs (got %d)" % skipped)
    check(dump(store) == before, "import of an identical copy changes nothing:\n" + diff(before, dump(store)))
    # A human run prints a summary on stdout and exits 0.
    rc, out, err = ferry("import", "dce", fixtures("sample"), "--store", store)
    check(rc == 0 and "unchanged" in out, "human summary: %r" % out)


def merge_store(tmp, name, order):
    store = os.path.join(tmp, name)
    for which in order:
        rc, s, err = import_json(store, fixtures("merge", which))
        check(rc == 0, "merge import %s ok: %s" % (which, err))
    return store


def test_merge(tmp):
    a = merge_store(tmp, "a.db", ["older", "newer"])
    b = merge_store(tmp, "b.db", ["newer", "older"])
    da = dump(a, skip_columns=("source_run",))
    db_ = dump(b, skip_columns=("source_run",))
    check(da == db_, "merge result is independent of import order:\n" + diff(da, db_))
    f = glob.glob(fixtures("merge", "older", "*.json"))[0]
    ids = [int(m["id"]) for m in json.load(open(f, encoding="utf-8"))["messages"]]
    nf = glob.glob(fixtures("merge", "newer", "*.json"))[0]
    nids = [int(m["id"]) for m in json.load(open(nf, encoding="utf-8"))["messages"]]
    for store in (a, b):
        rows = {r[0]: r[1:] for r in q(store, "SELECT id, content, pinned, edited_text FROM messages")}
        check(len(rows) == 6, "6 messages after merging (got %d)" % len(rows))
        check(ids[0] in rows and rows[ids[0]][0] == "first", "message only in the older export survives")
        check(rows[ids[1]][0] == "second (fixed)" and rows[ids[1]][2] is not None, "later export's edit wins")
        check(rows[ids[2]][1] == 0, "later export's unpin wins")
        check(rows[nids[3]][1] == 1, "new pinned message")
        reacts = sorted(q(store, "SELECT emoji_name, count FROM reactions WHERE message_id=?", ids[2]))
        check(reacts == [("party_blob", 1), ("❤️", 2)], "later export's reactions win: %r" % reacts)
        users = q(store, "SELECT count(*) FROM reaction_users WHERE message_id=?", ids[2])[0][0]
        check(users == 3, "reaction users replaced as a whole (got %d)" % users)
        first_r = q(store, "SELECT count FROM reactions WHERE message_id=?", ids[0])
        check(first_r == [(1,)], "older export's reactions kept where the newer one did not say")
        topic = q(store, "SELECT topic FROM channels WHERE name='merge-test'")[0][0]
        check(topic == "after", "channel topic from the later export")


def test_bad(tmp):
    store = os.path.join(tmp, "b.db")
    bad = [fixtures("bad", n) for n in ("empty.json", "garbage.json", "not-dce.json",
                                         "Example Guild - Text Channels - general [794762915348742153].html")]
    crashed = glob.glob(fixtures("bad", "*crashed*.json"))[0]
    noid = glob.glob(fixtures("bad", "*no-id*.json"))[0]
    general = fixtures("sample", "Example Guild - Text Channels - general [794762915348742153].json")
    rc, out, err = ferry("import", "dce", *bad, crashed, noid, general, "--store", store)
    check(rc == 1, "exit code 1 (kExitInputFailed) when some input failed (got %d)" % rc)
    for b in bad:
        check(b in err, "stderr names %s" % b)
    check("empty file" in err and "not JSON" in err and "not a DCE export" in err and "HTML" in err,
          "stderr says why each file failed:\n" + err)
    size = os.path.getsize(crashed)
    check(crashed in err and ("ends at byte %d" % size) in err and "3 complete messages" in err,
          "truncation warning names file and byte offset:\n" + err)
    check("message #2 at byte" in err and 'no "id"' in err, "missing id warning names file and position")
    # Nothing from the failed files; everything from the good ones.
    chans = sorted(str(r[0]) for r in q(store, "SELECT name FROM channels"))
    check(chans == ["None", "Text Channels", "crashed", "general", "no-id"],
          "only channels of the good files (+ the thread #general started): %r" % chans)
    crashed_id = int(os.path.basename(crashed).split("[")[1].split("]")[0])
    check(q(store, "SELECT count(*) FROM messages WHERE channel_id=?", crashed_id)[0][0] == 3,
          "the 3 complete messages of the truncated file imported")
    check(q(store, "SELECT count(*) FROM messages WHERE content='I have no id'")[0][0] == 0, "id-less message skipped")
    statuses = dict(q(store, "SELECT file, status FROM run_files"))
    for b in bad:
        check(statuses.get(b) == "failed", "run_files marks %s failed" % b)
    check(statuses.get(crashed) == "done", "truncated file is done (its complete part)")
    # --json: failed files with reasons, and nothing but JSON on stdout.
    rc, s, _ = import_json(os.path.join(tmp, "b2.db"), *bad)
    check(rc == 1 and len(s["failed"]) == 4 and all(f["reason"] for f in s["failed"]), "--json lists failures")
    check(q(os.path.join(tmp, "b2.db"), "SELECT count(*) FROM channels")[0][0] == 0, "bad-only import writes no data")
    # A missing path and a folder with junk: junk in folders is ignored, a missing path fails.
    junk = os.path.join(tmp, "junk")
    os.makedirs(junk)
    shutil.copy(fixtures("bad", "not-dce.json"), junk)
    shutil.copy(general, junk)
    rc, s, _ = import_json(os.path.join(tmp, "b3.db"), junk, os.path.join(tmp, "nope.json"))
    check(rc == 1 and s["files_ignored"] == 1 and s["files_imported"] == 1 and s["files_failed"] == 1,
          "folder junk ignored, missing path failed: %r" % {k: s[k] for k in ("files_ignored", "files_imported", "files_failed")})


def test_cases(tmp):
    store = os.path.join(tmp, "c.db")
    rc, s, err = import_json(store, fixtures("cases"))
    check(rc == 0, "cases import exits 0: %s" % err)
    check(s["files_imported"] == 11 and s["messages"] == 34, "11 files, 34 messages: %r" % s)
    ch = {r[0]: r[1:] for r in q(store, "SELECT name, type, guild_id, parent_id FROM channels")}
    check(ch["Bob the Builder"][:2] == (1, None), "DM: type 1, no guild")
    check(ch["weekend plans"][:2] == (3, None), "group DM: type 3, no guild")
    check(ch["old friends"][:2] == (3, None), "legacy group DM")
    check(ch["How do I export threads?"][0] == 11 and ch["help-forum"] is not None, "forum post and its parent")
    check(q(store, "SELECT count(*) FROM guilds WHERE id=0")[0][0] == 0, "no pseudo-guild 0 row")
    # Legacy: dated by the newest message.
    lg = q(store, "SELECT max(source_ms), max(ts_ms) FROM messages WHERE channel_id="
                  "(SELECT id FROM channels WHERE name='old friends')")[0]
    check(lg[0] == lg[1], "legacy file's source time is its newest message: %r" % (lg,))
    check(any("exportedAt" in w for w in s["warnings"]), "legacy file noted")
    # Partitions: 9 messages, media from the shared _Files folder.
    logs = q(store, "SELECT count(*) FROM messages WHERE channel_id=(SELECT id FROM channels WHERE name='logs')")[0][0]
    check(logs == 9, "3 partitions → 9 messages (got %d)" % logs)
    check(q(store, "SELECT sha256 IS NOT NULL FROM attachments WHERE filename='error.png'")[0][0] == 1,
          "partition media resolved")
    # --markdown false → raw.
    fmts = set(r[0] for r in q(store, "SELECT content_format FROM messages WHERE channel_id="
                                      "(SELECT id FROM channels WHERE name='dev')"))
    check(fmts == {"raw"}, "--markdown false export recorded as raw: %r" % fmts)
    # Local times across a DST change: stored as UTC ms, original text kept.
    lt = q(store, "SELECT ts_ms, ts_text FROM messages WHERE content LIKE 'local time message%' ORDER BY id")
    check([r[0] for r in lt] == [1711841400000, 1711846799999, 1711846800000, 1711880100500], "UTC ms: %r" % lt)
    check(lt[1][1].endswith("+01:00") and lt[2][1].endswith("+02:00"), "offset text kept")
    types = sorted(r[0] for r in q(store, "SELECT type FROM messages WHERE channel_id=(SELECT id FROM channels WHERE name='misc')"))
    check(types == [0, 8, 24, 46, 99], "numeric message types kept: %r" % types)
    check(q(store, "SELECT username FROM users WHERE id=456226577798135808") == [("Deleted User",)], "deleted user")
    att = dict(q(store, "SELECT filename, sha256 FROM attachments WHERE filename IN ('photo.png','missing.png')"))
    check(att.get("photo.png") and att.get("missing.png") is None, "backslash path resolved; missing one is a gap")
    check(s["media_missing"] >= 1, "missing media counted")
    dm_user = q(store, "SELECT global_name FROM users WHERE id=555676493414662151")[0][0]
    check(dm_user == "Bob the Builder", "DM nickname is the global name")


def test_kill(tmp):
    gen = os.path.join(ARGS.source, "bench", "gen_dce.py")
    data = os.path.join(tmp, "data")
    subprocess.run([sys.executable, gen, "--messages", str(ARGS.kill_messages), "--channels", "2", "--out", data,
                    "--seed", "7"], check=True, capture_output=True)
    ref = os.path.join(tmp, "ref.db")
    t0 = time.time()
    rc, s, err = import_json(ref, data)
    full = time.time() - t0
    check(rc == 0 and s["messages"] == ARGS.kill_messages, "reference import: %r %s" % (rc, err))
    want = dump(ref, skip_tables=("import_runs", "sqlite_sequence"))
    want_runs = q(ref, "SELECT id, kind, path, status, sha256 FROM import_runs")
    print("reference import: %.2f s" % full)

    def run_and_kill(store, delay):
        p = subprocess.Popen([ARGS.ferry, "import", "dce", data, "--store", store, "--json"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        finished = p.poll() is not None
        if not finished:
            p.send_signal(signal.SIGKILL)
        p.wait()
        if not finished and q(store, "SELECT count(*) FROM import_runs WHERE status <> 'done'")[0][0] == 0 \
                and q(store, "SELECT count(*) FROM import_runs")[0][0] > 0:
            # Killed after the run was recorded as done (while closing the store): the import had finished.
            finished = True
        return finished

    killed_any = False
    # Kill points relative to how long this machine takes (early, middle, late, and twice in a row).
    for case, delays in enumerate(([0.2], [0.45 * full], [0.8 * full], [0.3 * full, 0.3 * full])):
        # A fresh store per case (named by position: on a fast machine two delays can print alike).
        store = os.path.join(tmp, "k%d.db" % case)
        for d in delays:
            finished = run_and_kill(store, d)
            check(integrity(store) == "ok", "integrity_check after kill -9 at %.1fs" % d)
            if not finished:
                killed_any = True
                st = q(store, "SELECT status FROM import_runs")
                check(all(x[0] != "done" for x in st), "killed run is not 'done': %r" % st)
                done_files = q(store, "SELECT count(*) FROM run_files WHERE status='done'")[0][0]
                print("killed at %.1fs: %d file(s) done, %d messages committed" %
                      (d, done_files, q(store, "SELECT count(*) FROM messages")[0][0]))
        if finished:
            # The import ended before the kill came (a fast or warm machine): nothing to resume, and a rerun
            # would rightly record a run of its own. What it wrote must still equal the reference.
            print("import finished before the kill at %.1fs: compared as is" % delays[-1])
        else:
            rc, s, err = import_json(store, data)
            check(rc == 0 and s["status"] == "done", "rerun finishes: %r %s" % (rc, err))
        got = dump(store, skip_tables=("import_runs", "sqlite_sequence"))
        check(got == want, "resumed import equals an uninterrupted one (kill at %r):\n%s" % (delays, diff(want, got)))
        runs = q(store, "SELECT id, kind, path, status, sha256 FROM import_runs")
        check(runs == want_runs, "same run, finished: %r vs %r" % (runs, want_runs))
    check(killed_any, "at least one import was killed mid-way (input too small for this machine?)")

    # SIGINT (Ctrl-C): stops between batches, exit 4, run "interrupted"; the same command finishes it.
    store = os.path.join(tmp, "int.db")
    p = subprocess.Popen([ARGS.ferry, "import", "dce", data, "--store", store, "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(0.25 * full)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    if p.returncode == 0:
        # SIGINT is honoured between batches; one arriving after the last batch lets the run finish.
        print("import finished before SIGINT arrived; interrupt path not exercised")
        got = dump(store, skip_tables=("import_runs", "sqlite_sequence"))
        check(got == want, "an import that finished despite SIGINT equals an uninterrupted one:\n" + diff(want, got))
        return
    else:
        check(p.returncode == 4, "SIGINT → exit code 4 (got %d)" % p.returncode)
        check(json.loads(out)["status"] == "interrupted", "summary says interrupted")
        check(q(store, "SELECT status FROM import_runs") == [("interrupted",)], "run recorded as interrupted")
        check(integrity(store) == "ok", "integrity after SIGINT")
    rc, s, err = import_json(store, data)
    check(rc == 0, "rerun after SIGINT finishes")
    got = dump(store, skip_tables=("import_runs", "sqlite_sequence"))
    check(got == want, "interrupted + resumed import equals an uninterrupted one:\n" + diff(want, got))


def test_interleaved(tmp):
    """Files read side by side (in message id order across them) give the store of one file at a time."""
    gen = os.path.join(tmp, "gen")
    subprocess.run(["/usr/bin/python3", os.path.join(ARGS.source, "bench", "gen_dce.py"), "--messages", "6000",
                    "--channels", "4", "--out", gen, "--seed", "7"], check=True, capture_output=True)
    files = sorted(glob.glob(os.path.join(gen, "*.json")))
    check(len(files) == 4, "generator wrote 4 channel files (got %d)" % len(files))
    # The channels' messages interleave in time, which is what the side-by-side import is for.
    spans = []
    for f in files:
        ids = [int(m["id"]) for m in json.load(open(f, encoding="utf-8"))["messages"]]
        check(ids == sorted(ids), "%s is in id order" % f)
        spans.append((ids[0], ids[-1]))
    check(all(a[0] < b[1] and b[0] < a[1] for a in spans for b in spans), "channel files overlap in time: %r" % spans)
    inputs = files + [fixtures("merge", "older"), fixtures("merge", "newer"), fixtures("sample")]

    together = os.path.join(tmp, "together.db")
    rc, s, err = import_json(together, *inputs)
    check(rc == 0 and s["status"] == "done", "import of everything at once ok (rc %d): %s" % (rc, err))
    check(s["files_imported"] == len(files) + 2 + len(glob.glob(fixtures("sample", "*.json"))),
          "every file imported: %r" % s)

    apart = os.path.join(tmp, "apart.db")
    for p in inputs:
        rc, s2, err = import_json(apart, p)
        check(rc == 0, "import of %s alone ok: %s" % (p, err))
    skip = ("import_runs", "run_files", "sqlite_sequence", "meta")
    da = dump(together, skip_tables=skip, skip_columns=("source_run",))
    db_ = dump(apart, skip_tables=skip, skip_columns=("source_run",))
    check(da == db_, "side-by-side import gives the store of one file at a time:\n" + diff(da, db_))
    n = q(together, "SELECT count(*) FROM messages")[0][0]
    check(n >= 6000 and n == q(apart, "SELECT count(*) FROM messages")[0][0], "same messages (%d)" % n)
    check(integrity(together) == "ok", "integrity_check ok")
    # Every file has its own "done" record with its own hash, as when imported alone.
    done = set(q(together, "SELECT file, sha256 FROM run_files WHERE status='done'"))
    for f in files:
        check((f, sha256_file(f)) in done, "%s recorded done with its sha256" % f)
    hits = [h["id"] for h in json.loads(ferry("search", "--store", together, "--json", "hello")[1])]
    ref = [h["id"] for h in json.loads(ferry("search", "--store", apart, "--json", "hello")[1])]
    check(len(hits) > 0 and hits == ref, "search finds the same messages (%d, %d)" % (len(hits), len(ref)))
    # --batch is messages per transaction: larger than the parser's hand-off (a transaction then holds
    # several, the last one fewer) or smaller, the store is the same.
    for batch in ("4500", "700"):
        other = os.path.join(tmp, "batch-%s.db" % batch)
        rc, out, err = ferry("import", "dce", *inputs, "--store", other, "--json", "--batch", batch)
        check(rc == 0 and json.loads(out)["messages"] == s["messages"], "import with --batch %s ok: %s" % (batch, err))
        do = dump(other, skip_tables=skip, skip_columns=("source_run",))
        check(do == da, "--batch %s gives the same store:\n%s" % (batch, diff(do, da)))
        hb = [h["id"] for h in json.loads(ferry("search", "--store", other, "--json", "hello")[1])]
        check(hb == hits, "--batch %s: search finds the same messages" % batch)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--kill-messages", type=int, default=30000)
    ap.add_argument("case")
    ARGS = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ferry-dce-")
    try:
        globals()["test_" + ARGS.case](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILS:
        print("%d check(s) failed" % len(FAILS), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
