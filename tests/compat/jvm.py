"""The Java harness of compat/java: built once with javac, run as JSON-lines services and nodes.

The harness needs a JDK (``javac`` and ``java``, 17 or later) and Debian's JDBC drivers
(libpostgresql-jdbc-java, libmariadb-java, libxerial-sqlite-jdbc-java). Without them the live
interoperability tests skip with the reason; ``SPRINGBATCH_TEST_REQUIRE_JVM=1`` (set by CI)
turns the skip into a failure.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "compat" / "java" / "src"
JARS = (
    Path("/usr/share/java/postgresql.jar"),
    Path("/usr/share/java/mariadb-java-client.jar"),
    Path("/usr/share/java/sqlite-jdbc.jar"),
)
REQUIRE_ENV = "SPRINGBATCH_TEST_REQUIRE_JVM"
MAIN = "springbatch.compat.Main"
#: Every JVM of the tests compiles with the quick JIT only: the harness's runs are short, and the
#: optimizing compiler's threads cost more CPU than they save (1,600 contexts read: 0.5 s of CPU
#: instead of 1.4 s; tests/compat as a whole, Python included, about 7 % less). The Java
#: semantics are the same.
JVM_OPTIONS = ("-XX:TieredStopAtLevel=1",)


class Unavailable(Exception):
    """No JDK or no JDBC driver: the message says what is missing and how to install it."""


def required() -> bool:
    """Whether a missing JVM fails the run instead of skipping."""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0", "false", "no")


@dataclass(frozen=True)
class Harness:
    """A compiled harness."""

    java: str
    classes: Path

    @property
    def classpath(self) -> str:
        return os.pathsep.join([str(self.classes), *map(str, JARS)])

    def command(self, *args: str, options: Iterable[str] = ()) -> list[str]:
        """The ``java`` command line running ``Main`` with ``args``."""
        return [self.java, *JVM_OPTIONS, *options, "-cp", self.classpath, MAIN, *args]

    def lines(self, command: str) -> LineService:
        """A running JSON-lines command (``contexts-read``, ``job-keys``, ...)."""
        return LineService(self.command(command))

    def ask_all(self, command: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Answers to many requests from one short-lived JVM."""
        payload = "".join(json.dumps(r) + "\n" for r in requests)
        done = subprocess.run(
            self.command(command),
            input=payload,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command} exited {done.returncode}: {done.stderr[-2000:]}")
        answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert len(answers) == len(requests), done.stderr[-2000:]
        return answers


class LineService:
    """One JVM answering one JSON line per request line, kept running across requests."""

    def __init__(self, command: list[str]) -> None:
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
        self._lock = threading.Lock()

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request; its answer."""
        with self._lock:
            assert self._process.stdin is not None and self._process.stdout is not None
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the JVM exited: {self.close()}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> str:
        """Stop the JVM; what it wrote on stderr."""
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        err = self._process.stderr.read() if self._process.stderr else ""
        if self._process.stdout is not None:
            self._process.stdout.close()
        if self._process.stderr is not None:
            self._process.stderr.close()
        return err


def _digest() -> str:
    sha = hashlib.sha256()
    for path in sorted(SOURCES.rglob("*.java")):
        sha.update(str(path.relative_to(SOURCES)).encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def build(out: Path, *, drivers: bool = True) -> Harness:
    """Compile the harness into ``out`` (skipped when ``out`` already holds this source).

    The JSON-lines commands need no JDBC driver (the sources use only ``java.sql``); pass
    ``drivers=False`` to build for them on a machine without the driver jars.
    """
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None:
        raise Unavailable("no JDK: javac/java not on PATH (install openjdk-17-jdk-headless)")
    missing = [str(j) for j in JARS if not j.is_file()]
    if missing and drivers:
        raise Unavailable(
            f"JDBC drivers missing: {', '.join(missing)} (apt-get install libpostgresql-jdbc-java "
            "libmariadb-java libxerial-sqlite-jdbc-java)"
        )
    classes = out / _digest()
    marker = classes / ".built"
    if not marker.exists():
        classes.mkdir(parents=True, exist_ok=True)
        sources = [str(p) for p in sorted(SOURCES.rglob("*.java"))]
        classpath = os.pathsep.join(str(j) for j in JARS if j.is_file())
        command = [javac, "--release", "17", "-encoding", "UTF-8", "-d", str(classes)]
        done = subprocess.run(
            [*command, "-cp", classpath, *sources],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"javac failed:\n{done.stdout}{done.stderr}")
        marker.write_text("ok")
    return Harness(java, classes)
