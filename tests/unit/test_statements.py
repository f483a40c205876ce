"""Named statements: one catalogue per dialect, the same names everywhere."""

from __future__ import annotations

import pytest

from springbatch_py.db import resources
from springbatch_py.db.statements import load_catalog, parse_statements
from springbatch_py.errors import StatementError


def test_every_dialect_names_every_statement() -> None:
    catalogs = {d: load_catalog(d) for d in resources.DIALECT_FOLDERS}
    union = frozenset().union(*(c.names() for c in catalogs.values()))
    assert union, "no named statements found"
    for dialect, catalog in catalogs.items():
        missing = union - catalog.names()
        assert not missing, f"{dialect} lacks {sorted(missing)}"


def test_every_dialect_has_the_same_statement_files() -> None:
    files = {d: resources.list_files("dialects", d) for d in resources.DIALECT_FOLDERS}
    assert len({tuple(f) for f in files.values()}) == 1, files


def test_statements_have_descriptions_and_sql() -> None:
    for dialect in resources.DIALECT_FOLDERS:
        for statement in load_catalog(dialect).statements.values():
            assert statement.description
            assert statement.sql or statement.unsupported


def test_render_substitutes_checked_identifiers() -> None:
    statement = load_catalog("postgresql")["id_next_sequence"]
    assert statement.render(generator="BATCH_JOB_SEQ") == ("SELECT nextval('BATCH_JOB_SEQ')",)
    with pytest.raises(StatementError, match="not a plain SQL identifier"):
        statement.render(generator="x'); DROP TABLE y; --")
    with pytest.raises(StatementError, match="needs identifier"):
        statement.render()


def test_unsupported_statement_refuses_to_render() -> None:
    with pytest.raises(StatementError, match="not supported on postgresql"):
        load_catalog("postgresql")["id_next_table"].render(generator="X")


def test_unknown_statement_name() -> None:
    with pytest.raises(StatementError, match="no statement named"):
        load_catalog("sqlite")["nope"]


def test_multi_statement_bodies_split_on_line_end_semicolons() -> None:
    statement = load_catalog("sqlite")["id_next_table"]
    assert len(statement.sql) == 3
    assert statement.sql[1].startswith("SELECT MAX(ROWID)")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SELECT 1;", "before the first"),
        ("-- name: a\nSELECT 1;", "one-line description"),
        ("-- name: a\n-- d\nSELECT 1", "must end with ';'"),
        ("-- name: a\n-- d\n-- not supported: no\nSELECT 1;", "marked not supported but has SQL"),
    ],
)
def test_malformed_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(StatementError, match=message):
        parse_statements(text, dialect="sqlite", filename="x.sql")
