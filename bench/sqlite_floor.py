#!/usr/bin/env python3
"""What SQLite alone costs to write the rows `ferry import dce` writes (not part of the test run).

Copies the messages of an existing Ferry store (and their attachments, embeds, reactions, mentions, …)
into a fresh store with the same schema and pragmas as an import into a new store uses (16 KiB pages,
rollback journal, synchronous=OFF: store/unsynced_import.hpp; 16 MiB cache, batches of 5,000 messages per
transaction; `--wal` for WAL and synchronous=NORMAL, as an import into an existing store), entirely inside SQLite
(INSERT … SELECT: no parsing, no Python per row), then builds the FTS5 search index the same way the
importer does at the end of a run. Prints the CPU seconds of each step and the import rate that SQLite's
work alone would allow on one writer thread: a ceiling no importer on this store layout can beat.

  bench/sqlite_floor.py [--wal] STORE [MESSAGES]   e.g. after bench/import_bench.sh: bench/out/bench.db 2000000
"""
import os, resource, shutil, sqlite3, sys, tempfile, time

WAL = "--wal" in sys.argv[1:]
if WAL:
    sys.argv.remove("--wal")
if len(sys.argv) < 2:
    sys.exit(__doc__)
SRC = os.path.abspath(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 2000000
BATCH = 5000
# Tables keyed by message, copied with the batch of messages they belong to (as the importer writes them).
BY_MESSAGE = ["attachments", "embeds", "message_stickers", "reactions", "reaction_users", "mentions"]


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    if not os.path.exists(SRC):
        sys.exit(f"sqlite_floor: {SRC}: no such store")
    tmp = tempfile.mkdtemp(prefix="ferry-sqlite-floor-", dir=os.path.dirname(SRC))
    try:
        dst = os.path.join(tmp, "floor.db")
        db = sqlite3.connect(dst, isolation_level=None)
        db.execute("PRAGMA page_size=16384")
        db.execute("PRAGMA journal_mode=WAL" if WAL else "PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=NORMAL" if WAL else "PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-16384")
        db.execute("PRAGMA wal_autocheckpoint=4000")
        db.execute("ATTACH DATABASE ? AS src", (f"file:{SRC}?mode=ro",))
        schema = db.execute("SELECT type, name, sql FROM src.sqlite_master WHERE sql IS NOT NULL"
                            " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'"
                            " ORDER BY type = 'index', rowid").fetchall()
        for kind, name, sql in schema:
            if kind == "trigger":
                continue  # the importer's search queue is written explicitly, as below
            db.execute(sql)
        cols = {t: ", ".join(r[1] for r in db.execute(f"PRAGMA src.table_info({t})")) for t in ["messages"] + BY_MESSAGE}
        ids = [r[0] for r in db.execute("SELECT id FROM src.messages ORDER BY id LIMIT ?", (N,))]
        if not ids:
            sys.exit(f"sqlite_floor: {SRC} has no messages")
        bounds = [(ids[i], ids[min(i + BATCH, len(ids)) - 1]) for i in range(0, len(ids), BATCH)]
        n = len(ids)
        del ids

        t0, c0 = time.time(), cpu()
        for lo, hi in bounds:
            db.execute("BEGIN IMMEDIATE")
            db.execute(f"INSERT INTO messages ({cols['messages']}) SELECT {cols['messages']} FROM src.messages"
                       " WHERE id BETWEEN ? AND ?", (lo, hi))
            db.execute("INSERT INTO fts_pending(id) SELECT id FROM messages WHERE id BETWEEN ? AND ?"
                       " AND content IS NOT NULL AND content <> ''", (lo, hi))
            db.execute("COMMIT")
        c_msgs, t_msgs = cpu() - c0, time.time() - t0

        t0, c0 = time.time(), cpu()
        for lo, hi in bounds:
            db.execute("BEGIN IMMEDIATE")
            for t in BY_MESSAGE:
                db.execute(f"INSERT INTO {t} ({cols[t]}) SELECT {cols[t]} FROM src.{t}"
                           " WHERE message_id BETWEEN ? AND ?", (lo, hi))
            db.execute("COMMIT")
        c_coll, t_coll = cpu() - c0, time.time() - t0

        t0, c0 = time.time(), cpu()
        db.execute("CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id',"
                   " tokenize='unicode61 remove_diacritics 2', columnsize=0)")
        # As FlushSearchIndex's bulk pass: no merging while segments are added, one merge at the end.
        db.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('automerge', 0)")
        db.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('crisismerge', 1000)")
        step = 20000
        for i in range(0, len(bounds), max(1, step // BATCH)):
            lo, hi = bounds[i][0], bounds[min(i + step // BATCH, len(bounds)) - 1][1]
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO messages_fts(rowid, content) SELECT m.id, m.content FROM fts_pending p"
                       " CROSS JOIN messages m ON m.id = p.id WHERE p.id BETWEEN ? AND ?", (lo, hi))
            db.execute("DELETE FROM fts_pending WHERE id BETWEEN ? AND ?", (lo, hi))
            db.execute("COMMIT")
        db.execute("INSERT INTO messages_fts(messages_fts) VALUES ('optimize')")
        c_fts, t_fts = cpu() - c0, time.time() - t0
        db.close()

        total = c_msgs + c_coll + c_fts
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
        mode = "WAL, synchronous=NORMAL" if WAL else "rollback journal, synchronous=OFF (a new store)"
        print(f"SQLite's own work for {n:,} messages of {SRC} (one writer, import pragmas: {mode}; load {load})")
        for name, c, t in (("messages + search queue", c_msgs, t_msgs),
                           ("attachments/embeds/reactions/mentions", c_coll, t_coll),
                           ("FTS5 search index", c_fts, t_fts)):
            print(f"  {name:<40} {c:6.2f} CPU-s  {t:6.2f} s wall")
        print(f"  {'total':<40} {total:6.2f} CPU-s  -> at most {n / total:,.0f} msg/s on one writer thread,"
              " before any parsing")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
