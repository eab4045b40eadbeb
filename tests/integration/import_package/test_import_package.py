#!/usr/bin/python3
"""Integration tests of `ferry import package` and `ferry import PATH...` with the real binary, real zips and
real SQLite stores. Fixtures are folders under fixtures/package/ (readable as text); the zips are made here.

usage: test_import_package.py FERRY_BINARY SOURCE_DIR [TEST_NAME]
"""
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile

FERRY = None
FIX = None
ALICE, BOB, CAROL = 469654673817862151, 555676493414662151, 716803198157062151
GUILD, GENERAL = 794762915348742151, 794762915348742153
DELETED_USER = 456226577798135808


def s64(v):
    """Snowflakes are stored as their 64-bit pattern in SQLite's signed INTEGER."""
    return v - (1 << 64) if v >= 1 << 63 else v


def zip_dir(src, dst, under=None, mtime=None):
    """Zips the folder `src` into `dst` (entries relative to src, optionally under one extra folder)."""
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for f in sorted(files):
                full = os.path.join(root, f)
                rel = os.path.relpath(full, src).replace(os.sep, "/")
                if under:
                    rel = under + "/" + rel
                info = zipfile.ZipInfo.from_file(full, rel)
                if mtime:
                    info.date_time = mtime
                info.compress_type = zipfile.ZIP_DEFLATED
                with open(full, "rb") as fh:
                    z.writestr(info, fh.read())
    return dst


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ferry-pkg-")
        self.store = os.path.join(self.tmp, "store.db")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def ferry(self, *args, ok=True, expect=None):
        p = subprocess.run([FERRY, *args], capture_output=True, text=True, timeout=60)
        if expect is not None:
            self.assertEqual(p.returncode, expect, f"ferry {' '.join(args)}\nstdout:{p.stdout}\nstderr:{p.stderr}")
        elif ok:
            self.assertEqual(p.returncode, 0, f"ferry {' '.join(args)}\nstdout:{p.stdout}\nstderr:{p.stderr}")
        return p

    def import_json(self, path, *extra, expect=0):
        p = self.ferry("import", "package", path, "--store", self.store, "--json", *extra, expect=expect)
        return json.loads(p.stdout)

    def db(self):
        c = sqlite3.connect(self.store)
        c.row_factory = sqlite3.Row
        return c

    def messages(self, channel):
        with self.db() as c:
            return {(r["id"] & ((1 << 64) - 1)): r for r in
                    c.execute("SELECT * FROM messages WHERE channel_id=? ORDER BY id", (s64(channel),))}

    def one(self, sql, *params):
        with self.db() as c:
            return c.execute(sql, params).fetchone()

    def zipped(self, name, **kw):
        return zip_dir(os.path.join(FIX, name), os.path.join(self.tmp, name + ".zip"), **kw)


class Eras(Base):
    def test_era_a_csv_without_c_prefix(self):
        s = self.import_json(self.zipped("era-a"))
        self.assertEqual(s["status"], "done")
        self.assertEqual(s["eras"], ["A"])
        self.assertEqual(s["counts"]["messages"], 4)
        msgs = self.messages(GENERAL)
        self.assertEqual(len(msgs), 3)
        texts = sorted(m["content"] for m in msgs.values())
        self.assertIn('multi\nline "quoted"', texts)
        self.assertIn("third, with a comma", texts)
        for mid, m in msgs.items():
            self.assertEqual(m["author_id"], ALICE)
            self.assertEqual(m["ts_ms"], (mid >> 22) + 1420070400000)  # time from the id, to the ms
            self.assertEqual(m["content_format"], "raw")
        # attachment id and file name from the CDN URL, media missing
        att = self.one("SELECT * FROM attachments")
        self.assertEqual(att["filename"], "notes.txt")
        self.assertIsNone(att["sha256"])
        # channel name from index.json ("general in Example Guild"); guild from the servers folder
        ch = self.one("SELECT * FROM channels WHERE id=?", GENERAL)
        self.assertEqual(ch["name"], "general")
        self.assertEqual(ch["guild_id"], GUILD)
        self.assertEqual(self.one("SELECT name FROM guilds WHERE id=?", GUILD)["name"], "Example Guild")
        owner = self.one("SELECT * FROM users WHERE id=?", ALICE)
        self.assertEqual(owner["username"], "alice")
        # private account data is not copied into the community store
        self.assertNotIn("example.invalid", owner["extra"])
        self.assertNotIn("Nitro", owner["extra"])
        # DM partner named by the DM label and the relationships list
        self.assertEqual(self.one("SELECT username FROM users WHERE id=?", BOB)["username"], "bob")

    def test_era_b_quoted_csv_deleted_user_and_missing_messages_file(self):
        s = self.import_json(self.zipped("era-b"))
        self.assertEqual(s["eras"], ["B"])
        msgs = self.messages(GENERAL)
        self.assertEqual(msgs[1200123845173051399]["content"], 'two lines,\nsecond has "quotes"')
        self.assertEqual(msgs[1200123690982047751]["content"],
                         "look <@555676493414662151> <:party_blob:1080795385037062151>")
        self.assertEqual(msgs[1200123598078214151]["content"], "")
        with self.db() as c:
            atts = c.execute("SELECT id, filename, url FROM attachments WHERE message_id=? ORDER BY idx",
                             (1200123598078214151,)).fetchall()
        self.assertEqual([(a[0], a[1]) for a in atts],
                         [(1200123597876887592, "a.png"), (1200123597876887593, "SPOILER_b.txt")])
        dm = self.one("SELECT * FROM channels WHERE id=?", 1172856042363813895)
        self.assertEqual(json.loads(dm["recipients"]), [str(ALICE), str(DELETED_USER)])
        self.assertEqual(self.one("SELECT username FROM users WHERE id=?", DELETED_USER)["username"], "Deleted User")
        # channel.json without messages: the channel exists, and the summary says what was absent
        self.assertIsNotNone(self.one("SELECT id FROM channels WHERE id=?", 1092551226622750737))
        self.assertTrue(any("without a messages file" in a for a in s["absent"]), s["absent"])
        self.assertIn("account", s["folders"])

    def test_era_c_bare_ids_above_2_pow_60_stay_exact(self):
        s = self.import_json(self.zipped("era-c"))
        self.assertEqual(s["eras"], ["C"])
        msgs = self.messages(1009665535711117473)
        self.assertIn(1154024162197503999, msgs)  # through a double it would end in ...504000
        self.assertIn(1017588758238990388, msgs)
        self.assertEqual(msgs[1154024162197503999]["content"], "big id above 2^60")
        ch = self.one("SELECT * FROM channels WHERE id=?", 1009665535711117473)
        self.assertEqual(ch["type"], 3)
        self.assertEqual(ch["name"], "weekend plans")
        self.assertIn("absent", s)
        self.assertIn("servers", s["absent"])

    def test_era_d_string_types_threads_and_lenient_json(self):
        s = self.import_json(self.zipped("era-d"))
        self.assertEqual(s["eras"], ["D"])
        self.assertEqual(self.one("SELECT type FROM channels WHERE id=?", 1246434573722714112)["type"], 11)
        self.assertEqual(self.one("SELECT type FROM channels WHERE id=?", GENERAL)["type"], 0)
        thread = self.messages(1246434573722714112)
        self.assertEqual(sorted(m["content"] for m in thread.values()), ["after a missing comma", "raw\nnewline"])
        run = self.one("SELECT notes FROM import_runs WHERE id=?", s["run_id"])
        notes = json.loads(run["notes"])
        self.assertEqual(notes["repaired"]["raw_control_chars"], 1)
        self.assertEqual(notes["repaired"]["missing_commas"], 1)
        self.assertEqual(notes["repaired"]["trailing_commas"], 1)
        self.assertIn("reactions", notes["source_lacks"]["message"])

    def test_era_e_capitalised_zip_and_rezipped_under_extra_folder(self):
        for under in (None, "package"):
            with self.subTest(under=under):
                if os.path.exists(self.store):
                    os.remove(self.store)
                s = self.import_json(self.zipped("era-e", under=under))
                self.assertEqual(s["eras"], ["E"])
                self.assertEqual(s["folders"], {"messages": "Messages", "servers": "Servers", "account": "Account"})
                dm = self.messages(1419421927080067072)
                self.assertEqual(len(dm), 3)
                self.assertEqual(dm[1419421940711686151]["content"], 'line one\nline "two"')
                att = self.one("SELECT * FROM attachments WHERE id=?", 1419422247713767424)
                self.assertEqual(att["filename"], "IMG_0001.jpg")
                self.assertIn("?ex=", att["url"])
                att2 = self.one("SELECT * FROM attachments WHERE id=?", 1418900000000000001)
                self.assertEqual(att2["filename"], "my file.png")
                owner = self.one("SELECT * FROM users WHERE id=?", ALICE)
                self.assertIsNotNone(owner["avatar_sha256"])  # Account/avatar.png went to the blob store

    def test_unpacked_folder_equals_zip(self):
        self.import_json(os.path.join(FIX, "era-e"))
        a = {k: (m["content"], m["ts_ms"], m["author_id"]) for k, m in self.messages(1419421927080067072).items()}
        os.remove(self.store)
        self.import_json(self.zipped("era-e"))
        b = {k: (m["content"], m["ts_ms"], m["author_id"]) for k, m in self.messages(1419421927080067072).items()}
        self.assertEqual(a, b)


class Localised(Base):
    def test_german_folders_recognised_by_content(self):
        s = self.import_json(self.zipped("de"))
        self.assertEqual(s["folders"], {"messages": "Nachrichten", "servers": "Server", "account": "Konto"})
        self.assertEqual(s["absent"], [])
        self.assertEqual(s["owner_id"], str(ALICE))
        self.assertEqual(s["counts"]["messages"], 5)
        self.assertEqual(self.one("SELECT name FROM guilds WHERE id=?", GUILD)["name"], "Example Guild")

    def test_polish_partial_package_infers_owner_from_dms(self):
        s = self.import_json(self.zipped("pl-partial"))
        self.assertEqual(s["folders"], {"messages": "Wiadomości"})
        self.assertIn("account", s["absent"])
        self.assertIn("servers", s["absent"])
        self.assertEqual(s["owner_from"], "dm_recipients")
        self.assertEqual(s["owner_id"], str(ALICE))
        for m in self.messages(1419500000000000000).values():
            self.assertEqual(m["author_id"], ALICE)
        # human output says what was absent too
        os.remove(self.store)
        p = self.ferry("import", "package", os.path.join(FIX, "pl-partial"), "--store", self.store)
        self.assertIn("absent", p.stdout)
        self.assertIn("account", p.stdout)


class BadInput(Base):
    def assert_nothing_written(self):
        if not os.path.exists(self.store):
            return
        with self.db() as c:
            self.assertEqual(c.execute("SELECT count(*) FROM messages").fetchone()[0], 0)
            self.assertEqual(c.execute("SELECT count(*) FROM channels").fetchone()[0], 0)

    def test_corrupt_zip(self):
        z = self.zipped("era-e")
        data = open(z, "rb").read()
        bad = os.path.join(self.tmp, "corrupt.zip")
        # Keep the start, garble the middle: entry data and the central directory no longer agree.
        with open(bad, "wb") as f:
            f.write(data[:200] + bytes(b ^ 0x5A for b in data[200:len(data) // 2]) + data[len(data) // 2:])
        p = self.ferry("import", "package", bad, "--store", self.store, expect=1)
        self.assertIn("corrupt.zip", p.stderr)
        truncated = os.path.join(self.tmp, "truncated.zip")
        with open(truncated, "wb") as f:
            f.write(data[: len(data) // 3])
        p = self.ferry("import", "package", truncated, "--store", self.store, expect=1)
        self.assertIn("truncated.zip", p.stderr)
        self.assert_nothing_written()

    def test_zip_that_is_not_a_package(self):
        z = self.zipped("not-a-package")
        p = self.ferry("import", "package", z, "--store", self.store, expect=1)
        self.assertIn("not a Discord data package", p.stderr)
        self.assert_nothing_written()
        p = self.ferry("import", "package", os.path.join(FIX, "not-a-package"), "--store", self.store, expect=1)
        self.assertIn("not a Discord data package", p.stderr)

    def test_path_traversal_entries_refused(self):
        z = self.zipped("era-e")
        evil = os.path.join(self.tmp, "evil.zip")
        shutil.copy(z, evil)
        with zipfile.ZipFile(evil, "a") as zf:
            zf.writestr("../../escape.txt", "gotcha")
        p = self.ferry("import", "package", evil, "--store", self.store, expect=1)
        self.assertIn("../../escape.txt", p.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "..", "escape.txt")))
        self.assert_nothing_written()

    def test_zip_bomb_entry_bounded(self):
        src = os.path.join(self.tmp, "bomb")
        shutil.copytree(os.path.join(FIX, "era-e"), src)
        path = os.path.join(src, "Messages", "c794762915348742153", "channel.json")
        with open(path, "wb") as f:
            f.write(b"{" + b" " * (8 << 20) + b"}")
        z = zip_dir(src, os.path.join(self.tmp, "bomb.zip"))
        self.assertLess(os.path.getsize(z), 200_000)
        p = self.ferry("import", "package", z, "--store", self.store, expect=1)
        self.assertIn("Messages/c794762915348742153/channel.json", p.stderr)
        self.assert_nothing_written()

    def test_bad_messages_file_names_entry_and_line_and_keeps_channel_whole(self):
        src = os.path.join(self.tmp, "bad")
        shutil.copytree(os.path.join(FIX, "era-e"), src)
        path = os.path.join(src, "Messages", "c794762915348742153", "messages.json")
        with open(path, "w") as f:
            f.write('[\n{"ID": 1418903000000000001, "Timestamp": "2025-09-20 08:00:00", "Contents": "ok", "Attachments": ""},\n'
                    '{"ID": 1.4189e18, "Timestamp": "2025-09-20 08:00:00", "Contents": "float id", "Attachments": ""}\n]\n')
        p = self.ferry("import", "package", src, "--store", self.store, expect=1)
        self.assertIn("Messages/c794762915348742153/messages.json line 3", p.stderr)
        # that channel's transaction was rolled back: not even its first message is there
        self.assertEqual(len(self.messages(GENERAL)), 0)


class Provenance(Base):
    def test_reimport_changes_nothing_and_resume_skips_done_channels(self):
        z = self.zipped("era-e")
        s1 = self.import_json(z)
        with self.db() as c:
            before = c.execute("SELECT id, content, extra, source_run FROM messages ORDER BY id").fetchall()
        s2 = self.import_json(z)
        self.assertEqual(s2["status"], "already_imported")
        with self.db() as c:
            self.assertEqual(before, c.execute("SELECT id, content, extra, source_run FROM messages ORDER BY id").fetchall())
        # A different path of the same package: a new run whose channels are all skipped as done.
        z2 = os.path.join(self.tmp, "copy.zip")
        shutil.copy(z, z2)
        s3 = self.import_json(z2)
        self.assertEqual(s3["counts"].get("channel_files_already_done"), 3)
        self.assertEqual(s3["counts"].get("messages", 0), 0)
        # `ferry stats` reports per-source counts
        st = json.loads(self.ferry("stats", "--store", self.store, "--json").stdout)
        self.assertEqual(st["messages_by_source"], {"package": 5})

    def test_run_records_source_time_and_what_the_package_lacks(self):
        s = self.import_json(self.zipped("era-e", mtime=(2025, 9, 22, 10, 0, 0)))
        run = self.one("SELECT * FROM import_runs WHERE id=?", s["run_id"])
        self.assertEqual(run["kind"], "package")
        self.assertEqual(run["status"], "done")
        # zip entry times carry no zone: checked to within two days
        self.assertGreater(run["source_ms"], 1758400000000)  # 2025-09-20
        self.assertLess(run["source_ms"], 1758700000000)     # 2025-09-24
        notes = json.loads(run["notes"])
        self.assertIn("embeds", notes["source_lacks"]["message"])
        extra = json.loads(self.messages(1419421927080067072)[1419421940711686151]["extra"])
        self.assertEqual(extra["package"]["timestamp"], "2025-09-21 20:36:02")
        self.assertIn("reactions", extra["package"]["lacks"])


class Merge(Base):
    def dce_file(self):
        d = os.path.join(FIX, "merge", "dce")
        return os.path.join(d, os.listdir(d)[0])

    def check_union(self):
        msgs = self.messages(GENERAL)
        ids = sorted(msgs)
        m1, m2, m3 = 1246433064247361543, 1246433095004192775, 1246433441218822151
        self.assertEqual(len(ids), 5, ids)  # 3 from DCE, 2 only in the package, each once
        self.assertTrue({m1, m2, m3} <= set(ids))
        contents = {msgs[i]["content"] for i in ids}
        self.assertIn("before the export", contents)
        self.assertIn("after the export", contents)
        # DCE's richer fields kept
        self.assertEqual(msgs[m1]["pinned"], 1)
        self.assertEqual(msgs[m3]["type"], 19)
        self.assertEqual(msgs[m3]["ref_message_id"], m2)
        self.assertIsNotNone(msgs[m3]["edited_ms"])
        self.assertEqual(msgs[m1]["ts_ms"], 1717243200123)
        with self.db() as c:
            r = c.execute("SELECT count, emoji_name FROM reactions WHERE message_id=?", (m1,)).fetchone()
            self.assertEqual(r[0], 2)
            self.assertEqual(c.execute("SELECT count(*) FROM reaction_users WHERE message_id=?", (m1,)).fetchone()[0], 2)
            self.assertEqual(c.execute("SELECT count(*) FROM embeds WHERE message_id=?", (m2,)).fetchone()[0], 1)
            atts = c.execute("SELECT id, filename, size FROM attachments WHERE message_id=?", (m1,)).fetchall()
            self.assertEqual([(a[0], a[1], a[2]) for a in atts], [(1246433064016674816, "cat.png", 48213)])
            alice = c.execute("SELECT avatar_url FROM users WHERE id=?", (ALICE,)).fetchone()
            self.assertIn("dce0avatar0hash", alice[0])
            self.assertEqual(c.execute("SELECT name FROM guilds WHERE id=?", (GUILD,)).fetchone()[0], "Example Guild")
        # the package's raw content is kept beside DCE's display text
        extra = json.loads(msgs[m1]["extra"])
        self.assertEqual(extra["package"]["contents"], "Hello <@555676493414662151>, rules are in <#794762915348742154>")
        for i in ids:
            self.assertEqual(msgs[i]["author_id"], BOB if i == m2 else ALICE)
        return {i: (msgs[i]["content"], msgs[i]["type"], msgs[i]["pinned"], msgs[i]["edited_ms"]) for i in ids}

    def test_dce_then_package_and_package_then_dce_give_the_same_union(self):
        pkg = zip_dir(os.path.join(FIX, "merge", "package"), os.path.join(self.tmp, "merge.zip"))
        self.ferry("import", "dce", self.dce_file(), "--store", self.store, "--json")
        self.import_json(pkg)
        a = self.check_union()
        os.remove(self.store)
        self.import_json(pkg)
        self.ferry("import", "dce", self.dce_file(), "--store", self.store, "--json")
        b = self.check_union()
        self.assertEqual(a, b)
        st = json.loads(self.ferry("stats", "--store", self.store, "--json").stdout)
        self.assertEqual(st["messages_by_source"], {"dce": 3, "package": 2})


class AutoDetect(Base):
    def test_import_paths_recognised_by_content(self):
        z = self.zipped("era-e")
        renamed = os.path.join(self.tmp, "export.bin")  # names do not matter
        shutil.copy(z, renamed)
        junk = os.path.join(self.tmp, "junk.json")
        with open(junk, "w") as f:
            f.write('{"hello": "world"}')
        dce = os.path.join(FIX, "merge", "dce")
        p = self.ferry("import", renamed, dce, os.path.join(FIX, "pl-partial"), junk, "--store", self.store,
                       "--json", expect=1)
        out = json.loads(p.stdout)
        kinds = {os.path.basename(i["path"]): i["detected"] for i in out["inputs"]}
        self.assertEqual(kinds, {"export.bin": "package", "dce": "dce", "pl-partial": "package", "junk.json": "unknown"})
        statuses = [r.get("status") for r in out["results"]]
        self.assertEqual(statuses.count("done"), 3, out["results"])
        self.assertEqual(len(self.messages(GENERAL)), 4)  # 3 from DCE + 1 from the era-E package
        # human form says what it took each input for
        os.remove(self.store)
        p = self.ferry("import", renamed, "--store", self.store)
        self.assertIn("Discord data package (zip", p.stderr)


class Resume(Base):
    def make_big_package(self, channels, per_channel):
        root = os.path.join(self.tmp, "big")
        os.makedirs(os.path.join(root, "Messages"))
        index = {}
        base = ((1758400000000 - 1420070400000) << 22)
        for c in range(channels):
            cid = base + c * (1 << 30)
            index[str(cid)] = "chan%d in Big Guild" % c
            d = os.path.join(root, "Messages", "c%d" % cid)
            os.makedirs(d)
            with open(os.path.join(d, "channel.json"), "w") as f:
                json.dump({"id": str(cid), "type": "GUILD_TEXT", "name": "chan%d" % c,
                           "guild": {"id": str(GUILD), "name": "Big Guild"}}, f)
            with open(os.path.join(d, "messages.json"), "w") as f:
                rows = ['{"ID": %d, "Timestamp": "", "Contents": "message %d of channel %d", "Attachments": ""}'
                        % (cid + 1 + i, i, c) for i in range(per_channel)]
                f.write("[\n" + ",\n".join(rows) + "\n]\n")
        with open(os.path.join(root, "Messages", "index.json"), "w") as f:
            json.dump(index, f)
        return root

    def test_interrupted_import_leaves_whole_channels_and_resumes(self):
        channels, per = 100, 300
        pkg = self.make_big_package(channels, per)
        proc = subprocess.Popen([FERRY, "import", "package", pkg, "--store", self.store, "--json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 30
            while time.time() < deadline and proc.poll() is None:
                try:
                    with sqlite3.connect(self.store, timeout=0.1) as c:
                        if c.execute("SELECT count(*) FROM run_files WHERE status='done' AND file LIKE '%messages.json'").fetchone()[0] >= 2:
                            break
                except sqlite3.Error:
                    pass
                time.sleep(0.01)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.assertEqual(proc.returncode, 4, out + err)
        self.assertEqual(json.loads(out)["status"], "interrupted")
        with self.db() as c:
            per_channel = [r[0] for r in c.execute("SELECT count(*) FROM messages GROUP BY channel_id")]
            self.assertEqual(c.execute("SELECT status FROM import_runs").fetchone()[0], "interrupted")
        self.assertTrue(all(n == per for n in per_channel), per_channel)  # never half a channel
        done_before = len(per_channel)
        self.assertLess(done_before, channels)
        s = self.import_json(pkg)
        self.assertEqual(s["status"], "done")
        self.assertEqual(s["counts"].get("channel_files_already_done", 0), done_before)
        with self.db() as c:
            self.assertEqual(c.execute("SELECT count(*) FROM messages").fetchone()[0], channels * per)


if __name__ == "__main__":
    FERRY = os.path.abspath(sys.argv[1])
    FIX = os.path.join(os.path.abspath(sys.argv[2]), "fixtures", "package")
    argv = [sys.argv[0]] + sys.argv[3:]
    unittest.main(argv=argv, verbosity=2)
