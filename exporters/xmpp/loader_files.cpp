// Texts written into every XMPP export. They are C++ raw strings so the binary carries them.
#include "exporters/xmpp/loader_files.hpp"

namespace ferry::xmpp {
namespace {

void ReplaceAll(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

}  // namespace

std::string LoadScript() {
  return R"FERRYLUA(#!/bin/sh
# Loads this ferry XMPP export into one Prosody server's storage.
#   usage: load.sh /path/to/prosody.cfg.lua
# Prosody must be stopped. The data directory and the database come from that config file; nothing else
# on the machine is touched. Running it again adds only what is missing (see LOAD.md).
set -eu

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: $0 /path/to/prosody.cfg.lua" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
config=$1
if [ ! -r "$config" ]; then
  echo "load.sh: cannot read the Prosody config file $config" >&2
  exit 2
fi
config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
for f in manifest.json ferry-load.lua muc/rooms.jsonl muc/muc_log.tsv; do
  if [ ! -r "$here/$f" ]; then
    echo "load.sh: $here/$f is missing; rerun ferry export xmpp" >&2
    exit 2
  fi
done

# Prosody's Lua interpreter and library paths, exactly as its own prosodyctl uses them.
ctl=${PROSODYCTL:-$(command -v prosodyctl || true)}
if [ -z "$ctl" ] || [ ! -r "$ctl" ]; then
  echo "load.sh: prosodyctl not found; install Prosody or set PROSODYCTL=/path/to/prosodyctl" >&2
  exit 2
fi
interp=$(head -n 1 "$ctl" | sed -n 's/^#!//p')
if [ -z "$interp" ]; then
  echo "load.sh: cannot tell which Lua runs $ctl" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
grep -E '^CFG_[A-Z]+ *=' "$ctl" > "$tmp/run.lua" || true
echo 'dofile(os.getenv("FERRY_OUT").."/ferry-load.lua")' >> "$tmp/run.lua"

# shellcheck disable=SC2086  # $interp may be "/usr/bin/env lua5.4"
FERRY_OUT=$here FERRY_CONFIG=$config FERRY_REPORT=$tmp/report $interp "$tmp/run.lua"

# Run as root, the loader may have created the SQLite database (and its journal files) as root: hand
# them to whoever owns the data directory, which is the user Prosody runs as.
# The report holds the data directory, then one line per SQLite database file the loader wrote.
if [ "$(id -u)" = 0 ] && [ -r "$tmp/report" ]; then
  datadir=$(sed -n 1p "$tmp/report")
  if [ -d "$datadir" ]; then
    sed -n '2,$p' "$tmp/report" | while IFS= read -r db; do
      for f in "$db" "$db-wal" "$db-shm" "$db-journal"; do
        if [ -e "$f" ] && [ "$(stat -c %u "$f")" = 0 ]; then chown --reference="$datadir" "$f"; fi
      done
    done
  fi
fi
)FERRYLUA";
}

std::string LoadMarkdown(const std::string& domain, const std::string& muc_domain, const std::string& files_url,
                         bool has_credentials) {
  std::string s = R"FERRYLUA(# Loading this export into Prosody

This folder was written by `ferry export xmpp`. It holds a Discord community for the Prosody XMPP server:

| what | where | becomes |
| --- | --- | --- |
| one account per Discord user (vCard with display name and avatar, roster of DM partners) | `xep0227/*.xml` (XEP-0227) | accounts on `@DOMAIN@` |
| 1:1 DMs, both sides | inside each user's XEP-0227 file (`urn:xmpp:pie:0#mam`) | each user's personal archive (XEP-0313) |
| one persistent room per channel, thread and group DM | `muc/rooms.jsonl` | rooms on `@MUC@` with name, topic, members-only/hidden for private channels, affiliations (owner, admin, member) and reserved nicknames |
| room history | `muc/muc_log.tsv` | each room's archive (XEP-0313), original times and nicknames, XEP-0421 occupant ids, XEP-0461 replies, XEP-0444 reactions, XEP-0308 corrections for edited messages |
| attachments | `files/` | XEP-0066 links to `@FILES@…` |
@CREDS@
## 1. Configure Prosody (0.12 or later)

`load.sh` writes Prosody's SQL store (SQLite, PostgreSQL or MySQL) and stops with an error if the storage of
these hosts is anything else. In `prosody.cfg.lua`:

```lua
storage = "sql"
sql = { driver = "SQLite3", database = "prosody.sqlite" }   -- or PostgreSQL / MySQL
archive_expires_after = "never"     -- the default (one week) deletes imported DM history
default_archive_policy = true

VirtualHost "@DOMAIN@"
    modules_enabled = { "mam" }

Component "@MUC@" "muc"
    modules_enabled = { "muc_mam" }
    muc_log_expires_after = "never" -- the default (one week) deletes imported room history
    muc_log_by_default = true
```

Install the Lua database driver (`lua-dbi-sqlite3`, `lua-dbi-postgresql` or `lua-dbi-mysql` on Debian).

## 2. Load

Stop Prosody, then run, as root or as the user Prosody runs as:

    ./load.sh /etc/prosody/prosody.cfg.lua

Any config path works. `load.sh` reads the data directory and the database (per host, if the hosts have
their own `sql` option) from that file (never assuming `/var/lib/prosody`), loads everything with Prosody's own
libraries and its SQL driver's connection, and touches nothing but that Prosody's storage. It writes in
transactions of 5,000 rows (2.7 million history rows took about a minute on SQLite in our benchmark). It stops with a clear
error if the database cannot be written. If it created the SQLite file as root it hands it to the owner of the
data directory. Then start Prosody again.

`load.sh` only reads the files written with it: `manifest.json` names their layout version, and a loader of
another ferry version refuses them instead of misreading them.

**Loading twice does not duplicate anything.** Every archived message has a fixed id (its Discord
snowflake, with `-edit` or `-r-<user>` for corrections and reactions); rows whose id is already stored are
skipped. Accounts, vCards, rosters and room configurations are only written when the server has none yet, so
passwords or settings changed after the first load are kept. A loader stopped half-way can simply be run again.

## 3. Serve the attachments

Messages link attachments at `@FILES@<attachment id>/<file name>`, matching `files/` here. With Prosody's
mod_http_files:

```lua
modules_enabled = { "http_files" }
http_files_dir = "/path/to/this/folder/files"
```

Or copy `files/` to any web server and export again with `--files-url` set to its address.

## Notes

- Room nicknames are the Discord server nicknames (or display names); two people with the same name get their
  account name appended. Each user's nickname is reserved for them in every room they are affiliated with.
- Custom (non-Unicode) emoji reactions cannot be expressed in XEP-0444 and are left out.
- Threads are rooms of their own; the parent room's "started a thread" message links to them.
- Edited messages carry their final text; a XEP-0308 correction marks them as edited.
)FERRYLUA";
  ReplaceAll(s, "@CREDS@", has_credentials ? R"FERRYLUA(
`credentials.csv` lists every account's JID and its generated password (clear text: hand each person theirs,
then delete the file). Only SCRAM verifiers are in the XEP-0227 files.
)FERRYLUA" : R"FERRYLUA(
**No passwords** (exported with `--password-mode none`): every account is created, with its vCard, roster and
archive, but without any password, so nobody can log in to it until you set one:

    prosodyctl --config /etc/prosody/prosody.cfg.lua passwd someone@@DOMAIN@

Until then each such account carries the property `ferry_imported_without_password` (Prosody ignores it) and
placeholder all-zero SCRAM keys, which match no password, so every login attempt is refused cleanly; setting a
password replaces them. Export with
`--password-mode random` instead to get generated passwords in `credentials.csv`.
)FERRYLUA");
  ReplaceAll(s, "@DOMAIN@", domain);
  ReplaceAll(s, "@MUC@", muc_domain);
  ReplaceAll(s, "@FILES@", files_url);
  return s;
}

std::string LoaderLua() {
  return R"FERRYLUA(-- ferry-load.lua: loads a `ferry export xmpp` folder into one Prosody's SQL storage, through Prosody's own
-- libraries and its own config (data_path, storage, sql, per-host options), like prosody-migrator does.
-- Run by load.sh with Prosody's Lua; FERRY_OUT and FERRY_CONFIG come from the environment.
--
-- Rows go straight into the tables of Prosody's SQL driver (mod_storage_sql), through the driver's own
-- database connection, in transactions of LOAD_BATCH rows: a one-row-per-transaction storage API needs
-- minutes for a large history. The driver opens (and, on a fresh database, creates) its tables first.
--
-- Safe to run twice: accounts, vCards, rosters and room configs are only written when the server has none
-- yet (nothing a user changed since is overwritten), and archive rows whose key is already stored are
-- skipped. A room or user with no archive rows at all (a first load) is written without per-row checks.

local LAYOUT = 2;          -- the output layout this loader reads (manifest.json "version")
local LOAD_BATCH = 5000;   -- rows per transaction

local out_dir = assert(os.getenv("FERRY_OUT"), "FERRY_OUT not set");
local config_path = assert(os.getenv("FERRY_CONFIG"), "FERRY_CONFIG not set");
local report_path = os.getenv("FERRY_REPORT");

if CFG_SOURCEDIR then
	package.path = CFG_SOURCEDIR.."/?.lua;"..package.path;
	package.cpath = CFG_SOURCEDIR.."/?.so;"..package.cpath;
end

-- Boot like prosodyctl, reading the admin's config; --root keeps our uid (load.sh fixes file ownership).
arg = { "--config", config_path, "--root" };
local startup = require "util.startup";
startup.prosodyctl();

local configmanager = require "core.configmanager";
local modulemanager = require "core.modulemanager";
local sm = require "core.storagemanager";
local um = require "core.usermanager";
local xml_parse = require "util.xml".parse;
local json = require "util.json";
local hmac_sha256 = require "util.hashes".hmac_sha256;
local b64 = require "util.encodings".base64.encode;
local uuid = require "util.uuid";
local sql = require "util.sql";
local resolve_relative_path = require "util.paths".resolve_relative_path;
local lfs = require "lfs";

local function fail(msg)
	io.stderr:write("load.sh: ", msg, "\n");
	os.exit(1);
end
local function say(fmt, ...)
	io.stdout:write(string.format(fmt, ...), "\n");
	io.stdout:flush();
end

local function read_file(path)
	local f, err = io.open(path, "rb");
	if not f then fail("cannot read "..path..": "..tostring(err)); end
	local s = f:read("*a");
	f:close();
	return s;
end

local manifest = json.decode(read_file(out_dir.."/manifest.json"));
if not manifest or manifest.format ~= "ferry-xmpp-export" then
	fail(out_dir.."/manifest.json is not a ferry XMPP export manifest");
end
if manifest.version ~= LAYOUT then
	fail(("%s/manifest.json has layout version %s, this loader reads version %d; use the load.sh written "
		.."together with these files (rerun ferry export xmpp into an empty folder)"):format(out_dir,
		tostring(manifest.version), LAYOUT));
end
local domain, muc_domain = manifest.domain, manifest.muc_domain;

-- The hosts must exist in this config, or Prosody would never serve what we load.
local hosts = configmanager.getconfig();
if not hosts[domain] then
	fail(("%s has no VirtualHost %q; add `VirtualHost %q` (see LOAD.md)"):format(config_path, domain, domain));
end
if not hosts[muc_domain] or configmanager.get(muc_domain, "component_module") ~= "muc" then
	fail(("%s has no MUC component %q; add `Component %q \"muc\"` with modules_enabled = { \"muc_mam\" } (see LOAD.md)")
		:format(config_path, muc_domain, muc_domain));
end

-- Refuse to write under a running server: it caches rooms and would overwrite what we add. A running
-- Prosody holds a write lock on its pidfile (mod_posix), which is what we test.
local pidfile = configmanager.get("*", "pidfile");
if pidfile then
	local path = resolve_relative_path(prosody.paths.data, pidfile);
	local f = io.open(path, "r+");
	if f then
		local pid = f:read("*a");
		if not lfs.lock(f, "w") then
			f:close();
			fail(("Prosody is running (pid %s, pidfile %s); stop it first, then run load.sh again"):format(pid, path));
		end
		lfs.unlock(f);
		f:close();
	end
end

say("Prosody config: %s", config_path);
say("Data directory: %s", prosody.paths.data);

-- prosodyctl's dummy hosts share one event bus, so a storage driver loaded for one host would be
-- registered for every host; each host gets its own bus as it has in the running server.
local new_events = require "util.events".new;
for _, host in ipairs({ domain, muc_domain }) do
	prosody.hosts[host] = startup.make_host(host);
	prosody.hosts[host].events = new_events();
	sm.initialize_host(host);
	um.initialize_host(host);
end

-- Every store we write must be on Prosody's SQL driver: that is where the rows go.
local stores = {
	[domain] = { accounts = "keyval", vcard = "keyval", roster = "keyval", archive = "archive" };
	[muc_domain] = { config = "keyval", persistent = "map", muc_log = "archive" };
};
for _, host in ipairs({ domain, muc_domain }) do
	for store in pairs(stores[host]) do
		local _, name = sm.get_driver(host, store);
		if name ~= "sql" then
			fail(("storage for %s on %s is %q, not \"sql\": this loader writes Prosody's SQL store. Set storage = \"sql\" "
				.."and sql = { driver = ..., database = ... } in %s (LOAD.md, step 1)"):format(store, host,
				tostring(name or "none"), config_path));
		end
	end
end

-- The SQL database of each host (hosts may have their own `sql` option), opened through Prosody's
-- storage so that its driver connects first and creates the tables on a fresh database.
local db_of = {};
local report_dbs = {};
local function open_db(host)
	local p = configmanager.get(host, "sql") or { driver = "SQLite3" };
	local params = { driver = p.driver, database = p.database, username = p.username, password = p.password,
		host = p.host, port = p.port };
	if not params.driver then fail(("the sql option of %s in %s has no driver"):format(host, config_path)); end
	if params.driver == "SQLite3" and params.database ~= ":memory:" then
		params.database = resolve_relative_path(prosody.paths.data, params.database or "prosody.sqlite");
	end
	local label = ("%s %s"):format(tostring(params.driver), tostring(params.database));
	if params.driver == "SQLite3" then
		-- SQLite opens a file it may not write read-only, and would only fail at the first insert.
		local attr = lfs.attributes(params.database);
		if attr then
			local f, err = io.open(params.database, "r+b");
			if not f then fail(("the database %s is not writable: %s; run load.sh as root or as the user Prosody runs as")
				:format(params.database, tostring(err))); end
			f:close();
		end
	end
	-- A read through Prosody's own storage connects its engine; its connect hook creates missing tables.
	local probe = assert(sm.open(host, host == domain and "accounts" or "config"));
	local _, err = probe:get(" ferry probe ");
	if err then fail(("cannot open the database %s for %s: %s"):format(label, host, tostring(err))); end
	local engine;
	local mod = modulemanager.get_module(host, "storage_sql");
	if mod and mod.module and mod.module.shared then
		engine = mod.module:shared("/*/sql/connections")[sql.db2uri(params)];
	end
	if not engine then
		engine = sql:create_engine(params);
	end
	local ok, cerr = engine:connect();
	if not ok then fail(("cannot open the database %s for %s: %s"):format(label, host, tostring(cerr))); end
	for _, t in ipairs({ "prosody", "prosodyarchive" }) do
		local okq = pcall(function() for _ in engine:select(('SELECT 1 FROM "%s" LIMIT 1;'):format(t)) do end end);
		if not okq then fail(("the database %s has no table %q, and Prosody's SQL driver did not create it; "
			.."check sql_manage_tables in %s"):format(label, t, config_path)); end
	end
	say("SQL database for %s: %s", host, label);
	if params.driver == "SQLite3" and not report_dbs[params.database] then
		report_dbs[params.database] = true;
		report_dbs[#report_dbs+1] = params.database;
	end
	db_of[host] = { engine = engine, label = label };
	return db_of[host];
end
open_db(domain);
open_db(muc_domain);
if report_path then
	local f = io.open(report_path, "w");
	if f then
		f:write(prosody.paths.data, "\n");
		for _, db in ipairs(report_dbs) do f:write(db, "\n"); end
		f:close();
	end
end

for _, opt in ipairs({ { domain, "archive_expires_after" }, { muc_domain, "muc_log_expires_after" } }) do
	local v = configmanager.get(opt[1], opt[2]);
	if v ~= "never" then
		say("WARNING: %s is %s on %s: Prosody will delete imported history older than that. Set %s = \"never\" (LOAD.md).",
			opt[2], v and ("%q"):format(tostring(v)) or "unset (default one week)", opt[1], opt[2]);
	end
end

-- Runs the queued writes of one database in one transaction.
local function make_batch(db)
	local engine, queue = db.engine, {};
	local batch = { rows = 0 };
	function batch.add(fn) queue[#queue+1] = fn; batch.rows = batch.rows + 1; if batch.rows >= LOAD_BATCH then batch.flush(); end end
	function batch.flush()
		if #queue == 0 then return end
		local q = queue;
		queue, batch.rows = {}, 0;
		local ok, err = engine:transaction(function() for i = 1, #q do q[i](); end end);
		if not ok then fail(("writing to the database %s failed: %s"):format(db.label, tostring(err))); end
	end
	return batch;
end

-- Archive rows (prosodyarchive) of one host/store, LOAD_BATCH per transaction, written INSERT_ROWS per
-- statement (most of the loader's time is spent per statement, not per row). Before the first row of a
-- user (a room, for muc_log) the archive is asked whether it holds anything for that user; only then is
-- each key looked up, with one prepared statement, and rows already there are skipped.
local INSERT_ROWS = 100;  -- 8 values a row: 800 bound values, below SQLite's oldest limit of 999
local function archive_writer(host, store)
	local db = db_of[host];
	local engine = db.engine;
	local counts = { inserted = 0, skipped = 0 };
	local any_sql = [[SELECT 1 FROM "prosodyarchive" WHERE "host"=? AND "user"=? AND "store"=? LIMIT 1;]];
	local exists_sql = [[SELECT 1 FROM "prosodyarchive" WHERE "host"=? AND "user"=? AND "store"=? AND "key"=? LIMIT 1;]];
	local insert_sqls = {};
	local function insert_sql(k)
		local s = insert_sqls[k];
		if not s then
			s = [[INSERT INTO "prosodyarchive" ("host", "user", "store", "when", "with", "key", "type", "value") VALUES ]]
				..string.rep("(?,?,?,?,?,?,?,?)", k, ",")..";";
			insert_sqls[k] = s;
		end
		return s;
	end
	local function found(query, ...)
		local stmt = assert(engine:execute(query, ...));  -- prepared once, reused (util.sql caches it)
		local hit = false;
		for _ in stmt:rows() do hit = true; end
		return hit;
	end
	local has_rows = {};  -- user -> whether the archive held rows for them before this load wrote any
	local queue, queued = {}, 0;  -- user, key, when, with, value, user, key, ...
	local function write(q, n)
		local args, nargs, k = {}, 0, 0;
		local function emit()
			if k == 0 then return end
			engine:insert(insert_sql(k), table.unpack(args, 1, nargs));
			args, nargs, k = {}, 0, 0;
		end
		for i = 1, n * 5, 5 do
			local user, key = q[i], q[i+1];
			local has = has_rows[user];
			if has == nil then
				emit();  -- nothing of this user is queued yet, so this sees only what was there before
				has = found(any_sql, host, user, store);
				has_rows[user] = has;
			end
			if has and found(exists_sql, host, user, store, key) then
				counts.skipped = counts.skipped + 1;
			else
				args[nargs+1], args[nargs+2], args[nargs+3], args[nargs+4] = host, user, store, q[i+2];
				args[nargs+5], args[nargs+6], args[nargs+7], args[nargs+8] = q[i+3], key, "xml", q[i+4];
				nargs, k = nargs + 8, k + 1;
				counts.inserted = counts.inserted + 1;
				if k == INSERT_ROWS then emit(); end
			end
		end
		emit();
	end
	local function flush()
		if queued == 0 then return end
		local q, n = queue, queued;
		queue, queued = {}, 0;
		local ok, err = engine:transaction(write, q, n);
		if not ok then fail(("writing %s rows to the database %s failed: %s"):format(store, db.label, tostring(err))); end
	end
	local function add(user, key, when, with, value)
		local j = queued * 5;
		queue[j+1], queue[j+2], queue[j+3], queue[j+4], queue[j+5] = user, key, when, with, value;
		queued = queued + 1;
		if queued >= LOAD_BATCH then flush(); end
	end
	return { add = add, flush = flush, counts = counts };
end

-- Key/value rows (prosody table) exactly as mod_storage_sql's keyval set writes them: one row per string
-- key, everything else JSON under the key "".
local function serialize(value)
	local t = type(value);
	if t == "string" or t == "boolean" or t == "number" then return t, tostring(value); end
	if t == "table" then
		local encoded, err = json.encode(value);
		if encoded then return "json", encoded; end
		fail("cannot encode a value: "..tostring(err));
	end
	fail("cannot store a value of type "..t);
end
local function keyval_writer(host)
	local db = db_of[host];
	local engine = db.engine;
	local batch = make_batch(db);
	local any_sql = [[SELECT 1 FROM "prosody" WHERE "host"=? AND "store"=? LIMIT 1;]];
	local exists_sql = [[SELECT 1 FROM "prosody" WHERE "host"=? AND "user"=? AND "store"=? LIMIT 1;]];
	local insert_sql = [[INSERT INTO "prosody" ("host","user","store","key","type","value") VALUES (?,?,?,?,?,?);]];
	local fresh = {};
	local function found(query, ...)
		local stmt = assert(engine:execute(query, ...));
		local hit = false;
		for _ in stmt:rows() do hit = true; end
		return hit;
	end
	-- Calls done(true) if written, done(false) if that user already had this store.
	local function set(user, store, data, done)
		batch.add(function()
			if fresh[store] == nil then fresh[store] = not found(any_sql, host, store); end
			if not fresh[store] and found(exists_sql, host, user, store) then done(false); return; end
			local extra = {};
			for k, v in pairs(data) do
				if type(k) == "string" and k ~= "" then
					engine:insert(insert_sql, host, user, store, k, serialize(v));
				else
					extra[k] = v;
				end
			end
			if next(extra) ~= nil then engine:insert(insert_sql, host, user, store, "", serialize(extra)); end
			done(true);
		end);
	end
	return { set = set, flush = batch.flush };
end

------------------------------------------------------------------------------------------------------------
-- Accounts, vCards, rosters and personal archives: XEP-0227 files, converted by Prosody's own xep0227
-- driver (the one prosody-migrator uses). Each file is parsed once and handed to every store.
local xep0227_dir = out_dir.."/xep0227";
local src_driver = assert(sm.load_driver(domain, "xep0227"));
local current_user, current_xml;
local function get_user_xml(_, user)
	if user ~= current_user then
		current_user = user;
		current_xml = xml_parse(read_file(("%s/%s@%s.xml"):format(xep0227_dir, user, domain)));
		if not current_xml then fail(("xep0227/%s@%s.xml is not well-formed XML"):format(user, domain)); end
	end
	return current_xml;
end
local function no_writes() return nil, "read-only"; end
local src = {};
for store, typ in pairs({ accounts = "keyval", vcard = "keyval", roster = "keyval", archive = "archive" }) do
	src[store] = assert(src_driver:open_xep0227(store, typ, { get_user_xml = get_user_xml, set_user_xml = no_writes }));
end

local files = {};
for name in lfs.dir(xep0227_dir) do
	local user = name:match("^(.+)@"..domain:gsub("%p", "%%%0").."%.xml$");
	if user then files[#files+1] = user; end
end
table.sort(files);
local kv = keyval_writer(domain);
local personal = archive_writer(domain, "archive");
local acc = { created = 0, kept = 0, no_password = 0 };
local function account_done(written) if written then acc.created = acc.created + 1; else acc.kept = acc.kept + 1; end end
local function ignore() end
for _, user in ipairs(files) do
	local account = src.accounts:get(user);
	if account ~= nil and next(account) ~= nil then
		if account.ferry_imported_without_password and not account.stored_key and not account.password then
			-- --password-mode none. An account with no credentials at all makes Prosody 0.12's SCRAM code
			-- fail with a traceback and leave the client hanging; all-zero keys match no password (that
			-- would need a SHA preimage of zero), so every login fails cleanly until the admin sets one.
			acc.no_password = acc.no_password + 1;
			account.iteration_count = 10000;
			account.salt = "ferry-no-password";
			local hex_len = configmanager.get(domain, "password_hash") == "SHA-256" and 64 or 40;
			account.stored_key = string.rep("0", hex_len);
			account.server_key = account.stored_key;
		end
		kv.set(user, "accounts", account, account_done);
	end
	for _, store in ipairs({ "vcard", "roster" }) do
		local data = src[store]:get(user);
		if data ~= nil and next(data) ~= nil then kv.set(user, store, data, ignore); end
	end
	local iter = src.archive:find(user);
	if iter then
		for key, item, when, with in iter do
			personal.add(user, key, math.floor(when), with, tostring(item));
		end
	end
end
kv.flush();
personal.flush();
current_xml = nil;
say("Accounts: %d created, %d already there (left unchanged)", acc.created, acc.kept);
if acc.no_password > 0 then
	say("  %d accounts have no password (--password-mode none): nobody can log in to them until you set one,"
		.." e.g. prosodyctl --config %s passwd USER@%s", acc.no_password, config_path, domain);
end
say("Personal archive rows: %d added, %d already there", personal.counts.inserted, personal.counts.skipped);

------------------------------------------------------------------------------------------------------------
-- Rooms: config (name, topic, members-only, hidden, affiliations) and the persistent-room list, through
-- Prosody's storage API (one row set per room).
local room_configs = assert(sm.open(muc_domain, "config"));
local persistent = assert(sm.open(muc_domain, "persistent", "map"));
local salts = {};
local rooms_new, rooms_kept = 0, 0;
for line in io.lines(out_dir.."/muc/rooms.jsonl") do
	local r = json.decode(line);
	if not r then fail("muc/rooms.jsonl: unreadable line: "..line:sub(1, 80)); end
	local existing = room_configs:get(r.node);
	if existing and existing._data then
		rooms_kept = rooms_kept + 1;
		salts[r.node] = existing._data.occupant_id_salt;
		if not salts[r.node] then
			salts[r.node] = uuid.generate();
			existing._data.occupant_id_salt = salts[r.node];
			assert(room_configs:set(r.node, existing));
		end
	else
		-- A fresh random salt per room, as Prosody itself would pick: occupant ids stay unguessable, and
		-- the ids in the imported history match the ones Prosody gives the same users from now on.
		salts[r.node] = uuid.generate();
		local data = {
			name = r.name ~= "" and r.name or nil;
			description = r.description ~= "" and r.description or nil;
			subject = r.subject ~= "" and r.subject or nil;
			subject_from = r.subject ~= "" and r.jid or nil;
			persistent = true;
			hidden = r.hidden or nil;
			members_only = r.members_only or nil;
			whois = "moderators";
			archiving = true;
			occupant_id_salt = salts[r.node];
		};
		local frozen = { _jid = r.jid, _data = data, _affiliation_data = {} };
		for who, aff in pairs(r.affiliations or {}) do
			frozen[who] = aff;
			local nick = r.reserved_nicknames and r.reserved_nicknames[who];
			if nick then frozen._affiliation_data[who] = { reserved_nickname = nick }; end
		end
		local ok, err = room_configs:set(r.node, frozen);
		if not ok then fail("writing room "..r.jid.." failed: "..tostring(err)); end
		rooms_new = rooms_new + 1;
	end
	local ok, err = persistent:set(nil, r.jid, true);
	if not ok then fail("writing the persistent room list failed: "..tostring(err)); end
end
say("Rooms: %d created, %d already there (config left unchanged)", rooms_new, rooms_kept);

------------------------------------------------------------------------------------------------------------
-- Room history: node TAB key TAB when TAB with TAB occupant's real JID TAB <message/>, in file order (an
-- archive's order is insert order). The exporter wrote well-formed stanzas, so they are not parsed again:
-- the XEP-0421 occupant id, which depends on the room's salt chosen above, is put in before </message>.
local muc_log = archive_writer(muc_domain, "muc_log");
local n = 0;
local occupant_ids, ids_room = {}, nil;
for line in io.lines(out_dir.."/muc/muc_log.tsv") do
	n = n + 1;
	local node, key, when, with, jid, text = line:match("^([^\t]+)\t([^\t]+)\t(%-?%d+)\t([^\t]+)\t([^\t]*)\t(<message .*)</message>$");
	if not node then
		fail(("muc/muc_log.tsv line %d: not node<TAB>key<TAB>when<TAB>with<TAB>jid<TAB><message ...</message>"):format(n));
	end
	if node ~= ids_room then
		ids_room, occupant_ids = node, {};
		if not salts[node] then fail(("muc/muc_log.tsv line %d: room %q is not in muc/rooms.jsonl"):format(n, node)); end
	end
	if jid ~= "" then
		-- Exactly as Prosody's muc/occupant_id.lib.lua derives it from the bare JID and the room's salt.
		local id = occupant_ids[jid];
		if not id then
			id = b64(hmac_sha256(jid, salts[node]));
			occupant_ids[jid] = id;
		end
		text = text.."<occupant-id xmlns='urn:xmpp:occupant-id:0' id='"..id.."'/></message>";
	else
		text = text.."</message>";
	end
	muc_log.add(node, key, tonumber(when), with, text);
	if n % 200000 == 0 then say("  history: %d rows", n); end
end
muc_log.flush();
say("Room history rows: %d added, %d already there", muc_log.counts.inserted, muc_log.counts.skipped);
say("Done. Start Prosody now.");
os.exit(0);
)FERRYLUA";
}

}  // namespace ferry::xmpp
