-- Cheaper search indexing for large imports.
-- 1. The store queues newly inserted messages for search itself (one INSERT into fts_pending beside the
--    message's own) instead of through a row trigger, whose program ran for every imported message and cost
--    about a sixth of a bulk import's SQLite time. Content updates and deletions keep their triggers.
-- 2. The index keeps no per-message token counts (columnsize=0): they serve only bm25 ranking, which search
--    does not use (hits are ordered by message id), and writing them cost a fifth of the indexing time.
--    Recreating the index re-indexes every message once, here.
DROP TRIGGER IF EXISTS messages_fts_ai;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id',
  tokenize='unicode61 remove_diacritics 2', columnsize=0);
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
DELETE FROM fts_pending;
