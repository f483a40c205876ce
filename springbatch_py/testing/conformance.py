"""Run the dialect conformance suite against one database server and report each check.

The suite (:mod:`springbatch_py.testing.suite`) never runs in the database the URL names: every
check gets a scratch database (Oracle: a scratch user) created on the same server and dropped
afterwards, so existing ``BATCH_`` tables are never written. The named database is only read:
when it holds a Spring Batch schema, that schema is verified as ``schema verify`` does and each
difference is a failed check.

Scratch names start with ``sbpy_t_`` (or the ``scratch_prefix`` asked for). Scratch databases of
that prefix that a crashed run left behind are dropped only when asked (``sweep=True``): the
server is the user's, and the run never drops what it did not create unless told to.

pytest runs the suite in this process (``pytest`` must be installed: the ``conformance`` extra).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from springbatch_py.db.database import Database
from springbatch_py.db.inventory import reflect
from springbatch_py.db.schema import verify_schema
from springbatch_py.errors import ConfigurationError, SpringBatchError
from springbatch_py.testing.engines import (
    PREFIX,
    PREFIX_ENV,
    PROVIDERS,
    SWEEP_ENV,
    env_var,
    scratch_prefix,
)
from springbatch_py.util import one_line

Outcome = Literal["passed", "failed", "skipped"]
SUITE = Path(__file__).with_name("suite")
#: The area of the checks on the database the URL names.
EXISTING = "your database"


class ConformanceRefused(SpringBatchError):
    """The suite cannot run on this server (no scratch database may be created)."""


@dataclass(frozen=True)
class Check:
    """One check of the report: a suite test with all its parameters, or a schema finding."""

    area: str
    name: str
    outcome: Outcome
    runs: int = 1
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    detail: str = ""


@dataclass
class ConformanceReport:
    """What the conformance run found."""

    server: str
    engine: str
    capabilities: dict[str, bool]
    scratch: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No check failed."""
        return all(c.outcome != "failed" for c in self.checks)

    @property
    def suite_ran(self) -> bool:
        """Some check of the suite itself ran (not only the read-only schema check)."""
        return any(c.area != EXISTING for c in self.checks)

    def count(self, outcome: Outcome) -> int:
        """Checks with ``outcome``."""
        return sum(1 for c in self.checks if c.outcome == outcome)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "server": self.server,
            "engine": self.engine,
            "scratch": self.scratch,
            "capabilities": self.capabilities,
            "ok": self.ok,
            "checks": [asdict(c) for c in self.checks],
        }


def run_conformance(
    url: str,
    *,
    select: str | None = None,
    prefix: str = PREFIX,
    sweep: bool = False,
) -> ConformanceReport:
    """Verify the schema ``url`` holds (read only) and run the suite in scratch databases on
    its server; ``select`` is a pytest ``-k`` expression choosing suite checks, ``prefix`` the
    start of scratch names, ``sweep`` drops that prefix's scratch databases older than six hours
    (left by crashed runs) first."""
    try:
        import pytest
    except ImportError:
        raise ConfigurationError(
            "the conformance suite runs on pytest: pip install 'springbatch-py[conformance]'"
        ) from None
    with Database.open(url) as db:
        engine = db.dialect.name
        server = db.describe()
        capabilities = db.dialect.capabilities()
        schema_checks = _existing_schema(db)
    if engine not in PROVIDERS:
        raise ConfigurationError(f"no conformance provider for the {engine} dialect")
    with _server_for(engine, url, prefix, sweep):
        scratch = _check_scratch(engine, server)
        collector = _Collector()
        args = [
            "--pyargs",
            "springbatch_py.testing.suite",
            "-p",
            "springbatch_py.testing.plugin",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:terminal",
            f"--engines={engine}",
            "-c",
            os.devnull,
            f"--rootdir={SUITE}",
            "-W",
            "ignore::DeprecationWarning",
        ]
        if select:
            args += ["-k", select]
        code = pytest.main(args, plugins=[collector])
    report = ConformanceReport(server, engine, capabilities, scratch, schema_checks)
    report.checks.extend(collector.checks())
    if code not in (0, 1, 5) and not collector.results:
        report.checks.append(
            Check(
                "suite", "run the suite", "failed", detail=f"pytest stopped with exit code {code}"
            )
        )
    return report


def _existing_schema(db: Database) -> list[Check]:
    """The schema of the named database, verified without writing anything."""
    with db.connect() as connection:
        inventory = reflect(connection, db.dialect)
    if inventory.is_empty():
        return [
            Check(
                EXISTING,
                "Spring Batch schema",
                "skipped",
                skipped=1,
                detail="no BATCH_ tables here: nothing to verify",
            )
        ]
    report = verify_schema(db)
    if report.ok:
        return [
            Check(
                EXISTING,
                "Spring Batch schema",
                "passed",
                passed=1,
                detail=f"Spring Batch {report.major}, cluster tables {report.cluster}: matches",
            )
        ]
    return [
        Check(
            EXISTING,
            f"{f.kind} {f.name}",
            "failed",
            failed=1,
            detail=f"{f.problem}{': ' + f.detail if f.detail else ''}",
        )
        for f in report.findings
    ]


@contextlib.contextmanager
def _server_for(engine: str, url: str, prefix: str, sweep: bool) -> Iterator[None]:
    """Point the engine matrix at this server only, for the run, with this scratch prefix and
    sweeping as asked."""
    names = {
        env_var(engine): url,
        "SPRINGBATCH_TEST_REQUIRE": engine,
        PREFIX_ENV: prefix,
        SWEEP_ENV: "1" if sweep else "0",
    }
    if engine == "sqlite":
        del names[env_var(engine)]
    saved = {n: os.environ.get(n) for n in names}
    os.environ.update(names)
    try:
        try:
            scratch_prefix()
        except ValueError as exc:
            raise ConfigurationError(f"--scratch-prefix: {exc}") from None
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _check_scratch(engine: str, server: str) -> str:
    """Create and drop one scratch database first, to refuse early and clearly."""
    provider = PROVIDERS[engine]()
    try:
        if not provider.probe():
            raise ConformanceRefused(f"cannot run the suite on {server}: {provider.reason}")
        try:
            provider.create().drop()
        except Exception as exc:
            what = "user" if engine == "oracle" else "database"
            raise ConformanceRefused(
                f"cannot create a scratch {what} on {server} ({one_line(exc)}); the suite runs "
                f"only in scratch {what}s it creates and drops, never in existing tables: use a "
                f"URL whose user may create one"
            ) from None
    finally:
        provider.close()
    if engine == "sqlite":
        return "scratch database files in a temporary folder"
    kind = "users (schemas)" if engine == "oracle" else "databases"
    return f"scratch {kind} {scratch_prefix()}* created and dropped on the same server"


class _Collector:
    """A pytest plugin that records each test's outcome."""

    def __init__(self) -> None:
        self.results: dict[str, tuple[Outcome, str]] = {}
        self.order: list[str] = []

    def _record(self, nodeid: str, outcome: Outcome, detail: str) -> None:
        if nodeid not in self.results:
            self.order.append(nodeid)
        previous = self.results.get(nodeid)
        if previous is not None and previous[0] == "failed":
            return  # a failure in call is not undone by a passing teardown
        if previous is not None and outcome == "passed":
            return
        self.results[nodeid] = (outcome, detail)

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:
            self._record(report.nodeid, "failed", _failure_text(report))
        elif report.skipped:
            self._record(report.nodeid, "skipped", _skip_reason(report))
        elif report.when == "call":
            self._record(report.nodeid, "passed", "")

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self._record(report.nodeid or "collection", "failed", _failure_text(report))

    def checks(self) -> list[Check]:
        """Results grouped per test function (its parameters folded together)."""
        grouped: dict[tuple[str, str], list[tuple[Outcome, str]]] = {}
        for nodeid in self.order:
            grouped.setdefault(_area_and_name(nodeid), []).append(self.results[nodeid])
        checks = []
        for (area, name), outcomes in grouped.items():
            passed = sum(1 for o, _ in outcomes if o == "passed")
            failed = [d for o, d in outcomes if o == "failed"]
            skipped = [d for o, d in outcomes if o == "skipped"]
            outcome: Outcome = "failed" if failed else "passed" if passed else "skipped"
            detail = failed[0] if failed else skipped[0] if skipped and not passed else ""
            checks.append(
                Check(
                    area,
                    name,
                    outcome,
                    runs=len(outcomes),
                    passed=passed,
                    failed=len(failed),
                    skipped=len(skipped),
                    detail=detail,
                )
            )
        return checks


def _area_and_name(nodeid: str) -> tuple[str, str]:
    path, _, test = nodeid.partition("::")
    module = Path(path).stem.removeprefix("test_") or "suite"
    name = test.split("[", 1)[0] or path
    return module.replace("_", " "), name.removeprefix("test_").replace("_", " ")


def _skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure_text(report: Any) -> str:
    text = str(getattr(report, "longreprtext", "") or report.longrepr or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E ")]
    chosen = errors[0][1:].strip() if errors else (lines[-1] if lines else "failed")
    return chosen[:300]
