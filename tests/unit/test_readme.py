"""The README's Python examples run as written (on a scratch SQLite file)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_python_examples() -> None:
    assert len(_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(_blocks())))
def test_readme_example_runs(
    index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _blocks()[index]
    url = f"sqlite:///{tmp_path / 'example.db'}"
    code = re.sub(r'"(sqlite:///[^"]+|postgresql://[^"]+)"', repr(url), code)
    assert repr(url) in code, "every README example names a database"
    exec(compile(code, f"README.md example {index + 1}", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    if "launcher.run" in code:
        assert printed.splitlines() == ["BatchStatus.FAILED", "BatchStatus.COMPLETED 100"]
