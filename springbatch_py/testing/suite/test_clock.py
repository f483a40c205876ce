"""Session time zone and the database clock, on every live engine and in non-UTC zones.

The cluster library measures liveness as "database now minus a stored timestamp". That only
works when the times a node writes and the database clock agree on one zone: these tests write
times (bound a few seconds in the past in the configured zone, or the statements' own clock) and
read their ages back with the cluster's own statements, as a node runs them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from springbatch_py.cluster.store import SqlClusterStore
from springbatch_py.db import model
from springbatch_py.db.database import Database, database_now
from springbatch_py.db.schema import create_schema, require_cluster_schema, verify_schema
from springbatch_py.db.settings import DatabaseSettings
from springbatch_py.errors import ConfigurationError

ZONES = ["UTC", "Asia/Tokyo", "America/New_York"]


@pytest.fixture(params=ZONES)
def zoned(request: pytest.FixtureRequest, database_url: str) -> Iterator[Database]:
    zone: str = request.param
    try:
        db = Database.open(database_url, DatabaseSettings(time_zone=zone))
    except ConfigurationError as exc:
        # MySQL and MariaDB need their time-zone tables for named zones; say so clearly.
        assert "time-zone tables" in str(exc), exc
        pytest.skip(f"server has no time-zone tables for {zone}: {exc}")
    try:
        yield db
    finally:
        db.close()


def test_database_clock_reads_in_the_configured_zone(zoned: Database) -> None:
    with zoned.connect() as connection:
        now = database_now(zoned, connection)
    expected = datetime.now(zoned.settings.zone).replace(tzinfo=None)
    assert abs(now - expected) < timedelta(seconds=5), (now, expected)


def test_session_zone_is_set(zoned: Database) -> None:
    statement = zoned.statements["clock_session_zone"]
    if not statement.supported:
        pytest.skip(f"{zoned.dialect.product}: {statement.unsupported}")
    with zoned.connect() as connection:
        reported = str(statement.run(connection).scalar())
    zone = zoned.settings.time_zone
    assert reported in ({zone, "+00:00", "Etc/UTC", "UTC"} if zone == "UTC" else {zone})


def test_age_of_a_bound_time_matches_the_database_clock(zoned: Database) -> None:
    create_schema(zoned, major=6)
    dialect = zoned.dialect
    nodes = dialect.table_name("BATCH_NODES", "cluster")
    with zoned.begin() as connection:
        past = database_now(zoned, connection) - timedelta(seconds=5)
        connection.execute(
            sa.text(
                f"INSERT INTO {nodes} (NODE_ID, CREATED_TIME, LAST_UPDATED_TIME, STATUS, "
                "CURRENT_LOAD) VALUES ('n1', :t, :t, 'ACTIVE', 0)"
            ),
            {"t": dialect.bind_timestamp(past)},
        )
    (row,) = SqlClusterStore(zoned).all_nodes()  # node_list_all: the age the sweeps compare
    tolerance = 500 if dialect.millisecond_clock else 1500
    assert abs(row.heartbeat_age_ms - 5000) <= tolerance, row


def test_cluster_statements_write_and_age_on_one_clock(zoned: Database) -> None:
    """The time the cluster's statements write (node_register, node_heartbeat) and the age they
    measure (node_list_all) are on one clock, in every session zone: a node that has just
    heartbeated is not old."""
    create_schema(zoned, major=6)
    store = SqlClusterStore(zoned)
    store.register_node("n1", "host")
    assert store.heartbeat("n1", 0)
    (row,) = store.all_nodes()
    assert 0 <= row.heartbeat_age_ms < 5000, row


# Oracle's statements write SYSTIMESTAMP, the server's zone, as the Java library does.
@pytest.mark.engines("sqlite", "postgresql", "mariadb", "mysql")
def test_cluster_statements_write_the_session_clock(zoned: Database) -> None:
    """The heartbeat time the cluster's statements write reads back as the database clock of the
    configured zone (the clock_now statement)."""
    create_schema(zoned, major=6)
    store = SqlClusterStore(zoned)
    store.register_node("n1", "host")
    with zoned.connect() as connection:
        now = database_now(zoned, connection)
    (row,) = store.all_nodes()
    assert row.last_updated_time is not None
    assert abs(now - row.last_updated_time) < timedelta(seconds=5), (row, now)


def test_named_zone_error_is_one_clear_line(engine: str, database_url: str) -> None:
    """A zone the server cannot use is refused when connecting, naming the zone."""
    settings = DatabaseSettings(time_zone="Asia/Kathmandu")
    try:
        db = Database.open(database_url, settings)
    except ConfigurationError as exc:
        assert "Asia/Kathmandu" in str(exc) and "\n" not in str(exc)
        return
    with db, db.connect() as connection:
        now = database_now(db, connection)
    expected = datetime.now(ZoneInfo("Asia/Kathmandu")).replace(tzinfo=None)
    assert abs(now - expected) < timedelta(seconds=5)


def _two_heartbeats_250_ms_apart(db: Database) -> tuple[float, float]:
    """Two node rows whose heartbeats are 250 ms apart; their ages, read by the cluster's own
    statement (one statement, so one reading of the database clock)."""
    nodes = db.dialect.table_name("BATCH_NODES", "cluster")
    with db.begin() as connection:
        now = database_now(db, connection)
        base = (now - timedelta(seconds=3)).replace(microsecond=0) + timedelta(milliseconds=600)
        for node_id, when in (("older", base), ("newer", base + timedelta(milliseconds=250))):
            connection.execute(
                sa.text(
                    f"INSERT INTO {nodes} (NODE_ID, CREATED_TIME, LAST_UPDATED_TIME, STATUS, "
                    "CURRENT_LOAD) VALUES (:node_id, :t, :t, 'ACTIVE', 0)"
                ),
                {"node_id": node_id, "t": db.dialect.bind_timestamp(when)},
            )
    ages = {row.node_id: row.heartbeat_age_ms for row in SqlClusterStore(db).all_nodes()}
    return ages["older"], ages["newer"]


@pytest.mark.engines("sqlite", "postgresql", "mariadb", "mysql")  # Oracle's ages: whole seconds
def test_heartbeat_ages_resolve_milliseconds_with_the_project_ddl(database: Database) -> None:
    """With this project's cluster DDL the ages the sweeps compare have sub-second precision
    (on MySQL/MariaDB: TIMESTAMP(3) columns, TIMESTAMPDIFF in microseconds), so short liveness
    thresholds do not evict live nodes."""
    assert database.dialect.millisecond_clock
    create_schema(database, major=6)
    older, newer = _two_heartbeats_250_ms_apart(database)
    assert abs((older - newer) - 250) <= 1, (older, newer)
    assert 2000 < older < 60_000, older  # plausible: about 3 s, plus a loaded machine's delay


def _coarsen_cluster_columns(db: Database) -> list[str]:
    """Give the cluster tables the cluster library's coarser column types (its DDL); the
    columns changed, as ``table.column``."""
    dialect, changed = db.dialect, []
    with db.begin() as connection:
        for table in model.CLUSTER_TABLES:
            name = dialect.table_name(table.name, table.family)
            for column in table.columns:
                coarse = dialect.coarse_column_type(column.type_for(dialect.name), table.family)
                if coarse is None:
                    continue
                null = "NULL" if column.nullable else "NOT NULL"
                connection.execute(
                    sa.text(f"ALTER TABLE {name} MODIFY {column.name} {coarse} {null}")
                )
                changed.append(f"{name}.{column.name}")
    return changed


def test_verify_warns_about_whole_second_cluster_columns(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """The cluster library's DDL (TIMESTAMP of whole seconds on MySQL/MariaDB) still works:
    ``schema verify`` passes with a warning per column, a node warns when it starts, and the
    ages are then whole seconds."""
    create_schema(database, major=6)
    assert verify_schema(database).warnings == []
    changed = _coarsen_cluster_columns(database)
    if not changed:
        pytest.skip(f"{database.dialect.product}: no coarser cluster column type is known")
    report = verify_schema(database)
    assert report.ok, report.findings
    assert sorted(w.name for w in report.warnings) == sorted(changed)
    assert all("whole seconds" in w.detail for w in report.warnings)
    with caplog.at_level(logging.WARNING, logger="springbatch_py.db.schema"):
        require_cluster_schema(database)
    assert "whole seconds" in caplog.text and "unreachable-node-threshold" in caplog.text
    older, newer = _two_heartbeats_250_ms_apart(database)
    assert (older - newer) % 1000 == 0, (older, newer)  # no fraction survives
