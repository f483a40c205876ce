"""Reflect the springbatch-py objects a database holds: ``BATCH_*`` tables and sequences.

Tables of other names are never looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from springbatch_py.db.dialect import Dialect

_PREFIX = "BATCH_"


@dataclass(frozen=True)
class ReflectedColumn:
    """A column as the database reports it."""

    name: str
    type_text: str
    nullable: bool
    default: str | None


@dataclass(frozen=True)
class ReflectedForeignKey:
    """A foreign key as the database reports it."""

    name: str | None
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    on_delete: str | None


@dataclass
class ReflectedTable:
    """A table as the database reports it; column names are upper-cased for lookups."""

    name: str
    columns: dict[str, ReflectedColumn]
    primary_key: tuple[str, ...]
    unique: list[tuple[str, ...]]
    foreign_keys: list[ReflectedForeignKey]
    indexes: dict[str, tuple[str, ...]]


@dataclass
class Inventory:
    """Every ``BATCH_*`` table and sequence of the connection's schema."""

    dialect: Dialect
    tables: dict[str, ReflectedTable] = field(default_factory=dict)
    sequences: list[str] = field(default_factory=list)

    def find_table(self, name: str) -> ReflectedTable | None:
        """The table called ``name`` in this dialect's name comparison, if any."""
        for actual, table in self.tables.items():
            if self.dialect.same_name(actual, name):
                return table
        return None

    def find_table_any_case(self, name: str) -> ReflectedTable | None:
        """The table called ``name`` ignoring case (to explain case mismatches)."""
        for actual, table in self.tables.items():
            if actual.upper() == name.upper():
                return table
        return None

    def has_sequence(self, name: str) -> bool:
        """Whether a sequence called ``name`` exists."""
        return any(self.dialect.same_name(s, name) for s in self.sequences)

    def has_generator(self, name: str) -> bool:
        """Whether a generator ``name`` exists, as a sequence or as a table."""
        return self.has_sequence(name) or self.find_table(name) is not None

    def is_empty(self) -> bool:
        """Whether no ``BATCH_*`` object exists."""
        return not self.tables and not self.sequences


def _upper(names: Any) -> tuple[str, ...]:
    return tuple(str(n).upper() for n in names)


def reflect(connection: Connection, dialect: Dialect) -> Inventory:
    """Reflect every ``BATCH_*`` table and sequence visible on ``connection``."""
    inspector = sa.inspect(connection)
    inventory = Inventory(dialect)
    if dialect.sequences:
        inventory.sequences = [
            s for s in inspector.get_sequence_names() if s.upper().startswith(_PREFIX)
        ]
    for name in inspector.get_table_names():
        if not name.upper().startswith(_PREFIX):
            continue
        columns = {}
        for col in inspector.get_columns(name):
            type_text = col["type"].compile(dialect=connection.dialect)
            default = col.get("default")
            columns[col["name"].upper()] = ReflectedColumn(
                col["name"],
                dialect.normalize_type(type_text),
                bool(col["nullable"]),
                None if default is None else str(default),
            )
        pk = inspector.get_pk_constraint(name)
        uniques = [_upper(u["column_names"]) for u in inspector.get_unique_constraints(name)]
        indexes = {}
        for index in inspector.get_indexes(name):
            if index.get("name") is None:
                continue
            cols = _upper(c for c in index["column_names"] if c is not None)
            indexes[str(index["name"]).upper()] = cols
            if index.get("unique") and cols not in uniques:
                uniques.append(cols)
        fks = [
            ReflectedForeignKey(
                fk.get("name"),
                _upper(fk["constrained_columns"]),
                fk["referred_table"],
                _upper(fk["referred_columns"]),
                (fk.get("options") or {}).get("ondelete"),
            )
            for fk in inspector.get_foreign_keys(name)
        ]
        inventory.tables[name] = ReflectedTable(
            name, columns, _upper(pk.get("constrained_columns") or ()), uniques, fks, indexes
        )
    return inventory
