-- Full-text indexing in batches. Indexing each message from a row trigger costs several times more than
-- indexing the same rows with one INSERT … SELECT, so new and edited messages are queued in fts_pending and
-- indexed when the transaction that wrote them commits (the store does this before COMMIT, so a committed
-- message is always searchable; a queue left by a killed process is indexed when the store is next opened).
DROP TRIGGER messages_fts_ai;
DROP TRIGGER messages_fts_ad;
DROP TRIGGER messages_fts_au;

CREATE TABLE fts_pending (id INTEGER PRIMARY KEY);

CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages WHEN new.content IS NOT NULL AND new.content <> '' BEGIN
  INSERT OR IGNORE INTO fts_pending(id) VALUES (new.id);
END;

-- A row still queued is not in the index yet: only indexed rows are removed from it.
CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content)
    SELECT 'delete', old.id, old.content
    WHERE old.content IS NOT NULL AND old.content <> '' AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = old.id);
  DELETE FROM fts_pending WHERE id = old.id;
END;

CREATE TRIGGER messages_fts_au AFTER UPDATE OF content ON messages WHEN old.content IS NOT new.content BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content)
    SELECT 'delete', old.id, old.content
    WHERE old.content IS NOT NULL AND old.content <> '' AND NOT EXISTS (SELECT 1 FROM fts_pending WHERE id = old.id);
  INSERT OR IGNORE INTO fts_pending(id) VALUES (new.id);
END;
