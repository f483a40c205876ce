-- Id generators, as Java's SQLite incrementer uses them: insert a row into the AUTOINCREMENT
-- table, read the largest rowid, delete the older rows; all in the caller's transaction (SQLite
-- has one writer, so a second connection would wait on the caller's own lock).

-- name: id_next_sequence
-- Draw the next id from a sequence.
-- not supported: SQLite has no sequences; its generators are tables.

-- name: id_next_table
-- Draw the next id from the AUTOINCREMENT table {generator}.
INSERT INTO {generator} VALUES (NULL);
SELECT MAX(ROWID) FROM {generator};
DELETE FROM {generator} WHERE ID < (SELECT MAX(ID) FROM {generator});
