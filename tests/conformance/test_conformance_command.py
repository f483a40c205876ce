"""``springbatch-py conformance``: the shipped suite against a user's server, in subprocesses."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.jobs import JobRepository


def conformance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "springbatch_py", "conformance", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _snapshot(url: str) -> list[Any]:
    with Database.open(url) as db:
        repository = JobRepository(db)
        execution = repository.get_job_execution(1)
        assert execution is not None
        return [
            repository.get_job_names(),
            execution.status,
            execution.version,
            execution.last_updated,
            [s.version for s in execution.step_executions],
        ]


def test_the_suite_passes_and_leaves_existing_tables_alone(database_url: str) -> None:
    with Database.open(database_url, must_exist=False) as db:
        create_schema(db)
        repository = JobRepository(db)
        execution = repository.create_job_execution("existing", {"day": "monday"})
        step = execution.create_step_execution("existing.step")
        repository.add(step)
    before = _snapshot(database_url)

    result = conformance("--url", database_url, "--json")
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if c["outcome"] == "failed"]
    assert result.returncode == 0 and report["ok"], failed or result.stderr
    areas = {c["area"] for c in report["checks"]}
    assert {"schema", "facts", "clock", "repository", "jobs", "cluster store"} <= areas
    assert sum(c["passed"] for c in report["checks"]) >= 60
    mine = [c for c in report["checks"] if c["area"] == "your database"]
    assert [(c["name"], c["outcome"]) for c in mine] == [("Spring Batch schema", "passed")]
    assert set(report["capabilities"]) >= {"sequences", "transactional_ddl", "millisecond_clock"}
    assert _snapshot(database_url) == before


def test_a_broken_schema_fails_with_its_rows(database_url: str) -> None:
    with Database.open(database_url, must_exist=False) as db:
        create_schema(db, cluster=False)
        with db.begin() as c:
            c.execute(sa.text("ALTER TABLE BATCH_STEP_EXECUTION DROP COLUMN FILTER_COUNT"))
            c.execute(sa.text("DROP TABLE BATCH_JOB_EXECUTION_CONTEXT"))
    result = conformance("--url", database_url, "-k", "clock")
    assert result.returncode == 1, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    failing = [" ".join(r) for r in rows if "FAIL" in r]
    assert any("BATCH_STEP_EXECUTION.FILTER_COUNT" in r and "missing" in r for r in failing), (
        failing
    )
    assert any("BATCH_JOB_EXECUTION_CONTEXT" in r and "missing" in r for r in failing), failing
    assert len(failing) == 2, failing
    # The suite's own checks still ran and passed in scratch databases.
    assert any(r[:1] == ["clock"] and "pass" in r for r in rows), result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("FAILED: ")


@pytest.mark.engines("postgresql")
def test_a_user_who_may_not_create_databases_is_refused(database_url: str) -> None:
    role = f"sbpy_nc_{secrets.token_hex(4)}"
    with Database.open(database_url) as db, db.engine.connect() as c:
        c.exec_driver_sql(f"CREATE ROLE {role} LOGIN NOCREATEDB")
        c.commit()
    try:
        url = make_url(database_url).set(username=role).render_as_string(hide_password=False)
        result = conformance("--url", url)
        assert result.returncode == 2, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "cannot create a scratch database" in lines[0]
        assert "never in existing tables" in lines[0]
    finally:
        with Database.open(database_url) as db, db.engine.connect() as c:
            c.exec_driver_sql(f"DROP ROLE {role}")
            c.commit()


def test_missing_url_and_unknown_selection(database_url: str) -> None:
    result = conformance()
    assert result.returncode == 2 and "--url" in result.stderr
    with Database.open(database_url, must_exist=False):
        pass
    nothing = conformance("--url", database_url, "-k", "no_such_check_anywhere")
    assert nothing.returncode == 1
    assert "FAILED: no suite check ran" in nothing.stdout
