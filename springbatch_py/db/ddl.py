"""Read the DDL scripts under ``schema/<dialect>/``.

The scripts are plain SQL that Flyway, Liquibase or a DBA can run as they are. springbatch-py
parses them with a small strict parser for the subset they use, so that ``schema create`` can run
one object at a time (creating what is missing, reporting what exists) and so that a test can
check, without a server, that each dialect's DDL uses only that dialect's syntax and types and
declares exactly the model of :mod:`springbatch_py.db.model`.

The grammar is deliberately narrow; anything else is a :class:`DdlError` naming file and line.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from springbatch_py.db import detect, resources
from springbatch_py.errors import SchemaError

Action = Literal["create", "drop", "seed"]
ObjectKind = Literal["table", "sequence", "index"]

#: Script file names, the same in every dialect folder.
SCRIPTS: tuple[str, ...] = (
    "spring-batch-5.sql",
    "spring-batch-6.sql",
    "cluster.sql",
    "drop-spring-batch-5.sql",
    "drop-spring-batch-6.sql",
    "drop-cluster.sql",
)


class DdlError(SchemaError):
    """A DDL script does not follow the grammar its dialect allows."""


@dataclass(frozen=True)
class ParsedColumn:
    """One column definition."""

    name: str
    type_text: str
    nullable: bool
    primary_key: bool = False
    default: str | None = None
    autoincrement: bool = False


@dataclass(frozen=True)
class ParsedForeignKey:
    """One foreign-key clause."""

    name: str | None
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    on_delete: str | None


@dataclass(frozen=True)
class ParsedTable:
    """A CREATE TABLE statement, parsed."""

    name: str
    columns: tuple[ParsedColumn, ...]
    primary_key: tuple[str, ...]
    unique: dict[str, tuple[str, ...]] = field(default_factory=dict)
    foreign_keys: tuple[ParsedForeignKey, ...] = ()
    checks: tuple[str, ...] = ()


@dataclass(frozen=True)
class DdlStatement:
    """One statement of a script, with the object it acts on."""

    sql: str
    action: Action
    kind: ObjectKind
    name: str
    line: int
    on_table: str | None = None
    table: ParsedTable | None = None
    if_exists: bool = False


# -- tokenizer ---------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s+|--[^\n]*|(?P<str>'(?:[^']|'')*')|(?P<num>\d+)|(?P<word>[A-Za-z_][A-Za-z0-9_$]*)"
    r"|(?P<punct>[(),;=*.<>!+\-/|])"
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    line: int
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def _tokenize(source: str, where: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos, line = 0, 1
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match:
            raise DdlError(f"{where}:{line}: unexpected character {source[pos]!r}")
        kind = match.lastgroup
        if kind is not None:
            tokens.append(_Tok(kind, match.group(kind), line, match.start()))
        line += match.group(0).count("\n")
        pos = match.end()
    return tokens


def _split(tokens: list[_Tok], source: str) -> Iterator[list[_Tok]]:
    current: list[_Tok] = []
    depth = 0
    for tok in tokens:
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if tok.text == ";" and depth == 0:
            if current:
                yield current
            current = []
        else:
            current.append(tok)
    if current:
        raise DdlError(f"{source}:{current[0].line}: statement without a closing ';'")


# -- parser ------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Tok], dialect: str, where: str) -> None:
        self.toks = tokens
        self.i = 0
        self.dialect = dialect
        # What the scripts of this folder may use: the DDL grammar of its dialect.
        self.grammar = detect.vendor_for_backend(dialect)
        self.where = where

    # token helpers
    def peek(self, offset: int = 0) -> _Tok | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def error(self, message: str) -> DdlError:
        tok = self.peek() or self.toks[-1]
        return DdlError(f"{self.where}:{tok.line}: {message} (at {tok.text!r})")

    def at(self, *words: str) -> bool:
        for offset, word in enumerate(words):
            tok = self.peek(offset)
            if tok is None or tok.upper != word.upper():
                return False
        return True

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self.error(f"expected {' '.join(words)}")

    def name(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind != "word":
            raise self.error("expected a name")
        self.i += 1
        return tok.text

    def number(self) -> int:
        tok = self.peek()
        if tok is None or tok.kind != "num":
            raise self.error("expected a number")
        self.i += 1
        return int(tok.text)

    def name_list(self) -> tuple[str, ...]:
        self.expect("(")
        names = [self.name()]
        while self.accept(","):
            names.append(self.name())
        self.expect(")")
        return tuple(names)

    def balanced(self) -> str:
        """A parenthesised expression, returned as text."""
        if not self.at("("):
            raise self.error("expected '('")
        depth, parts = 0, []
        while True:
            tok = self.peek()
            if tok is None:
                raise self.error("unbalanced parentheses")
            self.i += 1
            parts.append(tok.text)
            depth += {"(": 1, ")": -1}.get(tok.text, 0)
            if depth == 0:
                return " ".join(parts)

    def done(self) -> None:
        if self.peek() is not None:
            raise self.error("unexpected text at the end of the statement")

    # statements
    def statement(self, sql: str) -> DdlStatement:
        line = self.toks[0].line
        if self.accept("CREATE", "TABLE"):
            table = self.create_table()
            return DdlStatement(sql, "create", "table", table.name, line, table=table)
        if self.accept("CREATE", "SEQUENCE"):
            name = self.create_sequence()
            return DdlStatement(sql, "create", "sequence", name, line)
        if self.accept("CREATE", "INDEX"):
            name = self.name()
            self.expect("ON")
            on_table = self.name()
            self.name_list()
            self.done()
            return DdlStatement(sql, "create", "index", name, line, on_table=on_table)
        if self.accept("INSERT", "INTO"):
            # Only the MySQL generator seed: a guarded INSERT ... SELECT that writes one row.
            if not self.grammar.ddl_seed_rows:
                raise self.error("seed rows exist only in the MySQL generator tables")
            on_table = self.name()
            self.name_list()
            if not self.at("SELECT") or "NOT EXISTS" not in " ".join(t.upper for t in self.toks):
                raise self.error("a seed must be INSERT ... SELECT ... WHERE NOT EXISTS (...)")
            return DdlStatement(sql, "seed", "table", on_table, line, on_table=on_table)
        if self.accept("DROP"):
            return self.drop(sql, line)
        raise self.error("unsupported statement")

    def drop(self, sql: str, line: int) -> DdlStatement:
        kind: ObjectKind
        if self.accept("TABLE"):
            kind = "table"
        elif self.accept("SEQUENCE"):
            kind = "sequence"
            if not self.grammar.ddl_sequence_options:
                raise self.error(f"{self.dialect} has no sequences")
        else:
            raise self.error("expected TABLE or SEQUENCE")
        if_exists = self.accept("IF", "EXISTS")
        if if_exists and not self.grammar.ddl_drop_if_exists:
            raise self.error("Oracle before 23ai has no DROP ... IF EXISTS")
        name = self.name()
        cascade = kind == "table" and self.accept("CASCADE", "CONSTRAINTS")
        if cascade and not self.grammar.ddl_cascade_constraints:
            raise self.error("CASCADE CONSTRAINTS is Oracle syntax")
        self.done()
        return DdlStatement(sql, "drop", kind, name, line, if_exists=if_exists)

    def create_sequence(self) -> str:
        if not self.grammar.ddl_sequence_options:
            raise self.error(f"{self.dialect} has no sequences")
        name = self.name()
        options = [option.split() for option in self.grammar.ddl_sequence_options]
        while self.peek() is not None:
            for words in options:
                fixed = words[: words.index("N")] if "N" in words else words
                if self.at(*fixed):
                    break
            else:
                raise self.error(f"sequence option not accepted by {self.dialect}")
            for word in words:
                if word != "N":
                    self.expect(word)
                elif self.number() > self.grammar.ddl_sequence_max and words[0] == "MAXVALUE":
                    raise self.error(f"MAXVALUE above {self.grammar.ddl_sequence_max}")
        return name

    def create_table(self) -> ParsedTable:
        name = self.name()
        self.expect("(")
        columns: list[ParsedColumn] = []
        primary_key: tuple[str, ...] = ()
        unique: dict[str, tuple[str, ...]] = {}
        fks: list[ParsedForeignKey] = []
        checks: list[str] = []
        while True:
            constraint_name = self.name() if self.accept("CONSTRAINT") else None
            if self.accept("PRIMARY", "KEY"):
                primary_key = self.name_list()
            elif self.accept("UNIQUE"):
                if constraint_name is None:
                    raise self.error("name unique constraints")
                unique[constraint_name] = self.name_list()
            elif self.accept("FOREIGN", "KEY"):
                fks.append(self.foreign_key(constraint_name))
            elif self.accept("CHECK"):
                checks.append(self.balanced())
            elif constraint_name is None:
                column = self.column()
                columns.append(column)
                if column.primary_key:
                    primary_key = (column.name,)
            else:
                raise self.error("expected a constraint after CONSTRAINT <name>")
            if self.accept(")"):
                break
            self.expect(",")
        self.table_options()
        self.done()
        return ParsedTable(name, tuple(columns), primary_key, unique, tuple(fks), tuple(checks))

    def foreign_key(self, name: str | None) -> ParsedForeignKey:
        columns = self.name_list()
        self.expect("REFERENCES")
        referred = self.name()
        referred_columns = self.name_list()
        on_delete = None
        if self.accept("ON", "DELETE"):
            on_delete = "CASCADE" if self.accept("CASCADE") else None
            if on_delete is None:
                raise self.error("only ON DELETE CASCADE is used")
        return ParsedForeignKey(name, columns, referred, referred_columns, on_delete)

    def table_options(self) -> None:
        for option in self.grammar.ddl_table_options:
            self.expect(*option.split())

    def column(self) -> ParsedColumn:
        name = self.name()
        type_text = self.column_type()
        nullable, primary_key, autoincrement = True, False, False
        default: str | None = None
        seen_constraint = False
        while (tok := self.peek()) is not None and tok.text not in (",", ")"):
            if self.accept("DEFAULT"):
                if seen_constraint and self.grammar.ddl_default_first:
                    raise self.error("Oracle wants DEFAULT before NOT NULL and other constraints")
                default = self.default_value()
            elif self.accept("NOT", "NULL"):
                nullable, seen_constraint = False, True
            elif self.accept("PRIMARY", "KEY"):
                primary_key, nullable, seen_constraint = True, False, True
            elif self.accept("AUTOINCREMENT"):
                if not self.grammar.ddl_autoincrement:
                    raise self.error("AUTOINCREMENT is SQLite syntax")
                autoincrement = True
            elif self.accept("CHECK"):
                self.balanced()
                seen_constraint = True
            else:
                raise self.error("unexpected column clause")
        return ParsedColumn(name, type_text, nullable, primary_key, default, autoincrement)

    def column_type(self) -> str:
        type_name = self.name().upper()
        allowed = self.grammar.ddl_types
        if type_name not in allowed:
            raise self.error(f"type {type_name} is not used in {self.dialect} DDL")
        args: list[str] = []
        if self.accept("("):
            args.append(str(self.number()))
            if self.grammar.ddl_length_semantics and (self.at("CHAR") or self.at("BYTE")):
                args[-1] += " " + self.name().upper()
            while self.accept(","):
                args.append(str(self.number()))
            self.expect(")")
        if len(args) not in allowed[type_name]:
            raise self.error(f"{type_name} takes {allowed[type_name]} argument(s)")
        return f"{type_name}({','.join(args)})" if args else type_name

    def default_value(self) -> str:
        tok = self.peek()
        if tok is None:
            raise self.error("expected a default value")
        if tok.text == "(":
            return self.balanced()
        if tok.kind in ("num", "str") or tok.upper in ("NULL", "CURRENT_TIMESTAMP"):
            self.i += 1
            if tok.upper == "CURRENT_TIMESTAMP" and self.accept("("):
                precision = self.number()  # CURRENT_TIMESTAMP(3), for a TIMESTAMP(3) column
                self.expect(")")
                return f"{tok.text}({precision})"
            return tok.text
        raise self.error("unsupported default value")


def parse_script(source: str, *, dialect: str, filename: str) -> list[DdlStatement]:
    """Parse one DDL script of ``dialect``."""
    where = f"schema/{dialect}/{filename}"
    tokens = _tokenize(source, where)
    result = []
    for stmt_tokens in _split(tokens, where):
        end = stmt_tokens[-1].start + len(stmt_tokens[-1].text)
        sql = source[stmt_tokens[0].start : end]
        result.append(_Parser(stmt_tokens, dialect, where).statement(sql))
    return result


@functools.cache
def load_script(dialect: str, filename: str) -> tuple[DdlStatement, ...]:
    """Parse (once) ``schema/<dialect>/<filename>``."""
    if filename not in SCRIPTS:
        raise SchemaError(f"unknown DDL script {filename!r}")
    text = resources.read_text("schema", dialect, filename)
    return tuple(parse_script(text, dialect=dialect, filename=filename))
