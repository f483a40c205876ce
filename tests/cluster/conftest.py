"""The ``cluster`` fixture of the cluster tests: node processes and in-process nodes on one
scratch database of the engine under test, closed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.test_cluster import Cluster


@pytest.fixture
def cluster(database_url: str, tmp_path: Path) -> Iterator[Cluster]:
    created = Cluster(database_url, tmp_path)
    try:
        yield created
    finally:
        created.close()
