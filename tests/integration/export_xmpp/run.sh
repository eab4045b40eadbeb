#!/usr/bin/env bash
# End to end: DCE fixtures -> store -> `ferry export xmpp` -> load.sh -> a throwaway Prosody on 127.0.0.1
# -> slixmpp logs in as an imported user and checks roster, vCard, rooms, affiliations and MAM history.
# Usage: run.sh FERRY_BINARY SOURCE_DIR
set -euo pipefail
ferry=$1
src=$2
tmp=$(mktemp -d /tmp/ferry-xmpp-test.XXXXXX)
prosody_pid=""
cleanup() {
  if [ -n "$prosody_pid" ] && kill -0 "$prosody_pid" 2>/dev/null; then
    kill "$prosody_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$prosody_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$prosody_pid" 2>/dev/null || true
  fi
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/prosody/prosody.log" ] && tail -n 30 "$tmp/prosody/prosody.log" >&2; exit 1; }

for cmd in prosody prosodyctl; do
  command -v $cmd >/dev/null || fail "$cmd is not installed (scripts/setup.sh --test installs prosody, lua-dbi-sqlite3, python3-slixmpp)"
done

echo "== import fixtures"
"$ferry" import dce "$src/fixtures/dce/sample" "$src/fixtures/dce/cases/dm" "$src/fixtures/dce/cases/group-dm" \
  --store "$tmp/store.db" >"$tmp/import.log" 2>&1 || { cat "$tmp/import.log"; fail "import dce"; }

echo "== export errors"
set +e
"$ferry" export xmpp --store "$tmp/store.db" --domain chat.test --muc-domain rooms.chat.test --out "$tmp/e1" --guild 42 2>"$tmp/err1"; rc1=$?
"$ferry" export xmpp --store "$tmp/store.db" --domain "bad domain!" --muc-domain rooms.chat.test --out "$tmp/e2" 2>"$tmp/err2"; rc2=$?
touch "$tmp/afile"
"$ferry" export xmpp --store "$tmp/store.db" --domain chat.test --muc-domain rooms.chat.test --out "$tmp/afile/sub" 2>"$tmp/err3"; rc3=$?
set -e
[ $rc1 = 2 ] && grep -q "guild 42 is not in the store" "$tmp/err1" || fail "unknown guild: rc=$rc1 $(cat "$tmp/err1")"
[ $rc2 = 2 ] && grep -q "domain 'bad domain!'" "$tmp/err2" || fail "invalid domain: rc=$rc2 $(cat "$tmp/err2")"
[ $rc3 != 0 ] && grep -q "afile/sub" "$tmp/err3" || fail "unwritable output: rc=$rc3 $(cat "$tmp/err3")"

echo "== export (twice, deterministic)"
"$ferry" export xmpp --store "$tmp/store.db" --domain chat.test --muc-domain rooms.chat.test --out "$tmp/none1" --password-mode none >/dev/null
"$ferry" export xmpp --store "$tmp/store.db" --domain chat.test --muc-domain rooms.chat.test --out "$tmp/none2" --password-mode none >/dev/null
"$ferry" export xmpp --store "$tmp/store.db" --domain chat.test --muc-domain rooms.chat.test --out "$tmp/none2" --password-mode none >/dev/null
diff -r "$tmp/none1" "$tmp/none2" >/dev/null || fail "two exports of the same store differ: $(diff -r "$tmp/none1" "$tmp/none2" | head -5)"
[ ! -e "$tmp/none1/credentials.csv" ] || fail "credentials.csv written with --password-mode none"
out=$tmp/out
"$ferry" export xmpp --store "$tmp/store.db" --domain chat.test --muc-domain rooms.chat.test --out "$out" | tee "$tmp/export.log"
grep -q "load.sh" "$tmp/export.log" || fail "export did not print how to load"
for f in load.sh LOAD.md credentials.csv manifest.json muc/rooms.jsonl muc/muc_log.tsv; do
  [ -s "$out/$f" ] || fail "missing $out/$f"
done
[ "$(stat -c %a "$out/credentials.csv")" = 600 ] || fail "credentials.csv is not private"
# Every file the loader reads is well-formed XML (xmllint-free check with Python's parser).
/usr/bin/python3 - "$out" <<'PY' || fail "malformed XML in the export"
import sys, glob, xml.dom.minidom
out = sys.argv[1]
for f in glob.glob(out + "/xep0227/*.xml"):
    xml.dom.minidom.parse(f)
for n, line in enumerate(open(out + "/muc/muc_log.tsv", encoding="utf-8"), 1):
    xml.dom.minidom.parseString(line.rstrip("\n").split("\t", 5)[5])
PY

echo "== throwaway Prosody"
# A free port below the kernel's ephemeral range (32768+), so no other test's port-0 socket can take it
# between this probe and Prosody's bind.
ports=$(/usr/bin/python3 -c 'import random, socket
for _ in range(200):
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()')
mkdir -p "$tmp/prosody/data" "$tmp/prosody/certs"
cfg=$tmp/prosody/test.cfg.lua
cat >"$cfg" <<CFG
-- Throwaway test server: loopback only, own data dir and pidfile, no s2s, no HTTP.
run_as_root = true
daemonize = false
pidfile = "$tmp/prosody/prosody.pid"
data_path = "$tmp/prosody/data"
certificates = "$tmp/prosody/certs"
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { $ports }
s2s_ports = { }
modules_enabled = { "roster", "saslauth", "disco", "vcard", "mam", "ping", "posix" }
modules_disabled = { "s2s", "admin_shell", "http", "c2s_limits" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_hashed"
storage = "sql"
sql = { driver = "SQLite3", database = "prosody.sqlite" }
archive_expires_after = "never"
log = { { levels = { min = "info" }, to = "file", filename = "$tmp/prosody/prosody.log" } }
VirtualHost "chat.test"
Component "rooms.chat.test" "muc"
  modules_enabled = { "muc_mam" }
  muc_log_expires_after = "never"
CFG

echo "== load.sh"
"$out/load.sh" "$cfg" | tee "$tmp/load1.log" || fail "load.sh failed"
grep -q "Data directory: $tmp/prosody/data" "$tmp/load1.log" || fail "load.sh did not use the config's data_path"
grep -q "Room history rows: [1-9][0-9]* added, 0 already there" "$tmp/load1.log" || fail "no history loaded"
[ -s "$tmp/prosody/data/prosody.sqlite" ] || fail "database not created in the config's data_path"
[ ! -e /var/lib/prosody/prosody.sqlite ] || [ /var/lib/prosody/prosody.sqlite -ot "$out/load.sh" ] || fail "touched the system Prosody"

echo "== load.sh again (no duplicates)"
"$out/load.sh" "$cfg" | tee "$tmp/load2.log" >/dev/null || fail "second load.sh failed"
grep -q "Room history rows: 0 added" "$tmp/load2.log" || fail "second load added history again: $(grep 'history rows' "$tmp/load2.log")"
grep -q "Personal archive rows: 0 added" "$tmp/load2.log" || fail "second load added DM rows again"

echo "== load.sh after a load stopped half-way (the newest rows of one room missing)"
/usr/bin/python3 - "$tmp/prosody/data/prosody.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
# Prosody 0.12 fails every MAM query on an archive with a fractional "when".
bad = db.execute("SELECT count(*) FROM prosodyarchive WHERE typeof(\"when\") != 'integer'").fetchone()[0]
assert bad == 0, f"{bad} archive rows have a non-integer when"
ids = [r[0] for r in db.execute("SELECT sort_id FROM prosodyarchive WHERE store='muc_log' AND user='general' "
                                "ORDER BY sort_id DESC LIMIT 3")]
db.execute("DELETE FROM prosodyarchive WHERE sort_id IN (%s)" % ",".join(map(str, ids)))
db.commit()
PY
"$out/load.sh" "$cfg" >"$tmp/load-resume.log" || fail "load.sh after a half-way load failed"
grep -q "Room history rows: 3 added, [1-9][0-9]* already there" "$tmp/load-resume.log" ||
  fail "resumed load did not add exactly the 3 missing rows: $(grep 'history rows' "$tmp/load-resume.log")"

echo "== load.sh errors: storage not sql, another layout, database not writable"
sed 's/^storage = "sql"/storage = "internal"/' "$cfg" >"$tmp/prosody/internal.cfg.lua"
set +e
"$out/load.sh" "$tmp/prosody/internal.cfg.lua" >"$tmp/err-internal" 2>&1; rc=$?
set -e
[ $rc != 0 ] && grep -q 'storage for [a-z_]* on [a-z.]* is "internal", not "sql"' "$tmp/err-internal" ||
  fail "load.sh did not refuse non-SQL storage: $(cat "$tmp/err-internal")"
cp -r "$out" "$tmp/oldlayout"
sed -i 's/"version": [0-9]*/"version": 1/' "$tmp/oldlayout/manifest.json"
set +e
"$tmp/oldlayout/load.sh" "$cfg" >"$tmp/err-layout" 2>&1; rc=$?
set -e
[ $rc != 0 ] && grep -q "layout version 1, this loader reads version 2" "$tmp/err-layout" ||
  fail "load.sh read an output of another layout: $(cat "$tmp/err-layout")"
# A database file the loader may not write (root may write anything, so run as nobody then; logging to
# the console, since prosodyctl insists on writable log files).
sed 's/^log = .*/log = "*console"/' "$cfg" >"$tmp/prosody/console.cfg.lua"
set +e
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$tmp"
  setpriv --reuid=65534 --regid=65534 --clear-groups "$out/load.sh" "$tmp/prosody/console.cfg.lua" >"$tmp/err-ro" 2>&1; rc=$?
else
  chmod a-w "$tmp/prosody/data/prosody.sqlite"
  "$out/load.sh" "$tmp/prosody/console.cfg.lua" >"$tmp/err-ro" 2>&1; rc=$?
  chmod u+w "$tmp/prosody/data/prosody.sqlite"
fi
set -e
[ $rc != 0 ] && grep -q "prosody.sqlite is not writable" "$tmp/err-ro" ||
  fail "load.sh did not report an unwritable database: $(cat "$tmp/err-ro")"

echo "== per-host SQL: the MUC component has its own database"
mkdir -p "$tmp/prosody3/data"
sed -e "s|$tmp/prosody/data|$tmp/prosody3/data|" -e "s|$tmp/prosody/prosody.pid|$tmp/prosody3/prosody.pid|" \
  -e 's|^  muc_log_expires_after = "never"|&\n  sql = { driver = "SQLite3", database = "muc.sqlite" }|' "$cfg" >"$tmp/prosody3/test.cfg.lua"
"$tmp/none1/load.sh" "$tmp/prosody3/test.cfg.lua" >"$tmp/load-perhost.log" || { cat "$tmp/load-perhost.log"; fail "per-host load"; }
/usr/bin/python3 - "$tmp/prosody3/data" <<'PY' || fail "per-host SQL: rows in the wrong database"
import sqlite3, sys
main, muc = (sqlite3.connect(sys.argv[1] + f) for f in ("/prosody.sqlite", "/muc.sqlite"))
q = lambda db, t: {h for (h,) in db.execute(f"SELECT DISTINCT host FROM {t}")}
assert q(main, "prosody") == {"chat.test"} and q(main, "prosodyarchive") <= {"chat.test"}, "main db"
assert q(muc, "prosody") == {"rooms.chat.test"} and q(muc, "prosodyarchive") == {"rooms.chat.test"}, "muc db"
print("ok   accounts in prosody.sqlite, rooms and their history in the component's muc.sqlite")
PY

echo "== start Prosody"
prosody --config "$cfg" -F >"$tmp/prosody/stdout.log" 2>&1 &
prosody_pid=$!
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$ports) 2>/dev/null && break
  kill -0 $prosody_pid 2>/dev/null || { cat "$tmp/prosody/stdout.log"; fail "prosody exited"; }
  sleep 0.2
done
set +e
"$out/load.sh" "$cfg" >"$tmp/load3.log" 2>&1; rc=$?
set -e
[ $rc != 0 ] && grep -q "Prosody is running" "$tmp/load3.log" || fail "load.sh did not refuse a running server: $(cat "$tmp/load3.log")"

echo "== slixmpp checks"
timeout 60 /usr/bin/python3 "$src/tests/integration/export_xmpp/check.py" "$out" 127.0.0.1 "$ports" || fail "client checks"

stop_prosody() {
  kill "$prosody_pid"
  for _ in $(seq 100); do kill -0 "$prosody_pid" 2>/dev/null || break; sleep 0.1; done
  prosody_pid=""
}
start_prosody() {
  prosody --config "$1" -F >"$tmp/prosody/stdout.log" 2>&1 &
  prosody_pid=$!
  for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$ports) 2>/dev/null && return 0
    kill -0 $prosody_pid 2>/dev/null || { cat "$tmp/prosody/stdout.log"; fail "prosody exited"; }
    sleep 0.2
  done
  fail "prosody did not listen on $ports"
}

echo "== --password-mode none: accounts without passwords, into a second, fresh storage"
stop_prosody
mkdir -p "$tmp/prosody2/data"
cfg2=$tmp/prosody2/test.cfg.lua
sed -e "s|$tmp/prosody/data|$tmp/prosody2/data|" -e "s|$tmp/prosody/prosody.pid|$tmp/prosody2/prosody.pid|" "$cfg" >"$cfg2"
"$tmp/none1/load.sh" "$cfg2" >"$tmp/load-none.log" || { cat "$tmp/load-none.log"; fail "load.sh of the none export"; }
n=$(ls "$tmp/none1/xep0227" | wc -l)
grep -q "Accounts: $n created, 0 already there" "$tmp/load-none.log" ||
  fail "--password-mode none: expected $n accounts: $(grep Accounts "$tmp/load-none.log")"
grep -q "$n accounts have no password" "$tmp/load-none.log" || fail "load.sh did not say the accounts have no password"
/usr/bin/python3 - "$tmp/prosody2/data/prosody.sqlite" "$tmp/none1/xep0227" <<'PY' || fail "accounts of the none export"
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
users = sorted(f.split("@")[0] for f in os.listdir(sys.argv[2]))
for u in users:
    acc = dict(db.execute("SELECT key, value FROM prosody WHERE host='chat.test' AND user=? AND store='accounts'", (u,)))
    # No password: the marker, and keys that match no password (all zeros) so logins fail cleanly.
    assert acc.get("ferry_imported_without_password") == "true" and "password" not in acc, (u, acc)
    assert set(acc["stored_key"]) == {"0"} and set(acc["server_key"]) == {"0"}, (u, acc)
    assert db.execute("SELECT count(*) FROM prosody WHERE host='chat.test' AND user=? AND store='vcard'", (u,)).fetchone()[0] > 0, u
print("ok   %d accounts exist with no usable password and a vCard" % len(users))
PY
printf 'admin-set-pw\nadmin-set-pw\n' | prosodyctl --config "$cfg2" passwd alice@chat.test >/dev/null 2>&1 ||
  fail "prosodyctl passwd on an imported account"
start_prosody "$cfg2"
timeout 60 /usr/bin/python3 "$src/tests/integration/export_xmpp/check_none.py" 127.0.0.1 "$ports" || fail "none-mode client checks"
echo "export_xmpp: all checks passed"
