"""Stale scratch databases are swept only on a server of our own, or when asked.

Each test uses a prefix of its own, so that no other run's sweep touches its databases.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from springbatch_py.testing import engines

ROOT = Path(__file__).resolve().parents[2]
LOCAL = engines.LOCAL_DEFAULTS["postgresql"]


def _admin() -> sa.Engine:
    engine = sa.create_engine(
        LOCAL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        engine.dispose()
        pytest.skip(f"needs the local PostgreSQL server {LOCAL}: {exc.orig}")
    return engine


def _exists(admin: sa.Engine, name: str) -> bool:
    with admin.connect() as c:
        query = sa.text("SELECT 1 FROM pg_database WHERE datname = :n")
        return c.execute(query, {"n": name}).first() is not None


@pytest.fixture
def stale() -> Iterator[tuple[sa.Engine, str, str]]:
    """A scratch database seven hours old, under a prefix of this test's own."""
    admin = _admin()
    prefix = f"sbpy_sw{secrets.token_hex(3)}_"
    name = f"{prefix}{int(time.time()) - 7 * 3600}_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin, prefix, name
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _probe(monkeypatch: pytest.MonkeyPatch, prefix: str, **variables: str) -> None:
    monkeypatch.setenv(engines.PREFIX_ENV, prefix)
    for name in (engines.SWEEP_ENV, engines.env_var("postgresql")):
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    provider = engines.PostgreSQLProvider()
    try:
        assert provider.probe(), provider.reason
        scratch = provider.create()
        assert scratch.name.startswith(prefix)
        scratch.drop()
    finally:
        provider.close()


def test_a_server_named_by_url_is_not_swept_unless_asked(
    stale: tuple[sa.Engine, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, prefix, name = stale
    url_var = engines.env_var("postgresql")
    _probe(monkeypatch, prefix, **{url_var: LOCAL})
    assert _exists(admin, name)
    _probe(monkeypatch, prefix, **{url_var: LOCAL, engines.SWEEP_ENV: "1"})
    assert not _exists(admin, name)


def test_the_local_default_server_is_swept_unless_turned_off(
    stale: tuple[sa.Engine, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, prefix, name = stale
    _probe(monkeypatch, prefix, **{engines.SWEEP_ENV: "0"})
    assert _exists(admin, name)
    _probe(monkeypatch, prefix)
    assert not _exists(admin, name)


def test_the_database_made_ahead_is_fresh_and_dropped_when_not_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = _admin()
    prefix = f"sbpy_ah{secrets.token_hex(3)}_"
    monkeypatch.setenv(engines.PREFIX_ENV, prefix)
    monkeypatch.setenv(engines.SWEEP_ENV, "0")
    monkeypatch.delenv(engines.env_var("postgresql"), raising=False)

    def ours() -> set[str]:
        with admin.connect() as c:
            query = sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p")
            return set(c.execute(query, {"p": prefix + "%"}).scalars())

    provider = engines.PostgreSQLProvider()
    try:
        assert provider.probe(), provider.reason
        provider.keep_one_ahead()
        first = provider.create()
        second = provider.create()  # the one made while the first was in use
        assert first.name != second.name and {first.name, second.name} <= ours()
        fresh = sa.create_engine(second.url, poolclass=sa.pool.NullPool)
        with fresh.connect() as c:  # nobody used it before
            tables = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"
            assert c.exec_driver_sql(tables).scalar() == 0
        fresh.dispose()
        first.drop()
        second.drop()
        assert provider.created == 2
    finally:
        provider.close()
    try:
        assert ours() == set()  # the third, made ahead and never taken, is gone too
    finally:
        admin.dispose()


def test_a_bad_prefix_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(engines.PREFIX_ENV, "Robert'); DROP")
    with pytest.raises(ValueError, match="scratch prefix"):
        engines.scratch_name()


def _conformance(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SPRINGBATCH_TEST_")}
    return subprocess.run(
        [sys.executable, "-m", "springbatch_py", "conformance", "--url", LOCAL, *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
        env={**environment, "PYTHONPATH": str(ROOT)},
    )


def test_conformance_sweeps_only_when_asked(stale: tuple[sa.Engine, str, str]) -> None:
    admin, prefix, name = stale
    nothing = ("-k", "no_check_has_this_name")  # the scratch check runs, the suite does not
    first = _conformance("--scratch-prefix", prefix, *nothing)
    assert f"scratch databases {prefix}*" in first.stdout, first.stdout + first.stderr
    assert _exists(admin, name)
    _conformance("--scratch-prefix", prefix, "--sweep", *nothing)
    assert not _exists(admin, name)
    refused = _conformance("--scratch-prefix", "Bad-Prefix", *nothing)
    assert refused.returncode == 2 and "--scratch-prefix" in refused.stderr, refused.stderr
