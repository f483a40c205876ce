"""The schema command line, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from springbatch_py.db.database import Database
from springbatch_py.db.inventory import reflect
from springbatch_py.testing.plugin import provider

SCRIPT = Path(sys.executable).with_name("springbatch-py")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "springbatch_py", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("springbatch-py: error: ")
    assert text in lines[0], lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("major", ["5", "6"])
def test_create_then_verify_exit_zero(database_url: str, major: str) -> None:
    created = run("schema", "create", "--url", database_url, "--spring-batch", major)
    assert created.returncode == 0, created.stderr
    assert f"Spring Batch {major} schema" in created.stdout
    verified = run("schema", "verify", "--url", database_url)
    assert verified.returncode == 0, verified.stdout
    assert "the schema matches" in verified.stdout
    again = run("schema", "create", "--url", database_url)
    assert again.returncode == 0 and "0 created" in again.stdout


def test_console_script_is_installed(database_url: str) -> None:
    result = subprocess.run(
        [str(SCRIPT), "schema", "create", "--url", database_url, "--no-cluster", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["major"] == 6
    assert {a["status"] for a in report["actions"]} == {"created"}


def test_verify_lists_differences_and_exits_one(database_url: str) -> None:
    assert run("schema", "create", "--url", database_url).returncode == 0
    with Database.open(database_url) as db, db.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE BATCH_JOB_EXECUTION DROP COLUMN EXIT_MESSAGE")
    result = run("schema", "verify", "--url", database_url)
    assert result.returncode == 1
    assert "MISSING   column" in result.stdout
    assert "BATCH_JOB_EXECUTION.EXIT_MESSAGE" in result.stdout.upper()
    assert "FAILED: 1 difference(s)" in result.stdout
    as_json = json.loads(run("schema", "verify", "--url", database_url, "--json").stdout)
    assert as_json["ok"] is False and len(as_json["findings"]) == 1


def test_other_major_refused_with_exit_two_and_nothing_written(database_url: str) -> None:
    assert (
        run(
            "schema", "create", "--url", database_url, "--spring-batch", "5", "--no-cluster"
        ).returncode
        == 0
    )
    with Database.open(database_url) as db, db.connect() as connection:
        before = sorted(reflect(connection, db.dialect).tables)
    result = run("schema", "create", "--url", database_url, "--spring-batch", "6")
    assert_one_line_error(result, 2, "holds a Spring Batch 5 schema")
    with Database.open(database_url) as db, db.connect() as connection:
        assert sorted(reflect(connection, db.dialect).tables) == before


def test_drop_needs_yes_then_drops(database_url: str) -> None:
    assert run("schema", "create", "--url", database_url).returncode == 0
    assert_one_line_error(run("schema", "drop", "--url", database_url), 2, "pass --yes")
    result = run("schema", "drop", "--url", database_url, "--yes")
    assert result.returncode == 0, result.stderr
    assert "13 dropped" in result.stdout  # 6 tables, 3 generators, 4 cluster tables
    verified = run("schema", "verify", "--url", database_url)
    assert verified.returncode == 1 and "MISSING   schema" in verified.stdout


@pytest.mark.parametrize(
    ("url", "code", "text"),
    [
        ("nonsense", 2, "invalid database URL 'nonsense'"),
        ("mssql+pyodbc://u@h/db", 2, "unsupported database 'mssql'"),
        ("postgresql://postgres:secret@127.0.0.1:1/nowhere", 1, "cannot connect to"),
        ("mysql://root@127.0.0.1:1/nowhere", 1, "cannot connect to"),
    ],
)
def test_bad_or_unreachable_url_is_one_line(url: str, code: int, text: str) -> None:
    result = run("schema", "verify", "--url", url)
    assert_one_line_error(result, code, text)
    assert "secret" not in result.stderr


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    assert_one_line_error(
        run("schema", "verify", "--url", f"sqlite:///{path}"), 1, "does not exist"
    )
    assert not path.exists()
    assert_one_line_error(
        run("schema", "create", "--url", f"sqlite:///{tmp_path}/no/x.db"), 1, "does not exist"
    )


def test_no_url_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPRINGBATCH_URL", raising=False)
    assert_one_line_error(run("schema", "verify"), 2, "no database URL")


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "mariadb", "oracle", "sqlite"])
@pytest.mark.parametrize("major", ["5", "6"])
def test_print_gives_the_ddl(dialect: str, major: str) -> None:
    result = run("schema", "print", "--dialect", dialect, "--spring-batch", major)
    assert result.returncode == 0, result.stderr
    marker = "BATCH_JOB_SEQ" if major == "5" else "BATCH_JOB_INSTANCE_SEQ"
    assert (
        f"CREATE {'SEQUENCE' if dialect in ('postgresql', 'oracle', 'mariadb') else 'TABLE'} "
        f"{marker}" in result.stdout
    )
    assert ("batch_nodes" if dialect in ("mysql", "mariadb") else "BATCH_NODES") in result.stdout
    no_cluster = run("schema", "print", "--dialect", dialect, "--no-cluster")
    assert "BATCH_NODES" not in no_cluster.stdout.upper()


def test_print_mariadb_with_table_generators() -> None:
    result = run("schema", "print", "--dialect", "mariadb", "--id-generators", "table")
    assert "CREATE SEQUENCE" not in result.stdout
    assert "CREATE TABLE BATCH_JOB_INSTANCE_SEQ" in result.stdout
    assert_one_line_error(
        run("schema", "print", "--dialect", "postgresql", "--id-generators", "table"),
        2,
        "postgresql generators can only be sequences",
    )


def test_statements_print_gives_every_named_statement() -> None:
    result = run("statements", "print", "--dialect", "oracle")
    assert result.returncode == 0, result.stderr
    assert "-- name: partition_fetch_assigned" in result.stdout
    assert "FETCH FIRST :limit ROWS ONLY;" in result.stdout
    assert "{{" not in result.stdout
    assert_one_line_error(run("statements", "print", "--dialect", "db2"), 2, "invalid choice")


# -- missing privileges: one clear line, nothing written -------------------------------------


@pytest.fixture
def limited_url(engine: str, database_url: str) -> Iterator[str]:
    """A URL for a login that may connect but not create tables."""
    found = provider(engine)
    name = f"sbpy_ro_{secrets.token_hex(4)}"
    url = make_url(database_url)
    if engine == "postgresql":
        # PostgreSQL 15 lets only the owner create in the public schema.
        with found.admin() as admin:  # type: ignore[attr-defined]
            admin.exec_driver_sql(f"CREATE ROLE {name} LOGIN")
        try:
            yield url.set(username=name, password=None).render_as_string(hide_password=False)
        finally:
            with found.admin() as admin:  # type: ignore[attr-defined]
                admin.exec_driver_sql(f"DROP ROLE IF EXISTS {name}")
    elif engine in ("mariadb", "mysql"):
        host = url.host or "127.0.0.1"
        with found.admin() as admin:  # type: ignore[attr-defined]
            admin.exec_driver_sql(f"CREATE USER '{name}'@'{host}' IDENTIFIED BY 'pw'")
            admin.exec_driver_sql(f"GRANT SELECT ON `{url.database}`.* TO '{name}'@'{host}'")
        try:
            yield url.set(username=name, password="pw").render_as_string(hide_password=False)
        finally:
            with found.admin() as admin:  # type: ignore[attr-defined]
                admin.exec_driver_sql(f"DROP USER IF EXISTS '{name}'@'{host}'")
    else:
        pytest.skip(f"{engine}: no separate logins to test privileges with")


def test_missing_privileges_give_one_line_and_write_nothing(
    limited_url: str, database_url: str
) -> None:
    result = run("schema", "create", "--url", limited_url)
    assert_one_line_error(result, 1, "failed")
    assert any(word in result.stderr.lower() for word in ("permission denied", "command denied"))
    engine = sa.create_engine(make_url(database_url))
    try:
        with engine.connect() as connection:
            tables = [
                t
                for t in sa.inspect(connection).get_table_names()
                if t.upper().startswith("BATCH_")
            ]
    finally:
        engine.dispose()
    assert tables == []
