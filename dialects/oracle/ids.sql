-- Id generators, as Java's Oracle incrementer uses them. The sequences start at 0: 0 is a real id.

-- name: id_next_sequence
-- Draw the next id from the sequence {generator}.
SELECT {generator}.NEXTVAL FROM DUAL;

-- name: id_next_table
-- Draw the next id from a generator table.
-- not supported: Oracle generators are sequences.
