-- Id generators. Through the MariaDB JDBC driver Java uses sequences; through MySQL Connector/J
-- it uses MySQL's generator tables (id_next_table, in dialects/mysql/ids.sql). springbatch-py
-- uses whichever the schema holds.

-- name: id_next_sequence
-- Draw the next id from the sequence {generator}.
SELECT NEXT VALUE FOR {generator};
