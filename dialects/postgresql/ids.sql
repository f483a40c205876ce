-- Id generators, as Java's PostgreSQL incrementer uses them.

-- name: id_next_sequence
-- Draw the next id from the sequence {generator}.
SELECT nextval('{generator}');

-- name: id_next_table
-- Draw the next id from a generator table.
-- not supported: PostgreSQL generators are sequences.
