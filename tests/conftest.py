"""Test configuration: the engine matrix plugin is loaded by pyproject.toml's ``addopts``
(``-p springbatch_py.testing.plugin``), for tests/ and the shipped suite alike.

The tests start about a thousand Python processes (nodes, ``launch``, the command line). Where
the environment forbids writing bytecode beside the sources (``PYTHONDONTWRITEBYTECODE``), each
of them would compile the package from source again: a quarter of a command's start-up. The
processes then get a bytecode folder of their own instead (``PYTHONPYCACHEPREFIX``, in pytest's
cache folder, kept from run to run), so the sources stay free of bytecode and a module is
compiled once, not once per process.
"""

from __future__ import annotations

import os

import pytest

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


def pytest_unconfigure(config: pytest.Config) -> None:
    if _set:
        _set.clear()
        os.environ.pop(_PREFIX, None)
        os.environ[_NO_BYTECODE] = "1"
