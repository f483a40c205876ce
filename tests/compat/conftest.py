"""Fixtures of the interoperability tests: the compiled Java harness and its services."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compat.jvm import REQUIRE_ENV, Harness, LineService, Unavailable, build, required


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this run that every pytest-xdist worker sees (each has its own basetemp
    below the run's)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def _build_shared(tmp_path_factory: pytest.TempPathFactory, *, drivers: bool) -> Harness:
    """The harness compiled once per run: the first xdist worker compiles, under a file lock;
    the others wait and reuse it. The classes need no JDBC driver to compile (the sources use
    only ``java.sql``), so a build with and one without the drivers' check share them."""
    shared = _shared_folder(tmp_path_factory)
    try:
        with (shared / "jvm.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # javac has a 600 s bound; so has the test
            return build(shared / "jvm", drivers=drivers)
    except Unavailable as exc:
        if required():
            pytest.fail(f"{exc} (required by {REQUIRE_ENV})", pytrace=False)
        pytest.skip(f"no Java harness: {exc}")


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    """The Java harness, compiled once per run; skipped (or failed under
    SPRINGBATCH_TEST_REQUIRE_JVM) when no JDK or JDBC driver is installed."""
    return _build_shared(tmp_path_factory, drivers=True)


@pytest.fixture(scope="session")
def line_harness(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    """The Java harness for the JSON-lines commands, which need a JDK but no JDBC driver."""
    return _build_shared(tmp_path_factory, drivers=False)


def _service(harness: Harness, command: str) -> Iterator[LineService]:
    service = harness.lines(command)
    try:
        yield service
    finally:
        service.close()


@pytest.fixture(scope="session")
def contexts_read(line_harness: Harness) -> Iterator[LineService]:
    """A JVM reading Base64 contexts into typed JSON."""
    yield from _service(line_harness, "contexts-read")


@pytest.fixture(scope="session")
def contexts_write(line_harness: Harness) -> Iterator[LineService]:
    """A JVM writing typed JSON maps as Base64 contexts."""
    yield from _service(line_harness, "contexts-write")


@pytest.fixture(scope="session")
def job_keys(line_harness: Harness) -> Iterator[LineService]:
    """A JVM computing JOB_KEYs (5.x and 6.0) of typed parameters."""
    yield from _service(line_harness, "job-keys")


@pytest.fixture(scope="session")
def parameter_rows(line_harness: Harness) -> Iterator[LineService]:
    """A JVM writing BATCH_JOB_EXECUTION_PARAMS values of typed parameters."""
    yield from _service(line_harness, "parameter-rows")
