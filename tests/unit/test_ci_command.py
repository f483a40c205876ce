"""CI runs exactly the test command README gives."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Test\n", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^python -m pytest.*$", section, re.MULTILINE)
    ci = re.findall(r"^python -m pytest.*$", (ROOT / ".ci" / "run").read_text(), re.MULTILINE)
    assert documented == ci == ["python -m pytest -n 4 --dist loadgroup"]
