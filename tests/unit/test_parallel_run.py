"""How the suite runs in parallel: what README's test command relies on.

``--dist loadgroup`` must keep the tests of one ``xdist_group`` on one worker: the fault
scenarios run one at a time on that promise. pytest 9.2 broke it without a word (xdist adds the
group to the node id, which pytest's structured ids no longer take: pytest-dev/pytest-xdist#1386),
so a pytest/xdist pair that stops grouping fails here instead of running the faults side by side.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]


def test_loadgroup_keeps_a_group_on_one_worker(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\n")
    pytester.makepyfile(
        test_grouped="""
import os
import pytest

@pytest.mark.xdist_group("together")
@pytest.mark.parametrize("n", range(6))
def test_grouped(n):
    with open("workers.txt", "a") as f:
        f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")

@pytest.mark.parametrize("n", range(6))
def test_free(n):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-n", "2", "--dist", "loadgroup", "-p", "xdist")
    result.assert_outcomes(passed=12)
    workers = (pytester.path / "workers.txt").read_text().split()
    assert len(workers) == 6
    assert len(set(workers)) == 1, f"one group ran on workers {sorted(set(workers))}"


def test_long_tests_are_collected_first() -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"),
            "tests/unit/test_ci_command.py",
            "tests/compat/test_contexts.py",
            "tests/conformance/test_conformance_command.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    files = [line.split("::")[0] for line in done.stdout.splitlines() if "::" in line]
    order = list(dict.fromkeys(files))
    assert order == [
        "tests/conformance/test_conformance_command.py",
        "tests/compat/test_contexts.py",
        "tests/unit/test_ci_command.py",
    ], order
