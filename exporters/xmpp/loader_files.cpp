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
if [ "$(id -u)" = 0 ] && [ -r "$tmp/report" ]; then
  datadir=$(sed -n 1p "$tmp/report")
  driver=$(sed -n 2p "$tmp/report")
  db=$(sed -n 3p "$tmp/report")
  if [ "$driver" = SQLite3 ] && [ -d "$datadir" ]; then
    for f in "$db" "$db-wal" "$db-shm" "$db-journal"; do
      if [ -e "$f" ] && [ "$(stat -c %u "$f")" = 0 ]; then chown --reference="$datadir" "$f"; fi
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

In `prosody.cfg.lua`:

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

Any config path works. `load.sh` reads the data directory and the database from that file (never assuming
`/var/lib/prosody`), loads everything with Prosody's own libraries, and touches nothing but that Prosody's
storage. If it created the SQLite file as root it hands it to the owner of the data directory. Then start
Prosody again.

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
)FERRYLUA" : "");
  ReplaceAll(s, "@DOMAIN@", domain);
  ReplaceAll(s, "@MUC@", muc_domain);
  ReplaceAll(s, "@FILES@", files_url);
  return s;
}

std::string LoaderLua() {
  return R"FERRYLUA(-- ferry-load.lua: loads a `ferry export xmpp` folder into one Prosody's storage, through Prosody's own
-- libraries and its own config (data_path, storage, sql, per-host options), like prosody-migrator does.
-- Run by load.sh with Prosody's Lua; FERRY_OUT and FERRY_CONFIG come from the environment.
--
-- Safe to run twice: accounts, vCards, rosters and room configs are only written when the server has none
-- yet (nothing a user changed since is overwritten), and archive rows whose key is already stored are skipped.

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
local sm = require "core.storagemanager";
local um = require "core.usermanager";
local st = require "util.stanza";
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

local function storage_name(host, store)
	local _, name = sm.get_driver(host, store);
	return name or "?";
end
for _, pair in ipairs({ { domain, "accounts" }, { domain, "archive" }, { muc_domain, "muc_log" }, { muc_domain, "config" } }) do
	local name = storage_name(pair[1], pair[2]);
	say("Storage for %s %s: %s", pair[1], pair[2], name);
	if name ~= "sql" then
		say("  note: not \"sql\"; loading through Prosody's storage API instead (slower)");
	end
end

local sql_params;
do
	local p = configmanager.get(muc_domain, "sql") or configmanager.get(domain, "sql") or { driver = "SQLite3" };
	sql_params = { driver = p.driver, database = p.database, username = p.username, password = p.password,
		host = p.host, port = p.port };
	if sql_params.driver == "SQLite3" and sql_params.database ~= ":memory:" then
		sql_params.database = resolve_relative_path(prosody.paths.data, sql_params.database or "prosody.sqlite");
	end
	say("SQL database: %s %s", tostring(sql_params.driver), tostring(sql_params.database));
	if report_path then
		local f = io.open(report_path, "w");
		if f then
			f:write(prosody.paths.data, "\n", tostring(sql_params.driver), "\n", tostring(sql_params.database), "\n");
			f:close();
		end
	end
end

for _, opt in ipairs({ { domain, "archive_expires_after" }, { muc_domain, "muc_log_expires_after" } }) do
	local v = configmanager.get(opt[1], opt[2]);
	if v ~= "never" then
		say("WARNING: %s is %s on %s: Prosody will delete imported history older than that. Set %s = \"never\" (LOAD.md).",
			opt[2], v and ("%q"):format(tostring(v)) or "unset (default one week)", opt[1], opt[2]);
	end
end

-- Archive writer: for SQL storage, batched inserts that skip keys already present (one transaction per
-- batch instead of one per row); otherwise Prosody's archive API.
local function archive_writer(host, store)
	local api = assert(sm.open(host, store, "archive"));  -- also creates the SQL tables if missing
	local counts = { inserted = 0, skipped = 0 };
	if storage_name(host, store) == "sql" then
		local engine = sql:create_engine(sql_params);
		local batch = {};
		local exists_sql = [[SELECT 1 FROM "prosodyarchive" WHERE "host"=? AND "user"=? AND "store"=? AND "key"=?;]];
		local insert_sql = [[INSERT INTO "prosodyarchive" ("host", "user", "store", "when", "with", "key", "type", "value") VALUES (?,?,?,?,?,?,?,?);]];
		local function flush()
			if #batch == 0 then return end
			local ok, err = engine:transaction(function()
				for _, r in ipairs(batch) do
					local found = false;
					for _ in engine:select(exists_sql, host, r[1], store, r[2]) do found = true; end
					if found then
						counts.skipped = counts.skipped + 1;
					else
						engine:insert(insert_sql, host, r[1], store, r[3], r[4], r[2], "xml", r[5]);
						counts.inserted = counts.inserted + 1;
					end
				end
			end);
			if not ok then fail("writing "..store.." rows failed: "..tostring(err)); end
			batch = {};
		end
		return {
			add = function(user, key, when, with, stanza)
				batch[#batch+1] = { user, key, math.floor(when), with, tostring(stanza) };
				if #batch >= 2000 then flush(); end
			end;
			flush = flush;
			counts = counts;
		};
	end
	return {
		add = function(user, key, when, with, stanza)
			if api.get and api:get(user, key) then
				counts.skipped = counts.skipped + 1;
				return;
			end
			local ok, err = api:append(user, key, stanza, math.floor(when), with);
			if not ok then fail("writing "..store.." for "..user.." failed: "..tostring(err)); end
			counts.inserted = counts.inserted + 1;
		end;
		flush = function() end;
		counts = counts;
	};
end

------------------------------------------------------------------------------------------------------------
-- Accounts, vCards, rosters and personal archives: XEP-0227 files read with Prosody's own xep0227 driver
-- (the one prosody-migrator uses), which looks for files in prosody.paths.data.
local xep0227_dir = out_dir.."/xep0227";
local real_data_path = prosody.paths.data;
local function in_227(f, ...)
	prosody.paths.data = xep0227_dir;
	local r = table.pack(pcall(f, ...));
	prosody.paths.data = real_data_path;
	if not r[1] then fail(tostring(r[2])); end
	return table.unpack(r, 2, r.n);
end

local dst = {};
for _, store in ipairs({ "accounts", "vcard", "roster" }) do
	dst[store] = assert(sm.open(domain, store));
end
local src_driver = assert(sm.load_driver(domain, "xep0227"));
local src = {};
for _, store in ipairs({ "accounts", "vcard", "roster" }) do
	src[store] = assert(src_driver:open(store, "keyval"));
end
src.archive = assert(src_driver:open("archive", "archive"));
local personal = archive_writer(domain, "archive");

local files = {};
for name in lfs.dir(xep0227_dir) do
	local user = name:match("^(.+)@"..domain:gsub("%p", "%%%0").."%.xml$");
	if user then files[#files+1] = user; end
end
table.sort(files);
local kept, created = 0, 0;
for _, user in ipairs(files) do
	for _, store in ipairs({ "accounts", "vcard", "roster" }) do
		local data = in_227(src[store].get, src[store], user);
		if data ~= nil then
			local existing = dst[store]:get(user);
			if existing == nil or (store == "accounts" and next(existing) == nil) then
				local ok, err = dst[store]:set(user, data);
				if not ok then fail(("writing %s of %s@%s failed: %s"):format(store, user, domain, tostring(err))); end
				if store == "accounts" then created = created + 1; end
			elseif store == "accounts" then
				kept = kept + 1;
			end
		end
	end
	local iter = in_227(src.archive.find, src.archive, user);
	if iter then
		for key, item, when, with in iter do
			personal.add(user, key, when, with, item);
		end
	end
end
personal.flush();
say("Accounts: %d created, %d already there (left unchanged)", created, kept);
say("Personal archive rows: %d added, %d already there", personal.counts.inserted, personal.counts.skipped);

------------------------------------------------------------------------------------------------------------
-- Rooms: config (name, topic, members-only, hidden, affiliations) and the persistent-room list.
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
	assert(persistent:set(nil, r.jid, true));
end
say("Rooms: %d created, %d already there (config left unchanged)", rooms_new, rooms_kept);

------------------------------------------------------------------------------------------------------------
-- Room history, one stanza per line, in file order (the archive's order is insert order).
local muc_log = archive_writer(muc_domain, "muc_log");
local xmlns_muc_user = "http://jabber.org/protocol/muc#user";
local n = 0;
for line in io.lines(out_dir.."/muc/muc_log.tsv") do
	n = n + 1;
	local node, key, when, with, text = line:match("^([^\t]+)\t([^\t]+)\t(%-?%d+)\t([^\t]+)\t(.+)$");
	if not node then fail(("muc/muc_log.tsv line %d: not node<TAB>key<TAB>when<TAB>with<TAB>stanza"):format(n)); end
	local stanza, err = xml_parse(text);
	if not stanza or stanza.name ~= "message" then
		fail(("muc/muc_log.tsv line %d: not a well-formed <message/>: %s"):format(n, tostring(err)));
	end
	local salt = salts[node];
	if not salt then fail(("muc/muc_log.tsv line %d: room %q is not in muc/rooms.jsonl"):format(n, node)); end
	local x = stanza:get_child("x", xmlns_muc_user);
	local item = x and x:get_child("item");
	if item and item.attr.jid then
		-- XEP-0421 occupant id exactly as Prosody's muc/occupant_id.lib.lua derives it.
		stanza:remove_children("occupant-id", "urn:xmpp:occupant-id:0");
		stanza:tag("occupant-id", { xmlns = "urn:xmpp:occupant-id:0", id = b64(hmac_sha256(item.attr.jid, salt)) }):up();
	end
	muc_log.add(node, key, tonumber(when), with, stanza);
	if n % 50000 == 0 then say("  history: %d rows", n); end
end
muc_log.flush();
say("Room history rows: %d added, %d already there", muc_log.counts.inserted, muc_log.counts.skipped);
say("Done. Start Prosody now.");
os.exit(0);
)FERRYLUA";
}

}  // namespace ferry::xmpp
