"""The item contracts under ``mypy --strict``: a typed reader, processor and writer chain checks
cleanly, and the deliberate mismatches in ``item_chain.py`` are errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAIN = Path(__file__).with_name("item_chain.py")
_IGNORE = re.compile(r"  # type: ignore\[([a-z-]+)\]")


def _mypy(file: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    # Run from the file's folder so the project's own configuration does not apply: the
    # user's view is plain --strict, with the package found on MYPYPATH.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), str(file)],
        capture_output=True, text=True, timeout=600, check=False, cwd=file.parent,
        env={**environment, "MYPYPATH": str(ROOT)},
    )  # fmt: skip


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def test_a_typed_chain_checks_strictly(cache: Path) -> None:
    result = _mypy(CHAIN, cache)
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_deliberate_mismatch_is_an_error(tmp_path: Path, cache: Path) -> None:
    source = CHAIN.read_text()
    expected = {
        number: code
        for number, line in enumerate(source.splitlines(), start=1)
        for code in _IGNORE.findall(line)
    }
    assert len(expected) == 4
    bare = tmp_path / "item_chain.py"
    bare.write_text(_IGNORE.sub("", source))
    result = _mypy(bare, cache)
    assert result.returncode == 1, result.stdout
    found = {
        int(m["line"]): m["code"]
        for m in re.finditer(r"item_chain\.py:(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$",
                             result.stdout, re.M)
    }  # fmt: skip
    assert found == expected, result.stdout
    assert 'incompatible type "Pricing"; expected "ItemProcessor[int, str]' in result.stdout
