"""springbatch-py against the JVM's answers stored in compat/vectors (no JVM needed).

The vectors were written by compat/generate_vectors.py from the Java harness. A missing or empty
vectors file fails the tests: regenerate it with ``python compat/generate_vectors.py``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from springbatch_py.core.parameters import JobParameter, JobParameters, encode_parameter, job_key
from springbatch_py.repository.serialization.java import JavaSerializationContextSerializer
from tests.compat.typed import from_typed, java_equal

VECTORS = Path(__file__).resolve().parents[2] / "compat" / "vectors"
FILES = ("contexts.json", "job_keys.json", "parameter_rows.json")
JAVA_ORDER = JavaSerializationContextSerializer(entry_order="java")


def _load(name: str) -> dict[str, Any] | None:
    path = VECTORS / name
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="ascii"))
    return loaded


def _cases(name: str) -> list[Any]:
    """One pytest case per vector; a single failing case when the file is missing or empty."""
    loaded = _load(name)
    vectors = [] if loaded is None else loaded["vectors"]
    if not vectors:
        return [pytest.param(None, id="missing")]
    return [pytest.param(v, id=str(i)) for i, v in enumerate(vectors)]


def _present(vector: dict[str, Any] | None, name: str) -> dict[str, Any]:
    assert vector is not None, (
        f"{VECTORS / name} is missing or empty: run python compat/generate_vectors.py"
    )
    return vector


def parameters_of(vector: dict[str, Any]) -> JobParameters:
    return JobParameters(
        {
            p["name"]: JobParameter(from_typed(p["value"]), p["identifying"])
            for p in vector["parameters"]
        }
    )


@pytest.mark.parametrize("name", FILES)
def test_files_have_a_header(name: str) -> None:
    loaded = _load(name)
    assert loaded is not None, f"{VECTORS / name} is missing: run python compat/generate_vectors.py"
    header = loaded["header"]
    assert header["jdk"] and header["count"] == len(loaded["vectors"]) > 0


@pytest.mark.parametrize("vector", _cases("contexts.json"))
def test_context_vector(vector: dict[str, Any] | None) -> None:
    vector = _present(vector, "contexts.json")
    expected = from_typed(vector["value"])
    read = JAVA_ORDER.deserialize(vector["base64"])
    assert java_equal(read, expected), f"read {read!r}\nexpected {expected!r}"
    if vector["same_bytes"]:
        assert JAVA_ORDER.serialize(expected) == vector["base64"]


@pytest.mark.parametrize("vector", _cases("job_keys.json"))
def test_job_key_vector(vector: dict[str, Any] | None) -> None:
    vector = _present(vector, "job_keys.json")
    parameters = parameters_of(vector)
    zone = ZoneInfo(vector["zone"])
    for major in (5, 6):
        text = vector[f"text{major}"]
        # The stored key is the MD5 of the stored text (Java writes '?' for lone surrogates).
        digest = hashlib.md5(text.encode("utf-8", "replace"), usedforsecurity=False).hexdigest()
        assert digest == vector[f"key{major}"]
        assert job_key(parameters, major, zone=zone) == vector[f"key{major}"], text


@pytest.mark.parametrize("vector", _cases("parameter_rows.json"))
def test_parameter_row_vector(vector: dict[str, Any] | None) -> None:
    vector = _present(vector, "parameter_rows.json")
    parameters = parameters_of(vector)
    python = [(name, *encode_parameter(p)) for name, p in parameters.items()]
    java = [(r["name"], r["type"], r["value"], r["identifying"]) for r in vector["rows"]]
    assert python == java
