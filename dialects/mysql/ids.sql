-- Id generators, as Java's MySQL incrementer uses them: single-row tables bumped through
-- LAST_INSERT_ID, on a connection of their own that commits at once (an id is never rolled back
-- with the business transaction, and the row lock is held for an instant only).

-- name: id_next_sequence
-- Draw the next id from a sequence.
-- not supported: MySQL has no sequences; its generators are tables.

-- name: id_next_table
-- Bump the generator table {generator} and read the new id; the UPDATE must match exactly one row.
UPDATE {generator} SET ID = LAST_INSERT_ID(ID + 1) LIMIT 1;
SELECT LAST_INSERT_ID();
