"""The dialect protocol: capabilities, fragments, type spelling and timestamp binding."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from springbatch_py.db.database import parse_url, redact
from springbatch_py.db.detect import VENDORS
from springbatch_py.db.dialect import CAPABILITIES
from springbatch_py.db.model import TIMESTAMP
from springbatch_py.db.settings import DatabaseSettings
from springbatch_py.db.statements import load_catalog
from springbatch_py.db.vendors.mysql import MariaDBDialect
from springbatch_py.db.vendors.sqlite import SQLiteDialect
from springbatch_py.errors import ConfigurationError

UTC = ZoneInfo("UTC")


def test_capabilities_are_declared_for_every_vendor() -> None:
    for cls in VENDORS.values():
        caps = cls((99,), UTC).capabilities()
        assert set(caps) == set(CAPABILITIES)
    with pytest.raises(ValueError, match="unknown capability"):
        VENDORS["sqlite"]((3, 40), UTC).supports("teleport")


def test_mariadb_capabilities_follow_the_server_version() -> None:
    assert not MariaDBDialect((10, 2, 0), UTC).sequences
    assert MariaDBDialect((10, 3, 0), UTC).sequences


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postgresql", "(EXTRACT(EPOCH FROM (CURRENT_TIMESTAMP - X)) * 1000)"),
        # The library's TIMESTAMPDIFF(SECOND, X, NOW()) * 1000 truncates to whole seconds; the
        # same age in microseconds keeps the milliseconds of TIMESTAMP(3) columns.
        ("mysql", "(TIMESTAMPDIFF(MICROSECOND, X, NOW(3)) / 1000)"),
        ("mariadb", "(TIMESTAMPDIFF(MICROSECOND, X, NOW(3)) / 1000)"),
        ("oracle", "((CAST(SYSTIMESTAMP AS DATE) - CAST(X AS DATE)) * 24 * 60 * 60 * 1000)"),
    ],
)
def test_age_expressions_are_the_java_librarys(name: str, expected: str) -> None:
    """The sweeps' statements, as loaded, measure ages with these expressions."""
    sweep = load_catalog(name)["node_mark_unreachable"].sql[0]
    age = re.sub(r"\bX\b", "LAST_UPDATED_TIME", expected)
    assert f"AND {age} >= :threshold_ms" in sweep


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("postgresql", "CURRENT_TIMESTAMP,"),
        ("mysql", "CURRENT_TIMESTAMP(3),"),
        ("mariadb", "CURRENT_TIMESTAMP(3),"),
        ("oracle", "SYSTIMESTAMP,"),
        ("sqlite", "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER),"),
    ],
)
def test_clock_expressions(name: str, expected: str) -> None:
    """The heartbeat statement, as loaded, writes this clock."""
    heartbeat = load_catalog(name)["node_heartbeat"].sql[0]
    assert f"SET LAST_UPDATED_TIME = {expected}" in heartbeat


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("postgresql", "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP"),
        ("postgresql", "TIMESTAMP(3) WITHOUT TIME ZONE", "TIMESTAMP(3)"),
        ("postgresql", "character varying(100)", "VARCHAR(100)"),
        ("mysql", "BIGINT(20)", "BIGINT"),
        ("mysql", "datetime(6)", "DATETIME(6)"),
        ("oracle", "NUMBER(19)", "NUMBER(19,0)"),
        ("oracle", "NUMBER(19, 0)", "NUMBER(19,0)"),
        ("oracle", "VARCHAR(100 char)", "VARCHAR2(100)"),
        ("oracle", "TIMESTAMP", "TIMESTAMP(6)"),
        ("sqlite", "TEXT", "CLOB"),
    ],
)
def test_type_normalization(name: str, text: str, expected: str) -> None:
    assert VENDORS[name]((99,), UTC).normalize_type(text) == expected


def test_timestamp_types_differ_between_batch_and_cluster_tables() -> None:
    mysql = VENDORS["mysql"]((8,), UTC)
    assert mysql.column_type(TIMESTAMP, "batch") == "DATETIME(6)"
    assert mysql.column_type(TIMESTAMP, "cluster") == "TIMESTAMP(3)"
    # The cluster library's DDL: whole seconds, which schema verify accepts with a warning.
    assert mysql.coarse_column_type(TIMESTAMP, "cluster") == "TIMESTAMP"
    assert mysql.coarse_column_type(TIMESTAMP, "batch") is None
    oracle = VENDORS["oracle"]((19,), UTC)
    assert oracle.column_type(TIMESTAMP, "batch") == "TIMESTAMP(9)"
    assert oracle.column_type(TIMESTAMP, "cluster") == "TIMESTAMP(6)"


def test_sqlite_stores_epoch_milliseconds_of_the_configured_zone() -> None:
    utc = SQLiteDialect((3, 40), UTC)
    assert utc.bind_timestamp(datetime(2024, 1, 31, 10, 0, 0, 123456)) == 1706695200123
    assert utc.read_timestamp(1706695200123) == datetime(2024, 1, 31, 10, 0, 0, 123000)
    berlin = SQLiteDialect((3, 40), ZoneInfo("Europe/Berlin"))
    # 11:00 in Berlin (CET) is 10:00 UTC: the same instant as above.
    assert berlin.bind_timestamp(datetime(2024, 1, 31, 11, 0)) == 1706695200000
    assert berlin.read_timestamp(1706695200000) == datetime(2024, 1, 31, 11, 0)
    assert utc.bind_timestamp(None) is None and utc.read_timestamp(None) is None
    assert utc.read_timestamp("2024-01-31 10:00:00") == datetime(2024, 1, 31, 10, 0)


def test_server_dialects_bind_naive_wall_clock_of_the_zone() -> None:
    pg = VENDORS["postgresql"]((15,), ZoneInfo("Asia/Tokyo"))
    aware = datetime(2024, 1, 31, 10, 0, tzinfo=UTC)
    assert pg.bind_timestamp(aware) == datetime(2024, 1, 31, 19, 0)
    naive = datetime(2024, 1, 31, 10, 0)
    assert pg.bind_timestamp(naive) is naive


def test_session_setup_statements() -> None:
    assert VENDORS["postgresql"].session_setup_sql(UTC) == ["SET TIME ZONE 'UTC'"]
    assert VENDORS["mysql"].session_setup_sql(UTC) == ["SET time_zone = '+00:00'"]
    assert VENDORS["mariadb"].session_setup_sql(ZoneInfo("Europe/Berlin")) == [
        "SET time_zone = 'Europe/Berlin'"
    ]
    assert VENDORS["oracle"].session_setup_sql(UTC) == ["ALTER SESSION SET TIME_ZONE = 'UTC'"]
    assert VENDORS["sqlite"].session_setup_sql(UTC) == []


def test_mysql_cluster_tables_are_lower_case() -> None:
    assert VENDORS["mysql"]((8,), UTC).table_name("BATCH_NODES", "cluster") == "batch_nodes"
    assert VENDORS["mysql"]((8,), UTC).table_name("BATCH_JOB_EXECUTION", "batch") == (
        "BATCH_JOB_EXECUTION"
    )
    assert VENDORS["postgresql"]((15,), UTC).table_name("BATCH_NODES", "cluster") == "BATCH_NODES"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("mysql://u@h/db", "mysql+pymysql://u@h/db"),
        ("mariadb://u@h/db", "mariadb+pymysql://u@h/db"),
        ("oracle://u@h/db", "oracle+oracledb://u@h/db"),
        ("sqlite:///x.db", "sqlite+pysqlite:///x.db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_urls_get_the_supported_driver(url: str, expected: str) -> None:
    assert parse_url(url).render_as_string() == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "invalid database URL"),
        ("mssql://u@h/db", "unsupported database 'mssql'"),
        ("postgresql+psycopg2://u@h/db", "driver 'psycopg2' is not supported"),
    ],
)
def test_bad_urls_are_clear_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_url(url)


def test_passwords_are_hidden_in_messages() -> None:
    assert redact("postgresql://user:s3cret@host/db") == "postgresql://user:***@host/db"
    with pytest.raises(ConfigurationError) as info:
        parse_url("postgresql+psycopg2://user:s3cret@host/db")
    assert "s3cret" not in str(info.value)


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="unknown time zone 'Mars/Olympus'"):
        DatabaseSettings(time_zone="Mars/Olympus")
