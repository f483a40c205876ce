"""``JOB_KEY`` and ``BATCH_JOB_EXECUTION_PARAMS`` rows against a real JVM.

Random parameter sets (:func:`tests.compat.strategies.job_parameters`) in random JVM default
zones (:data:`tests.compat.strategies.ZONES`): springbatch-py's ``job_key`` for Spring Batch 5
and 6 must equal the MD5 the harness computes from Java's own ``toString()`` and
``Class.toString()``, and ``encode_parameter`` must write the rows Spring Batch's DAO writes.

Two things legitimately differ between JDK generations, and springbatch-py follows JDK 19+:

* ``Double.toString``/``Float.toString`` digits (java-wire-facts §3.3): the strategies only draw
  doubles of at most 12 and floats of at most 6 significant digits, in the magnitudes where
  JDK 17 prints them like JDK 19+ (``strategies.JDK17_SAFE_*``), so the comparison with this
  JDK 17 harness is deterministic;
* the short names of some zones in ``Date.toString()``: the expected JDK 17 text substitutes them
  (``strategies.JDK17_DATE_NAMES``), and the product's own key is then checked against the text
  it renders.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from springbatch_py.core.parameters import JobParameter, JobParameters, encode_parameter, job_key
from springbatch_py.java import tostring
from springbatch_py.java.types import Double, Float, Integer, Long
from tests.compat.jvm import LineService
from tests.compat.strategies import ZONES, jdk17_date_text, job_parameters
from tests.compat.typed import typed_parameters

EXAMPLES = 2000
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def request(parameters: JobParameters, zone: str) -> dict[str, Any]:
    """The harness request for these parameters (in their order) under JVM zone ``zone``."""
    return {"id": 0, "zone": zone, "parameters": typed_parameters(parameters)}


def _answer(service: LineService, req: dict[str, Any]) -> dict[str, Any]:
    answer = service.ask(req)
    assert "error" not in answer, f"the JVM refused {req!r}: {answer['error']}"
    return answer


def key_text(parameters: JobParameters, major: int, zone: str, *, jdk17: bool) -> str:
    """The pre-hash text of the key (java-wire-facts §3.1/§3.2) from springbatch-py's
    ``toString()`` renderings, or with JDK 17's zone names for dates when ``jdk17``."""
    names = sorted(
        (n for n, p in parameters.items() if p.identifying),
        key=lambda n: n.encode("utf-16-be", "surrogatepass"),
    )
    pieces = []
    for name in names:
        p = parameters[name]
        if jdk17 and p.java_class == "java.util.Date":
            value = jdk17_date_text(p.value, zone)
        else:
            value = tostring.java_to_string(p.value, zone=ZoneInfo(zone))
        t = f"class {p.java_class}"
        pieces.append(
            f"{name}={{value={value}, type={t}, identifying=true}};"
            if major == 5
            else f"JobParameter{{name='{name}', value={value}, type={t}, identifying=true}}"
        )
    return "".join(pieces)


def md5(text: str) -> str:
    # Java's getBytes(UTF_8) writes '?' for an unpaired surrogate.
    return hashlib.md5(text.encode("utf-8", "replace"), usedforsecurity=False).hexdigest()


def check_keys(service: LineService, parameters: JobParameters, zone: str) -> None:
    answer = _answer(service, request(parameters, zone))
    for major in (5, 6):
        java_key, java_text = answer[f"key{major}"], answer[f"text{major}"]
        python_key = job_key(parameters, major, zone=ZoneInfo(zone))
        python_text = key_text(parameters, major, zone, jdk17=False)
        expected_text = key_text(parameters, major, zone, jdk17=True)
        assert expected_text == java_text, f"{major}.x key text in {zone}"
        assert md5(java_text) == java_key
        if expected_text == python_text:
            assert python_key == java_key, f"{major}.x key in {zone}: {java_text!r}"
        else:
            # A zone name JDK 17 prints differently (strategies.JDK17_DATE_NAMES): the rest of
            # the text matched Java above; the key is the one of springbatch-py's own text.
            assert python_key == md5(python_text), f"{major}.x key in {zone}: {python_text!r}"


def check_rows(service: LineService, parameters: JobParameters, zone: str) -> None:
    answer = _answer(service, request(parameters, zone))
    java = [(r["name"], r["type"], r["value"], r["identifying"]) for r in answer["rows"]]
    python = [(name, *encode_parameter(p)) for name, p in parameters.items()]
    assert python == java


# -- properties ---------------------------------------------------------------------------------


@SETTINGS
@given(parameters=job_parameters(), zone=st.sampled_from(ZONES))
def test_job_keys_equal_java(job_keys: LineService, parameters: JobParameters, zone: str) -> None:
    # One request answers both majors: key5/text5 (5.x) and key6/text6 (6.0).
    check_keys(job_keys, parameters, zone)


@SETTINGS
@given(parameters=job_parameters(), zone=st.sampled_from(ZONES))
def test_parameter_rows_equal_java(
    parameter_rows: LineService, parameters: JobParameters, zone: str
) -> None:
    check_rows(parameter_rows, parameters, zone)


# -- spot tests ---------------------------------------------------------------------------------

SPOTS: dict[str, JobParameters] = {
    "none": JobParameters(),
    "facts example 1": JobParameters({"name": "a", "run.id": Long(1)}),
    "facts example 2": JobParameters(
        {
            "input.file": "/data/in.csv",
            "rate": Double(0.5),
            "day": datetime(2024, 1, 31).date(),
            "note": JobParameter("ignored", identifying=False),
        }
    ),
    "only non-identifying": JobParameters({"x": JobParameter(Long(1), identifying=False)}),
    "java string order": JobParameters({"\U0001f600": "a", "\uffff": "b", "a": "c", "B": "d"}),
    "lone surrogates": JobParameters({"\ud800": "\udfff", "x": "x\ud83dy"}),
    "separators in names and values": JobParameters({"a=b;c": "}{'", "n'": ", type=x"}),
    "doubles": JobParameters(
        {"nan": Double(float("nan")), "neg0": Double(-0.0), "big": 1e7, "small": 1e-3, "e": 1e-4}
    ),
    "floats": JobParameters({"f": Float(0.1), "g": Float(1.0e-5), "inf": Float(float("inf"))}),
    "integer classes": JobParameters({"i": Integer(-(2**31)), "l": Long(2**63 - 1)}),
    "dates": JobParameters(
        {
            "before 1900": datetime(1850, 1, 1, tzinfo=UTC),
            "summer": datetime(2024, 7, 1, 12, 0, 0, 123000, tzinfo=UTC),
            "julian": datetime(1000, 3, 1, tzinfo=UTC),
        }
    ),
    "local times": JobParameters(
        {"h": datetime(2024, 1, 31, 10).time(), "us": datetime(1, 1, 1, 0, 0, 0, 1).time()}
    ),
}


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("name", list(SPOTS))
def test_spot_keys(job_keys: LineService, name: str, zone: str) -> None:
    check_keys(job_keys, SPOTS[name], zone)


@pytest.mark.parametrize("name", list(SPOTS))
def test_spot_rows(parameter_rows: LineService, name: str) -> None:
    check_rows(parameter_rows, SPOTS[name], "UTC")


def test_no_identifying_parameter_is_the_md5_of_nothing(job_keys: LineService) -> None:
    answer = _answer(job_keys, request(JobParameters(), "UTC"))
    assert answer["key5"] == answer["key6"] == "d41d8cd98f00b204e9800998ecf8427e"


def test_tokyo_daylight_time_is_named_as_jdk_25_names_it(job_keys: LineService) -> None:
    # Tokyo kept daylight time in 1948-1951 only. JDK 17 prints JDT for it; springbatch-py, like
    # JDK 25 for zones without daylight time today, prints the standard name. Nothing else of
    # the key text differs, so the keys agree with a JVM of the same generation.
    parameters = JobParameters({"d": datetime(1949, 7, 1, 3, tzinfo=UTC)})
    answer = _answer(job_keys, request(parameters, "Asia/Tokyo"))
    python_text = key_text(parameters, 5, "Asia/Tokyo", jdk17=False)
    assert "JST 1949" in python_text and "JDT 1949" in answer["text5"]
    assert answer["text5"] == python_text.replace("JST 1949", "JDT 1949")
    assert job_key(parameters, 5, zone=ZoneInfo("Asia/Tokyo")) == md5(python_text)
