"""Named statements: one catalogue per dialect, the same names everywhere.

The golden files ``tests/golden/statements-<dialect>.sql`` hold what ``springbatch-py statements
print`` shows; after a deliberate change to a statement or a fragment, regenerate them with::

    for d in postgresql mysql mariadb oracle sqlite; do
        python -m springbatch_py statements print --dialect $d > tests/golden/statements-$d.sql
    done

and read the diff: it is the SQL that changes on each database.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from springbatch_py.cli import main
from springbatch_py.db import resources
from springbatch_py.db.detect import VENDORS
from springbatch_py.db.statements import (
    StatementCatalog,
    fill_fragments,
    load_catalog,
    parse_statements,
    statement_folders,
)
from springbatch_py.errors import StatementError

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _missing(catalogs: dict[str, StatementCatalog]) -> dict[str, list[str]]:
    """The statement names each dialect lacks, of all that any dialect names."""
    union = frozenset().union(*(c.names() for c in catalogs.values()))
    assert union, "no named statements found"
    return {d: sorted(union - c.names()) for d, c in catalogs.items() if union - c.names()}


def test_every_dialect_names_every_statement() -> None:
    assert _missing({d: load_catalog(d) for d in resources.DIALECT_FOLDERS}) == {}


def test_a_dialect_lacking_a_statement_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above still fails when a statement exists only in some dialects' folders
    (the common catalogue gives every dialect its statements, the dialect-only files do not)."""
    block = "-- name: {}\n-- d\nSELECT 1;\n"
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "c.sql").write_text(block.format("shared"))
    for dialect in ("mysql", "sqlite"):
        (tmp_path / dialect).mkdir()
        (tmp_path / dialect / "x.sql").write_text(block.format("only_x"))
    monkeypatch.setattr(resources, "data_root", lambda kind: tmp_path)
    load = load_catalog.__wrapped__
    catalogs = {d: load(d) for d in ("mysql", "mariadb", "sqlite", "postgresql")}
    # MariaDB has mysql's; PostgreSQL has only the common one.
    assert _missing(catalogs) == {"postgresql": ["only_x"]}


def test_statements_resolve_dialect_then_parent_then_common() -> None:
    assert statement_folders("mariadb") == ("mariadb", "mysql", "common")
    assert statement_folders("postgresql") == ("postgresql", "common")
    mariadb = load_catalog("mariadb")
    assert mariadb["id_next_sequence"].source.startswith("mariadb/ids.sql:")
    assert mariadb["clock_now"].source.startswith("mysql/clock.sql:")
    assert mariadb["node_heartbeat"].source.startswith("common/cluster.sql:")
    assert mariadb["node_heartbeat"].dialect == "mariadb"
    assert load_catalog("oracle")["partition_reassign"].source.startswith("oracle/cluster.sql:")


def _folder_statements(dialect: str, folder: str) -> dict[str, tuple[str, ...]]:
    """The statements of one folder as ``dialect`` fills them."""
    result = {}
    for filename in resources.list_files("dialects", folder):
        text = resources.read_text("dialects", folder, filename)
        for s in parse_statements(text, dialect=dialect, filename=filename, folder=folder):
            result[s.name] = fill_fragments(s, VENDORS[dialect]).sql
    return result


@pytest.mark.parametrize("dialect", resources.DIALECT_FOLDERS)
def test_a_dialect_folder_holds_only_what_differs(dialect: str) -> None:
    """A dialect's statement that the next folder (its parent's, or the common one) also has
    must really differ from it: an identical copy belongs in one place."""
    folders = statement_folders(dialect)
    for i, folder in enumerate(folders[:-1]):
        later = [_folder_statements(dialect, f) for f in folders[i + 1 :]]
        for name, sql in _folder_statements(dialect, folder).items():
            replaced = next((f[name] for f in later if name in f), None)
            assert replaced != sql, f"{folder}: {name} is the same as what it replaces"


@pytest.mark.parametrize("dialect", resources.DIALECT_FOLDERS)
def test_every_fragment_is_filled(dialect: str) -> None:
    for statement in load_catalog(dialect).statements.values():
        assert not any("{{" in sql or "}}" in sql for sql in statement.sql), statement.source


def test_table_names_take_the_dialects_spelling() -> None:
    assert "UPDATE batch_nodes SET" in load_catalog("mysql")["node_heartbeat"].sql[0]
    assert "UPDATE BATCH_NODES SET" in load_catalog("postgresql")["node_heartbeat"].sql[0]
    assert (
        load_catalog("oracle")["partition_fetch_assigned"]
        .sql[0]
        .endswith("FETCH FIRST :limit ROWS ONLY")
    )
    assert load_catalog("sqlite")["partition_fetch_assigned"].sql[0].endswith("LIMIT :limit")


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT {{nope}};", "no fragment 'nope'"),
        ("SELECT {{now(X)}};", "takes no argument"),
        ("SELECT {{age_ms}};", "needs an argument"),
        ("SELECT {{age_ms(1; DROP)}};", "is not a column, name or parameter"),
        ("SELECT 1 FROM {{table(NOT_A_TABLE)}};", "no table 'NOT_A_TABLE'"),
        ("SELECT {{ now }};", "malformed fragment"),
    ],
)
def test_bad_fragments_are_refused_with_their_place(sql: str, message: str) -> None:
    (statement,) = parse_statements(
        f"-- name: a\n-- d\n{sql}\n", dialect="sqlite", filename="x.sql", folder="common"
    )
    with pytest.raises(StatementError, match=message) as caught:
        fill_fragments(statement, VENDORS["sqlite"])
    assert "common/x.sql:1" in str(caught.value)


@pytest.mark.parametrize("dialect", resources.DIALECT_FOLDERS)
def test_statements_print_matches_the_golden_file(
    dialect: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["statements", "print", "--dialect", dialect]) == 0
    printed = capsys.readouterr().out
    golden = GOLDEN / f"statements-{dialect}.sql"
    assert printed == golden.read_text(encoding="utf-8"), (
        f"{golden.name} differs from `springbatch-py statements print --dialect {dialect}`; "
        "if the change is meant, regenerate the golden files (see this module's docstring)"
    )
    # What is printed parses back into the very statements the dialect runs.
    parsed = parse_statements(printed, dialect=dialect, filename=golden.name)
    catalog = load_catalog(dialect)
    assert {s.name: (s.sql, s.unsupported) for s in parsed} == {
        s.name: (s.sql, s.unsupported) for s in catalog.statements.values()
    }
    assert not re.search(r"\{\{", printed)


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
