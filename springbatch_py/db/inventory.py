"""Reflect the springbatch-py objects a database holds: ``BATCH_*`` tables and sequences.

Tables of other names are never looked at.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
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
    #: False when only the name was reflected (see :func:`reflect`'s ``details``).
    detailed: bool = True


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


def reflect(
    connection: Connection, dialect: Dialect, *, details: Collection[str] | None = None
) -> Inventory:
    """Reflect every ``BATCH_*`` table and sequence visible on ``connection``.

    ``details`` names the tables to reflect in full (columns, keys, indexes; any case); the
    others are listed by name only, with :attr:`ReflectedTable.detailed` false. By default
    every table is reflected in full. Each kind of detail is one question for all the tables
    (SQLAlchemy's ``get_multi_*``): on PostgreSQL one catalog query, not one per table.
    """
    inspector = sa.inspect(connection)
    inventory = Inventory(dialect)
    if dialect.sequences:
        inventory.sequences = [
            s for s in inspector.get_sequence_names() if s.upper().startswith(_PREFIX)
        ]
    names = [n for n in inspector.get_table_names() if n.upper().startswith(_PREFIX)]
    wanted = None if details is None else {d.upper() for d in details}
    full = [n for n in names if wanted is None or n.upper() in wanted]
    for name in names:
        if name not in full:
            inventory.tables[name] = ReflectedTable(name, {}, (), [], [], {}, detailed=False)
    if not full:
        return inventory
    all_columns = _by_table(inspector.get_multi_columns(filter_names=full))
    all_pks = _by_table(inspector.get_multi_pk_constraint(filter_names=full))
    all_uniques = _by_table(inspector.get_multi_unique_constraints(filter_names=full))
    all_indexes = _by_table(inspector.get_multi_indexes(filter_names=full))
    all_fks = _by_table(inspector.get_multi_foreign_keys(filter_names=full))
    for name in full:
        columns = {}
        for col in all_columns.get(name, []):
            type_text = col["type"].compile(dialect=connection.dialect)
            default = col.get("default")
            columns[col["name"].upper()] = ReflectedColumn(
                col["name"],
                dialect.normalize_type(type_text),
                bool(col["nullable"]),
                None if default is None else str(default),
            )
        pk = all_pks.get(name) or {}
        uniques = [_upper(u["column_names"]) for u in all_uniques.get(name, [])]
        indexes = {}
        for index in all_indexes.get(name, []):
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
            for fk in all_fks.get(name, [])
        ]
        inventory.tables[name] = ReflectedTable(
            name, columns, _upper(pk.get("constrained_columns") or ()), uniques, fks, indexes
        )
    return inventory


def _by_table(found: Mapping[tuple[str | None, str], Any]) -> dict[str, Any]:
    """``get_multi_*`` answers keyed by (schema, table): by table alone (one schema here)."""
    return {table: value for (_schema, table), value in found.items()}
