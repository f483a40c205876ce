"""Test configuration: the engine matrix plugin is loaded by pyproject.toml's ``addopts``
(``-p springbatch_py.testing.plugin``), for tests/ and the shipped suite alike.

The tests start about a thousand Python processes (nodes, ``launch``, the command line). Where
the environment forbids writing bytecode beside the sources (``PYTHONDONTWRITEBYTECODE``), each
of them would compile the package from source again: a quarter of a command's start-up. The
processes then get a bytecode folder of their own instead (``PYTHONPYCACHEPREFIX``, in pytest's
cache folder, kept from run to run), so the sources stay free of bytecode and a module is
compiled once, not once per process.

Under pytest-xdist the longest tests start first (:func:`pytest_collection_modifyitems`): a
minute-long test handed out last would otherwise run alone while the other workers idle.

The ``cluster`` fixture (node processes and in-process nodes on one scratch database) serves the
cluster tests and the observability tests alike.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.cluster.test_cluster import Cluster

#: Tests that take the longest, longest first (a path prefix each): they are moved to the front
#: of the collection, so pytest-xdist hands them out first and the many short tests fill the gaps
#: at the end. The fault scenarios need no entry: ``--dist loadgroup`` sends their group, the
#: largest unit of work, first anyway.
LONG_FIRST = (
    "tests/conformance/test_conformance_command.py",  # the shipped suite, once per engine
    "tests/cluster/test_worker_liveness.py",  # private servers frozen and restarted
    "tests/compat/test_contexts.py",  # 2,000 random contexts through a JVM
    "tests/cli/test_launch_signals.py",
    "tests/cluster/test_master_liveness.py",
    "tests/compat/test_mixed_cluster.py",
    "tests/cluster/",
    "tests/cli/",
    "tests/compat/",
)

_NO_BYTECODE = "PYTHONDONTWRITEBYTECODE"
_PREFIX = "PYTHONPYCACHEPREFIX"
_set: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    # Under pytest-xdist the controller does this before it starts the workers, which inherit
    # the variables (and find the prefix set, so they change nothing).
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider
    if cache is None or not os.environ.get(_NO_BYTECODE) or os.environ.get(_PREFIX):
        return
    os.environ[_PREFIX] = str(cache.mkdir("bytecode"))
    del os.environ[_NO_BYTECODE]
    _set.append(_PREFIX)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first (:data:`LONG_FIRST`), the rest in collection order. Every xdist worker
    collects the same items and sorts them the same way, as xdist requires."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        for index, prefix in enumerate(LONG_FIRST):
            if path.startswith(prefix):
                return index
        return len(LONG_FIRST)

    items.sort(key=rank)  # stable: the order within a rank is kept


@pytest.fixture
def cluster(database_url: str, tmp_path: Path) -> Iterator[Cluster]:
    """Node processes and in-process nodes on one scratch database of the engine under test,
    closed afterwards."""
    # Imported here: most tests never start a node.
    from tests.cluster.test_cluster import Cluster

    created = Cluster(database_url, tmp_path)
    try:
        yield created
    finally:
        created.close()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _set:
        _set.clear()
        os.environ.pop(_PREFIX, None)
        os.environ[_NO_BYTECODE] = "1"
