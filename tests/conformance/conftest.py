"""Fixtures shared by the conformance suite: a repository on a fresh schema of each major."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from springbatch_py.db.database import Database
from springbatch_py.db.schema import create_schema
from springbatch_py.repository.jobs import JobRepository


@pytest.fixture(params=[5, 6], ids=["sb5", "sb6"])
def repository(request: pytest.FixtureRequest, database: Database) -> JobRepository:
    """A job repository on a fresh Spring Batch schema (5.2 and 6.0)."""
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
