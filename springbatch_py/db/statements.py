"""Named SQL statements, loaded once per dialect from ``dialects/``.

A file holds blocks of this shape::

    -- name: id_next_sequence
    -- Draw the next value of the sequence {generator}.
    SELECT nextval('{generator}');

The first comment line after the name describes the statement. A block whose body is the comment
``-- not supported: <why>`` declares that the dialect has no such statement; every dialect must name
every statement, so the catalogues stay aligned (a test checks it). A body may hold several SQL
statements, each ending with ``;`` at the end of a line; they run in order on one connection.

Where a statement is found, first match wins: ``dialects/<dialect>/``, then the folders of the
vendors the dialect derives from (MariaDB: ``dialects/mysql/``), then ``dialects/common/``, the
statements written once for every dialect. A dialect's folder holds only what really differs there.

``{{fragment}}`` and ``{{fragment(ARGUMENT)}}`` mark where the dialect fills in SQL when the
catalogue is loaded (:data:`FRAGMENTS`: the clock, ages, table names, row limits); the hooks are
on :class:`~springbatch_py.db.dialect.Dialect`.

``{identifier}`` placeholders stand for SQL identifiers (generator or table names), which cannot
be bound parameters; values are checked against a strict identifier pattern before they are
substituted. Values are bound with ``:name`` parameters as usual.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, text

from springbatch_py.db import model, resources
from springbatch_py.db.detect import vendor_for_backend
from springbatch_py.db.dialect import Dialect
from springbatch_py.errors import StatementError

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>[a-z][a-z0-9_]*)\s*$")
_UNSUPPORTED = re.compile(r"^--\s*not supported:\s*(?P<why>.+)$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,127}$")
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_FRAGMENT = re.compile(r"\{\{(?P<name>[a-z_]+)(?:\((?P<argument>[^(){}]*)\))?\}\}")
_ARGUMENT = re.compile(r"^(?::?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?|[0-9]+)$")

#: Folder under ``dialects/`` of the statements written once for every dialect.
COMMON = resources.COMMON_DIALECT_FOLDER


def _table(dialect: type[Dialect], name: str) -> str:
    try:
        table = model.table(name)
    except KeyError:
        raise StatementError(f"no table {name!r} in the schema model") from None
    return dialect.table_name(table.name, table.family)


#: The statement fragments: name, whether it takes an argument, and how a dialect fills it.
FRAGMENTS: Mapping[str, tuple[bool, Callable[[type[Dialect], str], str]]] = {
    "now": (False, lambda dialect, _: dialect.now_sql()),
    "age_ms": (True, lambda dialect, column: dialect.age_ms_sql(column)),
    "table": (True, _table),
    "keyed": (True, lambda dialect, name: dialect.keyed_table_sql(_table(dialect, name))),
    "limit": (True, lambda dialect, count: dialect.row_limit_sql(count)),
}


@dataclass(frozen=True)
class StatementResult:
    """What running a named statement gave: the rows of its last row-returning text, and the
    affected-row count of every text (-1 where the driver does not tell)."""

    rows: Sequence[Row[Any]]
    rowcounts: tuple[int, ...]

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None


@dataclass(frozen=True)
class NamedStatement:
    """One named statement of one dialect."""

    name: str
    dialect: str
    description: str
    sql: tuple[str, ...]
    unsupported: str | None
    source: str

    @property
    def supported(self) -> bool:
        """Whether the dialect has this statement."""
        return self.unsupported is None

    @property
    def placeholders(self) -> frozenset[str]:
        """Identifier placeholders used in the SQL."""
        return frozenset(p for s in self.sql for p in _PLACEHOLDER.findall(s))

    def render(self, **identifiers: str) -> tuple[str, ...]:
        """Return the SQL texts with identifier placeholders substituted."""
        if self.unsupported is not None:
            raise StatementError(
                f"statement {self.name!r} is not supported on {self.dialect}: {self.unsupported}"
            )
        missing = self.placeholders - identifiers.keys()
        if missing:
            raise StatementError(
                f"statement {self.name!r} needs identifier(s) {', '.join(sorted(missing))}"
            )
        for key, value in identifiers.items():
            if not _IDENTIFIER.match(value):
                raise StatementError(f"{key}={value!r} is not a plain SQL identifier")
        return tuple(_PLACEHOLDER.sub(lambda m: identifiers[m.group(1)], s) for s in self.sql)

    def run(
        self,
        connection: Connection,
        params: Mapping[str, Any] | None = None,
        **identifiers: str,
    ) -> StatementResult:
        """Execute every SQL text in order on ``connection``.

        ``params`` is offered to each text; a text receives only the parameters it names.
        """
        rows: Sequence[Row[Any]] = ()
        counts = []
        for sql in self.render(**identifiers):
            names = set(_BIND.findall(sql))
            wanted = {k: v for k, v in (params or {}).items() if k in names}
            result = connection.execute(text(sql), wanted)
            if result.returns_rows:
                rows = result.fetchall()
                counts.append(-1)
            else:
                counts.append(result.rowcount)
        return StatementResult(rows, tuple(counts))

    def run_many(self, connection: Connection, params: Sequence[Mapping[str, Any]]) -> None:
        """Execute every SQL text once per parameter set, as one batch where the driver can
        (psycopg sends a batch in one round trip)."""
        if not params:
            return
        for sql in self.render():
            names = set(_BIND.findall(sql))
            connection.execute(
                text(sql), [{k: v for k, v in p.items() if k in names} for p in params]
            )


@dataclass(frozen=True)
class StatementCatalog:
    """Every named statement of one dialect."""

    dialect: str
    statements: Mapping[str, NamedStatement]

    def __getitem__(self, name: str) -> NamedStatement:
        try:
            return self.statements[name]
        except KeyError:
            raise StatementError(f"no statement named {name!r} for {self.dialect}") from None

    def names(self) -> frozenset[str]:
        """Names of all statements, supported or not."""
        return frozenset(self.statements)


def parse_statements(
    source_text: str, *, dialect: str, filename: str, folder: str | None = None
) -> list[NamedStatement]:
    """Parse the blocks of one statement file of ``dialect``, found in the folder ``folder``
    under ``dialects/`` (by default the dialect's own). Fragments are left as written."""
    folder = folder or dialect
    blocks: list[tuple[str, int, list[str]]] = []
    for lineno, line in enumerate(source_text.splitlines(), start=1):
        match = _NAME_LINE.match(line.strip())
        if match:
            blocks.append((match.group("name"), lineno, []))
        elif blocks:
            blocks[-1][2].append(line)
        elif line.strip() and not line.lstrip().startswith("--"):
            raise StatementError(f"{folder}/{filename}:{lineno}: SQL before the first '-- name:'")
    result = []
    for name, lineno, lines in blocks:
        where = f"{folder}/{filename}:{lineno}"
        comments = [ln.strip() for ln in lines if ln.strip().startswith("--")]
        body = "\n".join(ln for ln in lines if not ln.strip().startswith("--")).strip()
        if not comments or _UNSUPPORTED.match(comments[0]):
            raise StatementError(f"{where}: statement {name!r} needs a one-line description")
        description = comments[0].lstrip("-").strip()
        unsupported = next(
            (m.group("why").strip() for c in comments[1:] if (m := _UNSUPPORTED.match(c))), None
        )
        if unsupported is not None:
            if body:
                raise StatementError(f"{where}: {name!r} is marked not supported but has SQL")
            sql: tuple[str, ...] = ()
        else:
            if not body.endswith(";"):
                raise StatementError(f"{where}: statement {name!r} must end with ';'")
            sql = tuple(s.strip() for s in re.split(r";[ \t]*(?:\n|$)", body) if s.strip())
        result.append(NamedStatement(name, dialect, description, sql, unsupported, where))
    return result


def fill_fragments(statement: NamedStatement, dialect: type[Dialect]) -> NamedStatement:
    """``statement`` with its ``{{fragment}}`` marks replaced by ``dialect``'s SQL."""

    def fill(match: re.Match[str]) -> str:
        name, argument = match.group("name"), match.group("argument")
        where = f"{statement.source}: {match.group(0)} in {statement.name!r}"
        if name not in FRAGMENTS:
            raise StatementError(f"{where}: no fragment {name!r}; known: {', '.join(FRAGMENTS)}")
        takes_argument, build = FRAGMENTS[name]
        if takes_argument != (argument is not None):
            wanted = "needs an argument" if takes_argument else "takes no argument"
            raise StatementError(f"{where}: fragment {name!r} {wanted}")
        argument = (argument or "").strip()
        if takes_argument and not _ARGUMENT.match(argument):
            raise StatementError(f"{where}: {argument!r} is not a column, name or parameter")
        try:
            return build(dialect, argument)
        except StatementError as exc:
            raise StatementError(f"{where}: {exc}") from None

    sql = tuple(_FRAGMENT.sub(fill, s) for s in statement.sql)
    if any("{{" in filled or "}}" in filled for filled in sql):
        raise StatementError(f"{statement.source}: malformed fragment in {statement.name!r}")
    return dataclasses.replace(statement, sql=sql)


def statement_folders(dialect: str) -> tuple[str, ...]:
    """Folders under ``dialects/`` that ``dialect``'s statements come from, first match wins."""
    return (*vendor_for_backend(dialect).statement_folders(), COMMON)


@functools.cache
def load_catalog(dialect: str) -> StatementCatalog:
    """Load (once) every named statement of ``dialect``: its own, then those of the vendors it
    derives from, then the common ones, each name taken from the first folder that has it."""
    vendor = vendor_for_backend(dialect)
    statements: dict[str, NamedStatement] = {}
    for folder in statement_folders(dialect):
        found: dict[str, NamedStatement] = {}
        for filename in resources.list_files("dialects", folder):
            content = resources.read_text("dialects", folder, filename)
            parsed = parse_statements(content, dialect=dialect, filename=filename, folder=folder)
            for statement in parsed:
                if statement.name in found:
                    raise StatementError(
                        f"{statement.source}: {statement.name!r} already defined at "
                        f"{found[statement.name].source}"
                    )
                found[statement.name] = statement
        for name, statement in found.items():
            filled = fill_fragments(statement, vendor)  # checked even where it is replaced
            statements.setdefault(name, filled)
    return StatementCatalog(dialect, statements)


def catalog_text(dialect: str) -> str:
    """Every named statement of ``dialect`` as it runs, sorted by name, as one SQL text to read
    (``springbatch-py statements print``); it parses back into the same statements."""
    catalog = load_catalog(dialect)
    lines = [
        f"-- The named statements springbatch-py runs on {vendor_for_backend(dialect).product} "
        f"(dialect {dialect}), by name.",
        "-- :name is a bound parameter; {generator} is a generator name, filled in when the "
        "statement runs.",
        "",
    ]
    for name in sorted(catalog.statements):
        statement = catalog.statements[name]
        lines += [
            f"-- name: {name}",
            f"-- {statement.description}",
            f"-- from: dialects/{statement.source.rsplit(':', 1)[0]}",
        ]
        if statement.unsupported is not None:
            lines.append(f"-- not supported: {statement.unsupported}")
        else:
            lines += [f"{sql};" for sql in statement.sql]
        lines.append("")
    return "\n".join(lines)
