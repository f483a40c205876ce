"""pytest plugin: the engine matrix.

A test that asks for the ``engine``, ``database_url`` or ``database`` fixture runs once per
engine (sqlite, postgresql, mariadb, mysql, oracle) against a fresh scratch database that is
dropped afterwards. An engine without a server is skipped with its reason, and the summary shows
what ran where. ``SPRINGBATCH_TEST_REQUIRE=sqlite,postgresql,mariadb`` turns those skips into
failures. ``--engines=sqlite,postgresql`` (or ``SPRINGBATCH_TEST_ENGINES``) limits the matrix.

A test marked ``memory_store`` runs on one more, pseudo-engine: ``memory``, the in-memory
cluster store (:class:`springbatch_py.cluster.memory.MemoryClusterStore`). It has no database:
such a test asks for ``engine`` and builds its store itself (``database`` only on the others).
``--engines`` selects it by that name, as the others (the default runs it).

Markers:

``@pytest.mark.requires("sequences", ...)``
    skip engines whose dialect lacks a capability
    (see :data:`springbatch_py.db.dialect.CAPABILITIES`); ``"sql"`` (:data:`SQL`): the test
    runs SQL of its own, which every engine but ``memory`` has.
``@pytest.mark.engines("postgresql", ...)``
    run only on these engines.
``@pytest.mark.memory_store``
    run on the in-memory cluster store too (engine ``memory``), with the capabilities of
    :attr:`~springbatch_py.cluster.memory.MemoryClusterStore.CAPABILITIES`.

Fixtures: ``engine``, ``database_url``, ``database``, ``repository`` (a job repository on a fresh
schema of each Spring Batch major) and ``target`` (a table with a primary key for items).

Use it with ``-p springbatch_py.testing.plugin`` (or ``pytest_plugins`` in a root
``conftest.py``); the dialect conformance suite is :mod:`springbatch_py.testing.suite`.

Under pytest-xdist each worker process has its own providers (and scratch databases); each
worker sends what it found and ran to the controller, which prints one summary for the run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any, TypedDict

import pytest
import sqlalchemy as sa

from springbatch_py.cluster.memory import MemoryClusterStore
from springbatch_py.db.database import Database
from springbatch_py.db.dialect import CAPABILITIES
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.jobs import JobRepository
from springbatch_py.testing.engines import ENGINES, PROVIDERS, Provider, ServerProvider

REQUIRE_ENV = "SPRINGBATCH_TEST_REQUIRE"
#: The pseudo-engine of the in-memory cluster store (tests marked ``memory_store``).
MEMORY = "memory"
#: The capability of running SQL of one's own (statements, foreign keys, connections): every
#: engine has it but :data:`MEMORY`.
SQL = "sql"
#: Every name ``--engines`` knows.
KNOWN = (*ENGINES, MEMORY)
ENGINES_ENV = "SPRINGBATCH_TEST_ENGINES"

_SELECTED = pytest.StashKey[list[str]]()
_providers: dict[str, Provider] = {}
_ran: Counter[str] = Counter()
_skipped: Counter[str] = Counter()
#: What the xdist workers reported, per engine (on the controller).
_from_workers: dict[str, EngineReport] = {}
_WORKER_OUTPUT = "springbatch_engines"


class EngineReport(TypedDict):
    """What one process (or, merged, the whole run) found and ran on one engine."""

    available: bool
    reason: str
    source: str
    created: int
    ran: int
    skipped: int


def _names(text: str | None, what: str) -> list[str]:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    unknown = [n for n in names if n not in KNOWN]
    if unknown:
        raise pytest.UsageError(f"{what}: unknown engine(s) {', '.join(unknown)}; known: {KNOWN}")
    return names


def required_engines() -> list[str]:
    """Engines that must run (from ``SPRINGBATCH_TEST_REQUIRE``)."""
    return _names(os.environ.get(REQUIRE_ENV), REQUIRE_ENV)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("springbatch-py")
    group.addoption(
        "--engines",
        default=os.environ.get(ENGINES_ENV),
        help="comma-separated engines to run (default: all)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requires(*capabilities): needs dialect capabilities")
    config.addinivalue_line("markers", "engines(*names): run only on these engines")
    config.addinivalue_line(
        "markers", "memory_store: run on the in-memory cluster store too (engine 'memory')"
    )
    selected = _names(config.getoption("--engines"), "--engines") or list(KNOWN)
    missing = [n for n in required_engines() if n not in selected]
    if missing:
        raise pytest.UsageError(f"{REQUIRE_ENV} requires {missing}, excluded by --engines")
    config.stash[_SELECTED] = selected


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" not in metafunc.fixturenames:
        return
    selected: list[str] = metafunc.config.stash[_SELECTED]
    in_memory = metafunc.definition.get_closest_marker("memory_store") is not None
    engines = [e for e in selected if e != MEMORY or in_memory]
    marker = metafunc.definition.get_closest_marker("engines")
    if marker is not None:
        engines = [e for e in engines if e in marker.args]
        if not engines:
            only, ran = ", ".join(marker.args), ", ".join(selected)
            reason = f"runs only on {only}; this run covers {ran}"
            metafunc.parametrize(
                "engine", [pytest.param(None, marks=pytest.mark.skip(reason=reason))], ids=["-"]
            )
            return
    metafunc.parametrize("engine", engines, indirect=True, ids=engines)


def provider(name: str) -> Provider:
    """The (session-wide) provider of an engine."""
    if name not in _providers:
        created = PROVIDERS[name]()
        if isinstance(created, ServerProvider):
            # One test after another: the next scratch database is made while a test runs.
            created.keep_one_ahead()
        _providers[name] = created
    return _providers[name]


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The engine this test instance runs on; skipped (or failed) when it has no server, and
    on ``memory`` when the test requires a capability the in-memory store lacks."""
    name: str = request.param
    if name == MEMORY:
        marker = request.node.get_closest_marker("requires")
        for capability in marker.args if marker is not None else ():
            _check_known(capability)
            if capability not in MemoryClusterStore.CAPABILITIES:
                pytest.skip(f"the in-memory cluster store lacks capability {capability}")
        _ran[name] += 1
        return name
    found = provider(name)
    if not found.probe():
        _skipped[name] += 1
        message = f"{name} unavailable: {found.reason}"
        if name in required_engines():
            pytest.fail(f"{message} (required by {REQUIRE_ENV})", pytrace=False)
        pytest.skip(message)
    _ran[name] += 1
    return name


@pytest.fixture
def database_url(engine: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh scratch database on ``engine``, dropped after the test.

    Skips when the dialect lacks a capability named by ``@pytest.mark.requires``.
    """
    if engine == MEMORY:
        pytest.fail(
            "the in-memory cluster store has no database: a memory_store test asks for "
            "`database` only on the other engines",
            pytrace=False,
        )
    scratch = provider(engine).create()
    try:
        marker = request.node.get_closest_marker("requires")
        if marker is not None:
            with Database.open(scratch.url) as db:
                _require(db, marker.args)
        yield scratch.url
    finally:
        scratch.drop()


def _check_known(capability: str) -> None:
    if capability not in CAPABILITIES and capability != SQL:
        pytest.fail(f"unknown capability {capability!r}", pytrace=False)


def _require(db: Database, capabilities: tuple[str, ...]) -> None:
    for capability in capabilities:
        _check_known(capability)
        if capability == SQL:
            continue
        if not db.dialect.supports(capability):
            pytest.skip(f"{db.dialect.product} lacks capability {capability}")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """An open :class:`Database` on a fresh scratch database (capabilities checked by
    ``database_url``)."""
    db = Database.open(database_url)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture(params=[5, 6], ids=["sb5", "sb6"])
def repository(request: pytest.FixtureRequest, database: Database) -> JobRepository:
    """A job repository on a fresh Spring Batch schema (5.2 and 6.0), without cluster tables."""
    create_schema(database, major=request.param, cluster=False)
    return JobRepository(database)


@pytest.fixture
def target(database: Database) -> sa.Table:
    """A table items are written to, whose primary key proves each item is written once."""
    metadata = sa.MetaData()
    table = sa.Table(
        "target_items",
        metadata,
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("doubled", sa.BigInteger, nullable=False),
    )
    with database.begin() as connection:
        metadata.create_all(connection)
    return table


def _local_reports() -> dict[str, EngineReport]:
    reports = {
        name: EngineReport(
            available=found.available,
            reason=found.reason,
            source=found.source,
            created=found.created,
            ran=_ran[name],
            skipped=_skipped[name],
        )
        for name, found in _providers.items()
    }
    if _ran[MEMORY]:
        reports[MEMORY] = EngineReport(
            available=True, reason="", source="", created=0, ran=_ran[MEMORY], skipped=0
        )
    return reports


def _merge(into: dict[str, EngineReport], reports: dict[str, EngineReport]) -> None:
    for name, report in reports.items():
        seen = into.get(name)
        if seen is None:
            into[name] = EngineReport(**report)
            continue
        if report["available"] and not seen["available"]:
            seen["available"], seen["source"], seen["reason"] = True, report["source"], ""
        seen["created"] += report["created"]
        seen["ran"] += report["ran"]
        seen["skipped"] += report["skipped"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    output: dict[str, Any] | None = getattr(session.config, "workeroutput", None)
    if output is not None:  # an xdist worker: the controller prints the summary
        output[_WORKER_OUTPUT] = _local_reports()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist: collect a finished worker's engine report."""
    _merge(_from_workers, getattr(node, "workeroutput", {}).get(_WORKER_OUTPUT, {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    reports: dict[str, EngineReport] = {}
    _merge(reports, _local_reports())
    _merge(reports, _from_workers)
    if not reports:
        return
    write = terminalreporter.write_line
    terminalreporter.section("springbatch-py engines")
    required = required_engines()
    for name in KNOWN:
        found = reports.get(name)
        if name == MEMORY:
            if found is not None:
                write(f"  {name:<11} ran {found['ran']:>4} test(s) on the in-memory cluster store")
        elif found is None:
            write(f"  {name:<11} not requested")
        elif found["available"]:
            write(
                f"  {name:<11} ran {found['ran']:>4} test(s) on {found['created']:>4} "
                f"database(s)  {found['source']}"
            )
        else:
            flag = "  (REQUIRED)" if name in required else ""
            write(f"  {name:<11} skipped {found['skipped']:>4}: {found['reason']}{flag}")


def pytest_unconfigure(config: pytest.Config) -> None:
    for found in _providers.values():
        found.close()
    _providers.clear()
    _from_workers.clear()
