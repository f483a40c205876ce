"""Fixtures of the interoperability tests: the compiled Java harness and its services."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.compat.jvm import REQUIRE_ENV, Harness, LineService, Unavailable, build, required


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    """The Java harness, compiled once per run; skipped (or failed under
    SPRINGBATCH_TEST_REQUIRE_JVM) when no JDK or JDBC driver is installed."""
    try:
        return build(tmp_path_factory.mktemp("jvm"))
    except Unavailable as exc:
        if required():
            pytest.fail(f"{exc} (required by {REQUIRE_ENV})", pytrace=False)
        pytest.skip(f"no Java harness: {exc}")


@pytest.fixture(scope="session")
def line_harness(tmp_path_factory: pytest.TempPathFactory) -> Harness:
    """The Java harness for the JSON-lines commands, which need a JDK but no JDBC driver."""
    try:
        return build(tmp_path_factory.mktemp("jvm-lines"), drivers=False)
    except Unavailable as exc:
        if required():
            pytest.fail(f"{exc} (required by {REQUIRE_ENV})", pytrace=False)
        pytest.skip(f"no Java harness: {exc}")


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
