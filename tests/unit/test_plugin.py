"""The engine-matrix plugin itself: skips with reasons, required engines fail, capabilities."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

UNREACHABLE_ORACLE = "oracle+oracledb://u:p@127.0.0.1:1/?service_name=none"


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("SPRINGBATCH_TEST_REQUIRE", raising=False)
    monkeypatch.delenv("SPRINGBATCH_TEST_ENGINES", raising=False)
    monkeypatch.setenv("SPRINGBATCH_TEST_ORACLE_URL", UNREACHABLE_ORACLE)
    pytester.makeconftest('pytest_plugins = ["springbatch_py.testing.plugin"]')
    pytester.makepyfile(
        test_matrix="""
import pytest

def test_engine(engine):
    assert engine in ("sqlite", "oracle")

@pytest.mark.requires("sequences")
def test_needs_sequences(database):
    assert database.dialect.sequences

@pytest.mark.engines("sqlite")
def test_only_sqlite(engine):
    assert engine == "sqlite"
"""
    )
    return pytester


def test_absent_engine_is_skipped_with_its_reason(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("--engines", "sqlite,oracle", "-rs")
    # oracle: 2 skipped (unreachable); sqlite: sequences skipped (capability), 2 passed
    result.assert_outcomes(passed=2, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "*springbatch-py engines*",
            "*sqlite * ran*",
            "*oracle * skipped*SPRINGBATCH_TEST_ORACLE_URL*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*oracle unavailable: SPRINGBATCH_TEST_ORACLE_URL*",
            "*SQLite lacks capability sequences*",
        ]
    )


def test_required_engine_that_is_absent_fails(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPRINGBATCH_TEST_REQUIRE", "sqlite,oracle")
    result = suite.runpytest_subprocess("--engines", "sqlite,oracle")
    result.assert_outcomes(passed=2, skipped=1, errors=2)
    result.stdout.fnmatch_lines(["*required by SPRINGBATCH_TEST_REQUIRE*"])


def test_unknown_engine_names_are_usage_errors(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = suite.runpytest_subprocess("--engines", "sqlite,db2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown engine(s) db2*"])
    monkeypatch.setenv("SPRINGBATCH_TEST_REQUIRE", "postgresql")
    result = suite.runpytest_subprocess("--engines", "sqlite")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.re_match_lines([r".*requires \['postgresql'\], excluded by --engines"])


def test_parallel_run_prints_one_summary_of_every_worker(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-n", "2", "--engines", "sqlite,oracle", "-rs")
    result.assert_outcomes(passed=2, skipped=3)
    # Counted over both workers, whichever ran what: sqlite ran 3 (one then skipped for a
    # capability), oracle skipped 2.
    result.stdout.fnmatch_lines(
        [
            "*springbatch-py engines*",
            "*sqlite * ran    3 test(s) on*",
            "*oracle * skipped    2: SPRINGBATCH_TEST_ORACLE_URL*",
        ]
    )
    result.stdout.fnmatch_lines(["*oracle unavailable: SPRINGBATCH_TEST_ORACLE_URL*"])


def test_required_engine_that_is_absent_fails_in_a_parallel_run(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPRINGBATCH_TEST_REQUIRE", "sqlite,oracle")
    result = suite.runpytest_subprocess("-n", "2", "--engines", "sqlite,oracle")
    result.assert_outcomes(passed=2, skipped=1, errors=2)
    result.stdout.fnmatch_lines(["*required by SPRINGBATCH_TEST_REQUIRE*", "*(REQUIRED)*"])


def test_memory_store_tests_run_on_the_in_memory_store_too(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        test_store="""
import pytest

pytestmark = pytest.mark.memory_store

def test_store(engine):
    assert engine in ("sqlite", "memory")

@pytest.mark.requires("sql")
def test_own_sql(engine):
    assert engine == "sqlite"

@pytest.mark.requires("millisecond_clock")
def test_ages(engine):
    pass
"""
    )
    result = suite.runpytest_subprocess("test_store.py", "--engines", "sqlite,memory", "-rs")
    result.assert_outcomes(passed=5, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*memory * ran    2 test(s) on the in-memory cluster store*",
            "*the in-memory cluster store lacks capability sql*",
        ]
    )
    # Only marked tests run there; --engines leaves it out like any engine.
    result = suite.runpytest_subprocess("test_matrix.py", "--engines", "sqlite,memory")
    result.assert_outcomes(passed=2, skipped=1)
    result = suite.runpytest_subprocess("test_store.py", "--engines", "sqlite")
    result.assert_outcomes(passed=3)
