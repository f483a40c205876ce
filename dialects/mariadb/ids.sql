-- Id generators. Through the MariaDB JDBC driver Java uses sequences; through MySQL Connector/J
-- it uses MySQL's generator tables. springbatch-py uses whichever the schema holds.

-- name: id_next_sequence
-- Draw the next id from the sequence {generator}.
SELECT NEXT VALUE FOR {generator};

-- name: id_next_table
-- Bump the generator table {generator} and read the new id; the UPDATE must match exactly one row.
UPDATE {generator} SET ID = LAST_INSERT_ID(ID + 1) LIMIT 1;
SELECT LAST_INSERT_ID();
