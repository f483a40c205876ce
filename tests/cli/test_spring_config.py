"""Configuration Spring users already have: JDBC URLs, ``spring.datasource.*``, ``postgres://``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from springbatch_py.cli.common import read_properties
from springbatch_py.db.database import Database, jdbc_to_url, parse_url
from springbatch_py.db.schema import create_schema
from springbatch_py.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[2]
JOBS = "tests.cli.sample_jobs:jobs"


@pytest.mark.parametrize(
    ("jdbc", "expected"),
    [
        ("jdbc:postgresql://db.example:5433/batch", "postgresql+psycopg://db.example:5433/batch"),
        ("jdbc:postgresql://h/b?user=u&password=p&ssl=true", "postgresql+psycopg://u:p@h/b"),
        ("jdbc:mariadb://h:3306/batch", "mariadb+pymysql://h:3306/batch"),
        ("jdbc:mysql://h/batch", "mysql+pymysql://h/batch"),
        ("jdbc:oracle:thin:@//h:1521/FREEPDB1", "oracle+oracledb://h:1521?service_name=FREEPDB1"),
        ("jdbc:oracle:thin:@h:1521:XE", "oracle+oracledb://h:1521/XE"),
        ("jdbc:oracle:thin:scott/tiger@h:1521/svc", "oracle+oracledb://scott:tiger@h:1521?service_name=svc"),
        ("jdbc:sqlite:/var/batch.db", "sqlite+pysqlite:////var/batch.db"),
        ("jdbc:sqlite:batch.db", "sqlite+pysqlite:///batch.db"),
        ("postgres://u:p@h/b", "postgresql+psycopg://u:p@h/b"),
    ],
)  # fmt: skip
def test_jdbc_and_postgres_urls_are_translated(jdbc: str, expected: str) -> None:
    assert parse_url(jdbc).render_as_string(hide_password=False) == expected


def test_datasource_credentials_win_and_unknown_jdbc_is_refused() -> None:
    url = jdbc_to_url("jdbc:postgresql://h/b?user=x", "batch", "p@ss:word")
    assert (url.username, url.password, url.host, url.database) == ("batch", "p@ss:word", "h", "b")
    with pytest.raises(ConfigurationError, match="unsupported JDBC URL"):
        parse_url("jdbc:db2://h:50000/b")


def test_properties_are_read_as_java_reads_them() -> None:
    text = (
        "# Spring Boot\n"
        "spring.datasource.url=jdbc\\:postgresql\\://h\\:5432/db\n"
        "spring.datasource.username : batch\n"
        "spring.datasource.password  se\\\n"
        "    cret\n"
        "! another comment\n"
    )
    assert read_properties(text) == {
        "spring.datasource.url": "jdbc:postgresql://h:5432/db",
        "spring.datasource.username": "batch",
        "spring.datasource.password": "secret",
    }


def _jdbc(url: str) -> tuple[str, str | None, str | None]:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"jdbc:sqlite:{parsed.database}", None, None
    if backend not in ("postgresql", "mariadb", "mysql"):
        pytest.skip(f"no JDBC form written for {backend} here")
    port = f":{parsed.port}" if parsed.port else ""
    jdbc = f"jdbc:{backend}://{parsed.host}{port}/{parsed.database}"
    return jdbc, parsed.username, parsed.password


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "SPRINGBATCH_URL"}
    return subprocess.run(
        [sys.executable, "-m", "springbatch_py", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(ROOT)},
    )


def test_launch_takes_the_database_from_spring_datasource(
    database_url: str, tmp_path: Path
) -> None:
    with Database.open(database_url, must_exist=False) as db:
        create_schema(db)
    jdbc, username, password = _jdbc(database_url)
    lines = [f"spring.datasource.url={jdbc.replace(':', chr(92) + ':')}"]
    if username:
        lines.append(f"spring.datasource.username={username}")
    if password:
        lines.append(f"spring.datasource.password={password}")
    lines.append("spring.batch.cluster.heartbeat-interval=1000")
    config = tmp_path / "application.properties"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    launched = _cli(
        "launch", "numbers", "--jobs", JOBS, "--config", str(config), "-p", "run=1", "--json",
        cwd=ROOT,
    )  # fmt: skip
    assert launched.returncode == 0, launched.stderr
    execution_id = json.loads(launched.stdout)["id"]
    # The same database through --url: the JDBC URL itself, with the user in its properties.
    direct = jdbc if not username else f"{jdbc}?user={username}&password={password or ''}"
    shown = _cli("execution", str(execution_id), "--url", direct, "--json", cwd=ROOT)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["status"] == "COMPLETED"
    if make_url(database_url).get_backend_name() == "postgresql":
        heroku = database_url.replace("postgresql+psycopg://", "postgres://", 1)
        assert _cli("jobs", "--url", heroku, cwd=ROOT).returncode == 0
