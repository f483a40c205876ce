"""The wheel carries schema/ and dialects/, and the package reads them from inside it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from springbatch_py.db import ddl, resources

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (built,) = out.glob("springbatch_py-*.whl")
    return built


def test_wheel_lists_every_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for dialect in resources.DIALECT_FOLDERS:
        for script in ddl.SCRIPTS:
            assert f"springbatch_py/_schema/{dialect}/{script}" in names
        for source in (ROOT / "dialects" / dialect).glob("*.sql"):
            assert f"springbatch_py/_dialects/{dialect}/{source.name}" in names
    assert "springbatch_py/db/schema.py" in names
    assert "springbatch_py/testing/plugin.py" in names
    assert not any(n.startswith(("tests/", "schema/", "dialects/")) for n in names)


def test_package_reads_its_data_from_the_wheel(wheel: Path) -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from springbatch_py.db import resources, ddl, statements;"
        "root = resources.data_root('schema');"
        "assert '.whl' in str(root), root;"
        "assert len(ddl.load_script('oracle', 'spring-batch-6.sql')) == 10;"
        "assert 'id_next_sequence' in statements.load_catalog('mariadb').names();"
        "print('ok', root)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(wheel)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_the_package_top_level_exports_what_a_job_needs() -> None:
    import springbatch_py

    assert sorted(springbatch_py.__all__) == sorted(["__version__", *springbatch_py._EXPORTS])
    for name in springbatch_py.__all__:
        assert getattr(springbatch_py, name) is not None, name
    assert springbatch_py.Job is __import__("springbatch_py.core.job", fromlist=["Job"]).Job
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        springbatch_py.Nope  # noqa: B018
    # Importing the package alone loads nothing else (the command line reads __version__).
    result = subprocess.run(
        [sys.executable, "-c", "import sys, springbatch_py; print('sqlalchemy' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout.strip() == "False"
