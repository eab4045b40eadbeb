-- Ferry store, schema version 1.
-- Ids are Discord snowflakes stored as SQLite INTEGER (signed 64-bit): values above 2^63 are stored as their
-- two's-complement bit pattern by store/ and read back unchanged. Times are UTC milliseconds (*_ms) with the
-- source's original text beside them (*_text). `extra` is a JSON object with every input field that has no
-- column. `source_run` is the import run that last set the row (0 = compat API), `source_ms` the time that
-- source describes (e.g. DCE exportedAt): merges let the later source win.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE import_runs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  kind           TEXT NOT NULL,
  path           TEXT NOT NULL,
  sha256         TEXT NOT NULL DEFAULT '',
  size           INTEGER NOT NULL DEFAULT 0,
  mtime          INTEGER NOT NULL DEFAULT 0,
  tool_version   TEXT NOT NULL,
  started_ms     INTEGER NOT NULL,
  ended_ms       INTEGER,
  status         TEXT NOT NULL,
  source_ms      INTEGER NOT NULL DEFAULT 0,
  counts         TEXT NOT NULL DEFAULT '{}',
  notes          TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX import_runs_input ON import_runs(kind, path);

-- One row per input file of a run: an import that is killed leaves 'running' here, never 'done'.
CREATE TABLE run_files (
  run_id   INTEGER NOT NULL REFERENCES import_runs(id),
  file     TEXT NOT NULL,
  sha256   TEXT NOT NULL DEFAULT '',
  status   TEXT NOT NULL,
  detail   TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (run_id, file)
);
CREATE INDEX run_files_sha ON run_files(sha256, status);

CREATE TABLE guilds (
  id          INTEGER PRIMARY KEY,
  name        TEXT,
  icon_url    TEXT,
  icon_sha256 TEXT,
  owner_id    INTEGER,
  extra       TEXT NOT NULL DEFAULT '{}',
  source_run  INTEGER NOT NULL DEFAULT 0,
  source_ms   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE channels (
  id                  INTEGER PRIMARY KEY,
  type                INTEGER NOT NULL,
  guild_id            INTEGER,
  parent_id           INTEGER,
  name                TEXT,
  topic               TEXT,
  position            INTEGER,
  nsfw                INTEGER,
  rate_limit_per_user INTEGER,
  owner_id            INTEGER,
  archived            INTEGER,
  locked              INTEGER,
  icon_url            TEXT,
  recipients          TEXT,            -- JSON array of user id strings (DMs)
  overwrites_known    INTEGER NOT NULL DEFAULT 0,
  extra               TEXT NOT NULL DEFAULT '{}',
  source_run          INTEGER NOT NULL DEFAULT 0,
  source_ms           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX channels_guild ON channels(guild_id, position, id);
CREATE INDEX channels_parent ON channels(parent_id);

CREATE TABLE overwrites (
  channel_id INTEGER NOT NULL,
  target_id  INTEGER NOT NULL,
  type       INTEGER NOT NULL,     -- 0 role, 1 member
  allow      INTEGER NOT NULL,
  deny       INTEGER NOT NULL,
  PRIMARY KEY (channel_id, target_id)
) WITHOUT ROWID;

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT,
  global_name   TEXT,
  discriminator TEXT,
  avatar_url    TEXT,
  avatar_sha256 TEXT,
  bot           INTEGER,
  extra         TEXT NOT NULL DEFAULT '{}',
  source_run    INTEGER NOT NULL DEFAULT 0,
  source_ms     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE roles (
  id          INTEGER PRIMARY KEY,
  guild_id    INTEGER NOT NULL,
  name        TEXT,
  color       INTEGER,
  position    INTEGER,
  permissions INTEGER,
  hoist       INTEGER,
  managed     INTEGER,
  mentionable INTEGER,
  extra       TEXT NOT NULL DEFAULT '{}',
  source_run  INTEGER NOT NULL DEFAULT 0,
  source_ms   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX roles_guild ON roles(guild_id, position);

CREATE TABLE members (
  guild_id    INTEGER NOT NULL,
  user_id     INTEGER NOT NULL,
  nick        TEXT,
  color       TEXT,
  joined_ms   INTEGER,
  roles_known INTEGER NOT NULL DEFAULT 0,
  extra       TEXT NOT NULL DEFAULT '{}',
  source_run  INTEGER NOT NULL DEFAULT 0,
  source_ms   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;

CREATE TABLE member_roles (
  guild_id INTEGER NOT NULL,
  user_id  INTEGER NOT NULL,
  role_id  INTEGER NOT NULL,
  PRIMARY KEY (guild_id, user_id, role_id)
) WITHOUT ROWID;

CREATE TABLE messages (
  id               INTEGER PRIMARY KEY,
  channel_id       INTEGER NOT NULL,
  author_id        INTEGER,
  type             INTEGER NOT NULL DEFAULT 0,
  content          TEXT,
  ts_ms            INTEGER NOT NULL,
  ts_text          TEXT NOT NULL DEFAULT '',
  edited_ms        INTEGER,
  edited_text      TEXT,
  pinned           INTEGER,
  ref_type         INTEGER,
  ref_message_id   INTEGER,
  ref_channel_id   INTEGER,
  ref_guild_id     INTEGER,
  mention_everyone INTEGER,
  tts              INTEGER,
  flags            INTEGER NOT NULL DEFAULT 0,
  content_format   TEXT NOT NULL DEFAULT 'unknown',
  -- Which collections a source has described (bit set = known, even if empty): 1 attachments, 2 embeds,
  -- 4 stickers, 8 reactions, 16 user mentions, 32 role mentions. An older source may fill only unknown ones.
  collections      INTEGER NOT NULL DEFAULT 0,
  deleted          INTEGER NOT NULL DEFAULT 0,
  extra            TEXT NOT NULL DEFAULT '{}',
  source_run       INTEGER NOT NULL DEFAULT 0,
  source_ms        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX messages_channel ON messages(channel_id, id);
CREATE INDEX messages_author ON messages(author_id);

-- Each collection below belongs to one message and is replaced as a whole by a newer source.
CREATE TABLE attachments (
  id           INTEGER PRIMARY KEY,
  message_id   INTEGER NOT NULL,
  idx          INTEGER NOT NULL,
  filename     TEXT NOT NULL,
  size         INTEGER,
  url          TEXT,
  content_type TEXT,
  width        INTEGER,
  height       INTEGER,
  sha256       TEXT,             -- NULL: the bytes were not available (a recorded gap)
  extra        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX attachments_message ON attachments(message_id, idx);

CREATE TABLE embeds (
  message_id INTEGER NOT NULL,
  idx        INTEGER NOT NULL,
  json       TEXT NOT NULL,       -- Discord API embed object (+ source-only fields)
  PRIMARY KEY (message_id, idx)
) WITHOUT ROWID;

CREATE TABLE message_stickers (
  message_id INTEGER NOT NULL,
  idx        INTEGER NOT NULL,
  sticker_id INTEGER NOT NULL,
  name       TEXT NOT NULL,
  format     INTEGER NOT NULL,
  url        TEXT,
  sha256     TEXT,
  PRIMARY KEY (message_id, idx)
) WITHOUT ROWID;

CREATE TABLE reactions (
  message_id  INTEGER NOT NULL,
  emoji_key   TEXT NOT NULL,      -- custom emoji id, or the Unicode emoji itself
  idx         INTEGER NOT NULL,   -- order as the source listed them
  emoji_id    INTEGER NOT NULL DEFAULT 0,
  emoji_name  TEXT NOT NULL,
  animated    INTEGER NOT NULL DEFAULT 0,
  image_url   TEXT,
  sha256      TEXT,
  count       INTEGER NOT NULL,
  extra       TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (message_id, emoji_key)
) WITHOUT ROWID;

-- rowid tables: the order users and mentions were listed in is kept (rowid order).
CREATE TABLE reaction_users (
  message_id INTEGER NOT NULL,
  emoji_key  TEXT NOT NULL,
  user_id    INTEGER NOT NULL,
  UNIQUE (message_id, emoji_key, user_id)
);

CREATE TABLE mentions (
  message_id INTEGER NOT NULL,
  kind       INTEGER NOT NULL,   -- 0 user, 1 role
  target_id  INTEGER NOT NULL,
  UNIQUE (message_id, kind, target_id)
);

CREATE TABLE thread_members (
  thread_id INTEGER NOT NULL,
  user_id   INTEGER NOT NULL,
  joined_ms INTEGER NOT NULL,
  PRIMARY KEY (thread_id, user_id)
) WITHOUT ROWID;

CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  size   INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE bots (
  user_id            INTEGER PRIMARY KEY,
  name               TEXT NOT NULL,
  token_hash         TEXT NOT NULL UNIQUE,
  token_prefix       TEXT NOT NULL,
  permissions        INTEGER NOT NULL DEFAULT 0,
  privileged_intents INTEGER NOT NULL DEFAULT 1,
  created_ms         INTEGER NOT NULL,
  revoked            INTEGER NOT NULL DEFAULT 0,
  guilds             TEXT NOT NULL DEFAULT '[]'   -- JSON array of guild id strings
);

CREATE TABLE export_mappings (
  target TEXT NOT NULL,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,
  PRIMARY KEY (target, key)
) WITHOUT ROWID;

-- Full-text search over message content (external content: the text lives once, in messages).
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN new.content IS NOT NULL AND new.content <> '' BEGIN
  INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages WHEN old.content IS NOT NULL AND old.content <> '' BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages WHEN old.content IS NOT new.content BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content)
    SELECT 'delete', old.id, old.content WHERE old.content IS NOT NULL AND old.content <> '';
  INSERT INTO messages_fts(rowid, content)
    SELECT new.id, new.content WHERE new.content IS NOT NULL AND new.content <> '';
END;
