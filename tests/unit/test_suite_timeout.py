"""A test that hangs fails the run with a stack dump instead of blocking it (pyproject.toml's
pytest-timeout and faulthandler settings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HANGING = """
import threading


def test_hangs():
    threading.Event().wait()


def test_after_it_runs():
    assert True
"""


def test_every_test_has_a_timeout(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.hasplugin("timeout")
    assert float(pytestconfig.getini("timeout")) > 0
    assert pytestconfig.getini("timeout_method") == "signal"
    assert (
        0
        < float(pytestconfig.getini("faulthandler_timeout"))
        < float(pytestconfig.getini("timeout"))
    )


def test_a_hanging_test_fails_with_its_stack_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "test_hang.py").write_text(HANGING)
    # The project's settings, with the bounds shortened for this check.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:cacheprovider",
            "-o",
            "timeout=3",
            "-o",
            "faulthandler_timeout=2",
            str(tmp_path / "test_hang.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Timeout (>3.0s) from pytest-timeout" in output
    assert "test_hang.py" in output and "in test_hangs" in output  # the stack dump
    assert "1 failed, 1 passed" in output
