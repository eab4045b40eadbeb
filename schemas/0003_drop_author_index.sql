-- messages_author served no query (search filters by author after the full-text match) but cost every
-- imported message a random-position index insert: about 15% of a large import's write time.
-- A query that needs messages by author should add an index shaped for it.
DROP INDEX IF EXISTS messages_author;
