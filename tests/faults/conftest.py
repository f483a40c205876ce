"""Fixtures of the fault suite: one private server per engine for the whole module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.servers import ENGINES, Server, ServerUnavailable, make_server


def pytest_configure(config: pytest.Config) -> None:
    # pytest-timeout registers this marker itself; without the plugin the mark is inert.
    config.addinivalue_line("markers", "timeout(seconds): fail a test that runs longer")
    config.addinivalue_line("markers", "xdist_group(name): run on one xdist worker, in turn")


@pytest.fixture(scope="module", params=ENGINES)
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    engine: str = request.param
    selected = request.config.getoption("--engines", None)
    if selected and engine not in [e.strip() for e in selected.split(",")]:
        pytest.skip(f"{engine} is not among --engines {selected}")
    try:
        started = make_server(engine)
    except ServerUnavailable as exc:
        pytest.skip(f"no private {engine} server: {exc}")
    try:
        started.start()
        yield started
    finally:
        started.stop()
