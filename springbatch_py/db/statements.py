"""Named per-dialect SQL statements, loaded once from ``dialects/<dialect>/*.sql``.

A file holds blocks of this shape::

    -- name: id_next_sequence
    -- Draw the next value of the sequence {generator}.
    SELECT nextval('{generator}');

The first comment line after the name describes the statement. A block whose body is the comment
``-- not supported: <why>`` declares that the dialect has no such statement; every dialect must name
every statement, so the catalogues stay aligned (a test checks it). A body may hold several SQL
statements, each ending with ``;`` at the end of a line; they run in order on one connection.

``{identifier}`` placeholders stand for SQL identifiers (generator or table names), which cannot
be bound parameters; values are checked against a strict identifier pattern before they are
substituted. Values are bound with ``:name`` parameters as usual.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, text

from springbatch_py.db import resources
from springbatch_py.errors import StatementError

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>[a-z][a-z0-9_]*)\s*$")
_UNSUPPORTED = re.compile(r"^--\s*not supported:\s*(?P<why>.+)$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,127}$")
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


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


def parse_statements(source_text: str, *, dialect: str, filename: str) -> list[NamedStatement]:
    """Parse the blocks of one statement file."""
    blocks: list[tuple[str, int, list[str]]] = []
    for lineno, line in enumerate(source_text.splitlines(), start=1):
        match = _NAME_LINE.match(line.strip())
        if match:
            blocks.append((match.group("name"), lineno, []))
        elif blocks:
            blocks[-1][2].append(line)
        elif line.strip() and not line.lstrip().startswith("--"):
            raise StatementError(f"{dialect}/{filename}:{lineno}: SQL before the first '-- name:'")
    result = []
    for name, lineno, lines in blocks:
        where = f"{dialect}/{filename}:{lineno}"
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


@functools.cache
def load_catalog(dialect: str) -> StatementCatalog:
    """Load (once) every named statement of ``dialect``."""
    statements: dict[str, NamedStatement] = {}
    for filename in resources.list_files("dialects", dialect):
        content = resources.read_text("dialects", dialect, filename)
        for statement in parse_statements(content, dialect=dialect, filename=filename):
            if statement.name in statements:
                raise StatementError(
                    f"{statement.source}: {statement.name!r} already defined at "
                    f"{statements[statement.name].source}"
                )
            statements[statement.name] = statement
    return StatementCatalog(dialect, statements)
