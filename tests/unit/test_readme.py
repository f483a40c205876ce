"""The README's examples run as written (on a scratch SQLite file).

Python blocks run in this process; a block that starts with ``# file: NAME.py`` is a module that
the README's command-line example uses: it is saved under that name and the commands of the
README's shell block that mention it run against it as subprocesses.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
MODULE = re.compile(r"# file: (\w+)\.py\n")


def _text() -> str:
    return README.read_text(encoding="utf-8")


def _fenced() -> list[tuple[str, str]]:
    """Every fenced block as (language, text), in order."""
    return re.findall(r"^```(\w*)\n(.*?)^```$", _text(), re.S | re.M)


def _blocks() -> list[str]:
    return [text for language, text in _fenced() if language == "python"]


def _scripts() -> list[str]:
    return [b for b in _blocks() if not MODULE.match(b)]


def _modules() -> dict[str, str]:
    return {m.group(1): b for b in _blocks() if (m := MODULE.match(b))}


def test_readme_has_python_examples() -> None:
    assert len(_scripts()) >= 2
    assert "squares" in _modules()


@pytest.mark.parametrize("index", range(len(_scripts())))
def test_readme_example_runs(
    index: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _scripts()[index]
    url = f"sqlite:///{tmp_path / 'example.db'}"
    code = re.sub(r'"(sqlite:///[^"]+|postgresql://[^"]+)"', repr(url), code)
    assert repr(url) in code, "every README example names a database"
    exec(compile(code, f"README.md example {index + 1}", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    if "launcher.run" in code:
        assert printed.splitlines() == [
            "BatchStatus.FAILED",
            "BatchStatus.COMPLETED 100",
            "[50, 50]",
            "Job instance with id=1 already complete",
            "[('COMPLETED', 1), ('FAILED', 1)]",
        ]


def test_readme_job_example_imports_only_the_package_top_level() -> None:
    (job_example,) = [code for code in _scripts() if "launcher.run" in code]
    imports = re.findall(r"^(?:from|import) ([\w.]+)", job_example, re.M)
    assert set(imports) == {"springbatch_py", "sqlalchemy"}, imports


def _commands(module: str) -> list[list[str]]:
    """The README's shell lines that use ``module`` or set up the database, split into commands."""
    block = next(text for language, text in _fenced() if not language and f"{module}:" in text)
    commands = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip().rstrip("&").strip()
        for part in line.split(";"):
            words = shlex.split(part)
            if words and words[0] == "springbatch-py":
                commands.append(words[1:])
    return commands


def test_readme_command_line_example_runs(tmp_path: Path) -> None:
    (tmp_path / "squares.py").write_text(_modules()["squares"], encoding="utf-8")
    env = {**os.environ, "SPRINGBATCH_URL": f"sqlite:///{tmp_path / 'cluster.db'}"}
    env.pop("SPRING_BATCH_CLUSTER_HEARTBEAT_INTERVAL", None)

    def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "springbatch_py", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    commands = _commands("squares")
    assert [c[0] for c in commands] == [
        "schema", "node", "launch", "nodes", "executions", "partitions"
    ]  # fmt: skip
    schema, node, launch, *listings = commands
    assert cli(*schema).returncode == 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "springbatch_py", *node, "--set", "task-polling-interval=100"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        launched = cli(*launch, "--json")
        assert launched.returncode == 0, launched.stderr
        result = json.loads(launched.stdout)
        assert result["status"] == "COMPLETED", result
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    for listing in listings:
        shown = cli(*listing)
        assert shown.returncode == 0, (listing, shown.stderr)
        assert shown.stdout.strip(), listing
    partitions = cli("partitions", str(result["id"]), "--json")
    rows = json.loads(partitions.stdout)
    assert rows and {row["status"] for row in rows} == {"COMPLETED"}, rows
