"""The wheel carries schema/ and dialects/, and the package reads them from inside it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
    for folder in (*resources.DIALECT_FOLDERS, resources.COMMON_DIALECT_FOLDER):
        for source in (ROOT / "dialects" / folder).glob("*.sql"):
            assert f"springbatch_py/_dialects/{folder}/{source.name}" in names
    assert "springbatch_py/_dialects/common/cluster.sql" in names
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
        "assert 'node_heartbeat' in statements.load_catalog('mariadb').names();"
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


# -- packaging: extras, py.typed, a clean environment ------------------------------------------


def _metadata(wheel: Path) -> list[tuple[str, str]]:
    """The wheel's METADATA headers, in order."""
    archive = zipfile.ZipFile(wheel)
    (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    text = archive.read(name).decode("utf-8").split("\n\n", 1)[0]
    return [
        (key, value.strip())
        for key, _, value in (line.partition(":") for line in text.splitlines())
        if value
    ]


def test_wheel_is_typed_and_its_core_needs_only_sqlalchemy_and_typing_extensions(
    wheel: Path,
) -> None:
    assert "springbatch_py/py.typed" in zipfile.ZipFile(wheel).namelist()
    headers = _metadata(wheel)
    requires = [Requirement(value) for key, value in headers if key == "Requires-Dist"]
    core = [r for r in requires if r.marker is None]
    assert [(canonicalize_name(r.name), str(r.specifier)) for r in core] == [
        ("sqlalchemy", "<3,>=2.0"),
        ("typing-extensions", ">=4.6"),
    ]

    def extra(name: str) -> set[str]:
        return {
            r.name.lower() + (f"[{','.join(sorted(r.extras))}]" if r.extras else "")
            for r in requires
            if r.marker is not None and r.marker.evaluate({"extra": name})
        }

    extras = {value for key, value in headers if key == "Provides-Extra"}
    assert {"postgresql", "mysql", "oracle", "all", "demo", "otel", "test"} <= extras
    assert extra("postgresql") == {"psycopg"}  # the libpq choice stays the application's
    assert extra("mysql") == {"pymysql"}
    assert extra("oracle") == {"oracledb"}
    assert extra("otel") == {"opentelemetry-api"}
    assert {"psycopg", "oracledb", "rich"} <= extra("all")
    assert {"psycopg[binary]", "pymysql", "oracledb", "rich"} <= extra("test")
    urls = [value for key, value in headers if key == "Project-URL"]
    assert urls


USER_CODE = """\
from springbatch_py import (
    BatchStatus, ChunkStep, Database, IterableItemReader, Job, JobExecution, JobLauncher,
    JobRepository, ListItemWriter, create_schema,
)


def run(url: str) -> BatchStatus:
    with Database.open(url) as db:
        create_schema(db)
        writer: ListItemWriter = ListItemWriter()
        job = Job("typed", [ChunkStep("s", reader=IterableItemReader(range(3), name="r"),
                                      writer=writer, commit_interval=2)])
        execution: JobExecution = JobLauncher(JobRepository(db)).run(job, {"run": "1"})
        return execution.status


if __name__ == "__main__":
    import sys
    print(run(sys.argv[1]).name)
"""


@pytest.fixture(scope="module")
def clean_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment without the system's packages, holding the wheel (no extras) and
    SQLAlchemy's own files (linked from this environment: the test needs no network)."""
    from importlib.metadata import distribution

    root = tmp_path_factory.mktemp("clean")
    venv = root / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, timeout=300,
    )  # fmt: skip
    core = root / "core-deps"
    core.mkdir()
    for name in ("SQLAlchemy", "typing_extensions"):
        dist = distribution(name)
        for top in {str(f).split("/")[0] for f in dist.files or ()} - {"..", "__pycache__"}:
            (core / top).symlink_to(Path(str(dist.locate_file(top))))
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    Path(purelib, "core-deps.pth").write_text(f"{core}\n")
    return venv


def _in_venv(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=300, check=False, cwd=cwd,
        env={**environment, "PATH": f"{venv / 'bin'}{os.pathsep}{environment.get('PATH', '')}"},
    )  # fmt: skip


def test_the_wheel_without_extras_runs_jobs_and_names_missing_extras(
    clean_venv: Path, tmp_path: Path
) -> None:
    python = str(clean_venv / "bin" / "python")
    script = tmp_path / "user_job.py"
    script.write_text(USER_CODE)
    probe = _in_venv(
        clean_venv, python, "-c",
        "import importlib.util as u; print([m for m in ('psycopg', 'pymysql', 'oracledb', "
        "'rich', 'opentelemetry') if u.find_spec(m)])",
        cwd=tmp_path,
    )  # fmt: skip
    assert probe.stdout.strip() == "[]", probe.stdout + probe.stderr  # truly no extras
    ran = _in_venv(clean_venv, python, str(script), f"sqlite:///{tmp_path / 'u.db'}", cwd=tmp_path)
    assert ran.returncode == 0 and ran.stdout.strip() == "COMPLETED", ran.stderr
    cli = str(clean_venv / "bin" / "springbatch-py")
    for url, extra in (
        ("postgresql://batch@127.0.0.1/batch", "postgresql"),
        ("mariadb://batch@127.0.0.1/batch", "mysql"),
        ("oracle://batch:pw@127.0.0.1/?service_name=x", "oracle"),
    ):
        failed = _in_venv(clean_venv, cli, "jobs", "--url", url, cwd=tmp_path)
        assert failed.returncode == 2, failed.stderr
        assert failed.stderr.count("\n") == 1, failed.stderr
        assert f"pip install 'springbatch-py[{extra}]'" in failed.stderr
    demo = _in_venv(clean_venv, cli, "demo", cwd=tmp_path)
    assert demo.returncode == 2 and "springbatch-py[demo]" in demo.stderr, demo.stderr


def test_user_code_type_checks_strictly_against_the_installed_wheel(
    clean_venv: Path, tmp_path: Path
) -> None:
    (tmp_path / "user_job.py").write_text(USER_CODE)
    (tmp_path / "wrong.py").write_text(
        "from springbatch_py import Job, JobRepository\n\n"
        "def name(job: Job) -> int:\n    return job.name\n\n"
        "def repo() -> JobRepository:\n    return JobRepository('not a database')\n"
    )

    def mypy(file: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
             "--python-executable", str(clean_venv / "bin" / "python"), file],
            capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
            env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")},
        )  # fmt: skip

    good = mypy("user_job.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = mypy("wrong.py")
    assert bad.returncode == 1, bad.stdout
    assert 'Incompatible return value type (got "str", expected "int")' in bad.stdout
    assert 'incompatible type "str"; expected "Database"' in bad.stdout
