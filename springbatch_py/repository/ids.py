"""Id generators that draw ids exactly as Java's incrementers do.

* sequences (PostgreSQL, Oracle, MariaDB through its own driver): the next value, on the caller's
  connection;
* MySQL-style tables (MySQL, MariaDB through MySQL Connector/J): ``UPDATE ... LAST_INSERT_ID(ID +
  1)`` on a connection of their own that commits at once, so an id is never rolled back and the
  row lock is not held for the caller's whole transaction;
* SQLite AUTOINCREMENT tables: insert, read the largest rowid, delete older rows, on the caller's
  connection (a second connection would wait on the caller's write lock).

Oracle sequences start at 0: 0 is a real id.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from springbatch_py.db.database import Database
from springbatch_py.db.dialect import GeneratorStyle
from springbatch_py.db.model import GENERATORS, SpringBatchMajor
from springbatch_py.errors import SchemaError


class IdGenerator:
    """Draws ids from one generator."""

    def __init__(self, db: Database, name: str, style: GeneratorStyle) -> None:
        self.db = db
        self.name = name
        self.style = style
        statement = "id_next_sequence" if style == "sequence" else "id_next_table"
        self._statement = db.statements[statement]
        # A counter row is updated on a connection of its own (Java's MySQL incrementer).
        self._counter_row = style == "table" and db.dialect.generator_tables_hold_one_row

    def __repr__(self) -> str:
        return f"<IdGenerator {self.name} ({self.style})>"

    def next_id(self, connection: Connection) -> int:
        """The next id. ``connection`` is the caller's; MySQL-style tables use their own."""
        if not self._counter_row:
            return self._draw(connection)
        with self.db.engine.connect() as own:
            value = self._draw(own)
            own.commit()
            return value

    def _draw(self, connection: Connection) -> int:
        result = self._statement.run(connection, generator=self.name)
        if self._counter_row and result.rowcounts[0] != 1:
            # Java would silently read a stale LAST_INSERT_ID() here and reuse an id.
            raise SchemaError(
                f"generator table {self.name} holds no row (its UPDATE matched "
                f"{result.rowcounts[0]}); run: springbatch-py schema verify"
            )
        value = result.scalar()
        if value is None:
            raise SchemaError(f"generator {self.name} returned no value")
        return int(value)


def id_generators(
    db: Database, major: SpringBatchMajor, style: GeneratorStyle
) -> Mapping[str, IdGenerator]:
    """The three generators of ``major``, by role (job_instance, job_execution, step_execution)."""
    return {role: IdGenerator(db, name, style) for role, name in GENERATORS[major].items()}
