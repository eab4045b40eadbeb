#!/usr/bin/env python3
"""The naive baseline the import benchmark compares against: json.load every DCE file whole and insert
its messages, authors and reactions into SQLite with executemany. This is what a quick script does; it
holds each file in memory, so its peak RSS grows with the largest file."""
import json
import os
import sqlite3
import sys

db_path, inputs = sys.argv[1], sys.argv[2:]
if os.path.exists(db_path):
    os.remove(db_path)
db = sqlite3.connect(db_path)
db.executescript("""
PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, nickname TEXT);
CREATE TABLE messages(id INTEGER PRIMARY KEY, channel_id INTEGER, author_id INTEGER, ts TEXT, content TEXT, extra TEXT);
CREATE TABLE reactions(message_id INTEGER, emoji TEXT, count INTEGER);
""")
files = []
for p in inputs:
    if os.path.isdir(p):
        for root, _, names in os.walk(p):
            files += [os.path.join(root, n) for n in names if n.endswith(".json")]
    else:
        files.append(p)
n = 0
for path in sorted(files):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    ch = int(doc["channel"]["id"])
    msgs, users, reacts = [], {}, []
    for m in doc["messages"]:
        a = m["author"]
        users[int(a["id"])] = (int(a["id"]), a.get("name"), a.get("nickname"))
        msgs.append((int(m["id"]), ch, int(a["id"]), m["timestamp"], m["content"],
                     json.dumps({k: v for k, v in m.items() if k not in ("id", "author", "timestamp", "content")})))
        for r in m.get("reactions", []):
            reacts.append((int(m["id"]), r["emoji"]["name"], r["count"]))
    with db:
        db.executemany("INSERT OR REPLACE INTO users VALUES (?,?,?)", users.values())
        db.executemany("INSERT OR REPLACE INTO messages VALUES (?,?,?,?,?,?)", msgs)
        db.executemany("INSERT INTO reactions VALUES (?,?,?)", reacts)
    n += len(msgs)
print(json.dumps({"messages": n}))
