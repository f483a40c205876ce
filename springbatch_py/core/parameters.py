"""Job parameters with Java types, Spring Batch's ``JOB_KEY``, and the parameter-row encoding.

A job instance is identified by its name and an MD5 over its identifying parameters, rendered
with Java's ``toString()`` (:func:`job_key`); 5.x and 6.0 render the pieces differently. The
``BATCH_JOB_EXECUTION_PARAMS`` rows hold the Java class name and the ISO or ``toString()`` text
that Spring's conversion service writes (:func:`encode_parameter`, :func:`decode_parameter`).
Note the asymmetry: the key of ``LocalTime 10:00`` contains ``10:00`` while the row holds
``10:00:00``.

Python values map to Java classes as :mod:`springbatch_py.java.types` describes: ``int`` is a
``Long``, ``float`` a ``Double``, an aware ``datetime`` a ``java.util.Date``, a naive one a
``LocalDateTime``; wrap a value in :class:`~springbatch_py.java.types.Integer` and friends for
the other classes. ``LocalDateTime`` and ``LocalTime`` keep nanoseconds
(:class:`~springbatch_py.java.types.LocalDateTime`). Java's converter stores any class, so a
parameter may also be an enum constant (:class:`~springbatch_py.java.types.JavaEnum`) or, as
read from the database, a value of any other class kept as its class name and text
(:class:`~springbatch_py.java.types.JavaValue`).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from springbatch_py.core.errors import JobParametersInvalidError
from springbatch_py.java import parsing, tostring
from springbatch_py.java import types as javatypes

__all__ = [
    "SUPPORTED_TYPES",
    "TYPE_ALIASES",
    "JobParameter",
    "JobParameters",
    "decode_parameter",
    "encode_parameter",
    "job_key",
    "parse_parameter_argument",
    "unstable_key_parameters",
]

#: Java classes Spring Batch's JDBC DAOs can write and read back as parameter values.
SUPPORTED_TYPES: frozenset[str] = frozenset(
    {
        "java.lang.String",
        "java.lang.Long",
        "java.lang.Integer",
        "java.lang.Short",
        "java.lang.Byte",
        "java.lang.Float",
        "java.lang.Double",
        "java.math.BigDecimal",
        "java.math.BigInteger",
        "java.lang.Boolean",
        "java.util.Date",
        "java.time.LocalDate",
        "java.time.LocalTime",
        "java.time.LocalDateTime",
    }
)

#: Short type names accepted by :func:`parse_parameter_argument` (case-insensitive).
TYPE_ALIASES: Mapping[str, str] = {
    "string": "java.lang.String",
    "long": "java.lang.Long",
    "int": "java.lang.Integer",
    "integer": "java.lang.Integer",
    "short": "java.lang.Short",
    "byte": "java.lang.Byte",
    "double": "java.lang.Double",
    "float": "java.lang.Float",
    "boolean": "java.lang.Boolean",
    "date": "java.util.Date",
    "localdate": "java.time.LocalDate",
    "localtime": "java.time.LocalTime",
    "localdatetime": "java.time.LocalDateTime",
    "bigdecimal": "java.math.BigDecimal",
    "biginteger": "java.math.BigInteger",
}

# Keys of these classes depend on the JVM: Date on its default zone, Double/Float on the JDK
# (17/18 print more digits than 19+ for some values).
_JVM_DEPENDENT = frozenset({"java.util.Date", "java.lang.Double", "java.lang.Float"})
_JAVA_INT_RANGE = range(-(2**31), 2**31)


# ---------------------------------------------------------------------------------------------
# JobParameter
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class JobParameter:
    """One parameter value with its Java class, identifying or not.

    The value must be one of :data:`SUPPORTED_TYPES` (see :mod:`~springbatch_py.java.types`
    for the Python side), a :class:`~springbatch_py.java.types.JavaEnum` or a
    :class:`~springbatch_py.java.types.JavaValue` of another class. On creation an aware
    ``datetime`` is cut to milliseconds, because a ``java.util.Date`` holds no more, and a zero
    ``Decimal`` loses its sign (Java has no ``-0``).
    Equality follows Java's ``equals``: same class and value, ``Long(1) != Integer(1)``,
    ``Decimal("1.5") != Decimal("1.50")``, ``0.0 != -0.0``, ``NaN == NaN``.
    """

    value: Any
    identifying: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.identifying, bool):
            raise JobParametersInvalidError(
                f"identifying must be a bool, not {type(self.identifying).__name__}"
            )
        object.__setattr__(self, "value", _checked_value(self.value))

    @property
    def java_class(self) -> str:
        """The binary name of the value's Java class, e.g. ``java.lang.Long``."""
        return javatypes.java_class_of(self.value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JobParameter):
            return NotImplemented
        return self.identifying == other.identifying and _same_value(self.value, other.value)

    def __hash__(self) -> int:
        value = self.value
        if isinstance(value, float) and math.isnan(value):
            value = "NaN"  # hash(nan) differs per object; these compare equal here
        return hash((self.java_class, value, self.identifying))

    def __repr__(self) -> str:
        return (
            f"JobParameter(value={self.value!r}, type={self.java_class}, "
            f"identifying={self.identifying})"
        )


def _checked_value(value: Any) -> Any:
    if value is None:
        raise JobParametersInvalidError(
            "a job parameter value must not be None (Java forbids null)"
        )
    if isinstance(value, javatypes.JavaEnum | javatypes.JavaValue):
        return _checked_other(value)
    try:
        java_class = javatypes.java_class_of(value)
    except TypeError:
        java_class = None
    if java_class not in SUPPORTED_TYPES:
        raise JobParametersInvalidError(
            f"unsupported job parameter type {type(value).__name__}"
            f" ({java_class or 'no Java type'}): {value!r};"
            f" supported: {', '.join(sorted(SUPPORTED_TYPES))}"
        )
    if java_class == "java.lang.Long" and not -(2**63) <= value < 2**63:
        raise JobParametersInvalidError(f"{value} does not fit a java.lang.Long; use BigInteger")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise JobParametersInvalidError(f"java.math.BigDecimal cannot hold {value}")
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or -exponent not in _JAVA_INT_RANGE:
            raise JobParametersInvalidError(f"BigDecimal scale out of range: {value}")
        if value.is_zero():
            value = value.copy_abs()
    elif java_class == "java.util.Date":
        if value.utcoffset() is None:
            raise JobParametersInvalidError(f"datetime {value!r} has a tzinfo without an offset")
        value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    elif isinstance(value, time) and value.tzinfo is not None:
        raise JobParametersInvalidError(f"a LocalTime has no time zone: {value!r}")
    return value


def _checked_other(value: javatypes.JavaEnum | javatypes.JavaValue) -> Any:
    kind = type(value).__name__
    if not _is_stored_type(value.class_name):
        raise JobParametersInvalidError(
            f"a {kind} needs a Java class name such as com.example.Color, not {value.class_name!r}"
        )
    if value.class_name in SUPPORTED_TYPES:
        raise JobParametersInvalidError(
            f"{value!r}: {value.class_name} is a modelled type; use its Python value"
        )
    if not isinstance(value.text, str):
        raise JobParametersInvalidError(f"{value!r}: the value must be a str")
    return value


def _is_stored_type(name: object) -> bool:
    # What Class.getName() can return: never empty, never white space. Reading is this lenient
    # (a class of the unnamed package, a non-ASCII name) so that no row makes an instance
    # unreadable; the command line asks for a dotted name (javatypes.is_class_name).
    return isinstance(name, str) and bool(name) and not any(c.isspace() for c in name)


def _same_value(a: Any, b: Any) -> bool:
    if not javatypes.same_java_value(a, b):
        return False
    if isinstance(a, Decimal):
        # BigDecimal.equals compares the scale too: 1.5 and 1.50 are different parameters.
        return bool(a.as_tuple().exponent == b.as_tuple().exponent)
    if isinstance(a, float) and not math.isnan(a):
        # Double.equals compares bits: 0.0 and -0.0 differ (and their keys too), while every
        # NaN is the one canonical NaN.
        return math.copysign(1.0, a) == math.copysign(1.0, b)
    return True


# ---------------------------------------------------------------------------------------------
# JobParameters
# ---------------------------------------------------------------------------------------------


class JobParameters(Mapping[str, JobParameter]):
    """An immutable, insertion-ordered map of parameter names to :class:`JobParameter`.

    Build it from a mapping whose values are :class:`JobParameter` or raw values (a raw value
    becomes an identifying parameter). Names must be non-empty strings. Two instances are equal
    when they hold the same names with equal parameters, in any order.
    """

    __slots__ = ("_parameters",)

    def __init__(self, parameters: Mapping[str, Any] | None = None) -> None:
        checked: dict[str, JobParameter] = {}
        for name, value in (parameters or {}).items():
            _check_name(name)
            checked[name] = value if isinstance(value, JobParameter) else JobParameter(value)
        self._parameters = checked

    @classmethod
    def empty(cls) -> JobParameters:
        """No parameters at all."""
        return cls()

    def __getitem__(self, name: str) -> JobParameter:
        return self._parameters[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JobParameters):
            return NotImplemented
        return self._parameters == other._parameters

    def __hash__(self) -> int:
        return hash(frozenset(self._parameters.items()))

    def __repr__(self) -> str:
        return f"JobParameters({self._parameters!r})"

    def identifying(self) -> JobParameters:
        """Only the identifying parameters (those that make up the job key)."""
        return JobParameters({n: p for n, p in self._parameters.items() if p.identifying})

    def non_identifying(self) -> JobParameters:
        """Only the non-identifying parameters."""
        return JobParameters({n: p for n, p in self._parameters.items() if not p.identifying})

    def get_value(self, name: str, default: Any = None) -> Any:
        """The value of parameter ``name``, or ``default`` when there is none."""
        parameter = self._parameters.get(name)
        return default if parameter is None else parameter.value

    def with_parameter(self, name: str, value: Any) -> JobParameters:
        """A copy with ``name`` set to ``value`` (a :class:`JobParameter` or a raw value)."""
        return JobParameters({**self._parameters, name: value})

    def merge(self, other: Mapping[str, Any]) -> JobParameters:
        """A copy with every parameter of ``other`` added; ``other`` wins on equal names."""
        return JobParameters({**self._parameters, **JobParameters(other)._parameters})


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise JobParametersInvalidError(
            f"a job parameter name must be a non-empty string: {name!r}"
        )


# ---------------------------------------------------------------------------------------------
# JOB_KEY
# ---------------------------------------------------------------------------------------------


def job_key(parameters: JobParameters, major: int, *, zone: ZoneInfo) -> str:
    """Spring Batch's ``JOB_KEY`` of these parameters for Spring Batch ``major`` 5 or 6.

    Identifying parameters sorted by name in Java ``String`` order (UTF-16 code units), each
    rendered as ``name={value=<V>, type=class <T>, identifying=true};`` (5.x) or
    ``JobParameter{name='<name>', value=<V>, type=class <T>, identifying=true}`` (6.0), with
    ``<V>`` the Java ``toString()`` of the value; the MD5 of the UTF-8 text in lower-case hex.
    ``zone`` is the Java nodes' default time zone, which ``java.util.Date`` values depend on.
    """
    if major not in (5, 6):
        raise ValueError(f"Spring Batch major version must be 5 or 6, not {major!r}")
    names = sorted((n for n, p in parameters.items() if p.identifying), key=_java_string_order)
    pieces = []
    for name in names:
        parameter = parameters[name]
        value = tostring.java_to_string(parameter.value, zone=zone)
        pieces.append(
            f"{name}={{value={value}, type=class {parameter.java_class}, identifying=true}};"
            if major == 5
            else f"JobParameter{{name='{name}', value={value}, "
            f"type=class {parameter.java_class}, identifying=true}}"
        )
    # Java's getBytes(UTF_8) writes '?' for a lone surrogate; errors="replace" does the same.
    text = "".join(pieces).encode("utf-8", errors="replace")
    return hashlib.md5(text, usedforsecurity=False).hexdigest()


def _java_string_order(name: str) -> bytes:
    # String.compareTo compares UTF-16 code units; big-endian bytes sort the same way. This
    # differs from code-point order for characters above U+FFFF versus U+E000..U+FFFF.
    return name.encode("utf-16-be", errors="surrogatepass")


def unstable_key_parameters(parameters: JobParameters) -> list[str]:
    """Names of identifying parameters whose key text depends on the JVM.

    A ``java.util.Date`` prints in the JVM's default zone; ``Double`` and ``Float`` print
    different digits on JDK 17/18 and JDK 19+ for some values. Callers should warn (or refuse)
    unless every node runs the same zone and JDK generation.
    """
    return [
        name
        for name, parameter in parameters.items()
        if parameter.identifying and parameter.java_class in _JVM_DEPENDENT
    ]


# ---------------------------------------------------------------------------------------------
# BATCH_JOB_EXECUTION_PARAMS rows
# ---------------------------------------------------------------------------------------------


def encode_parameter(param: JobParameter) -> tuple[str, str, str]:
    """``(PARAMETER_TYPE, PARAMETER_VALUE, IDENTIFYING)`` as Spring Batch's DAO writes them.

    Dates and times are ISO (``Date`` as ``ISO_INSTANT`` in UTC, ``LocalTime`` with seconds
    always), numbers use Java's ``toString()``, booleans ``true``/``false``.
    """
    java_class = param.java_class
    value = param.value
    text: str
    if java_class == "java.util.Date":
        text = tostring.iso_instant(value)
    elif java_class == "java.time.LocalTime":
        text = tostring.iso_local_time(value)
    elif java_class == "java.time.LocalDateTime":
        text = tostring.iso_local_date_time(value)
    else:
        # For every other supported class Spring's ObjectToStringConverter calls toString(),
        # which is the key rendering (LocalDate.toString() is already ISO); the zone is unused.
        text = tostring.java_to_string(value, zone=_UTC)
    return java_class, text, "Y" if param.identifying else "N"


_UTC = ZoneInfo("UTC")


def decode_parameter(
    name: str, type_name: str, value: str | None, identifying: str | None
) -> JobParameter:
    """A parameter read from a ``BATCH_JOB_EXECUTION_PARAMS`` row, as tolerantly as Java reads it.

    Integer types accept ``0x``/``#`` hex and a sign, booleans ``true/on/yes/1`` and
    ``false/off/no/0``, dates an ISO instant or offset date-time. ``IDENTIFYING`` other than
    ``Y``/``y`` means non-identifying. ``LocalDateTime`` and ``LocalTime`` keep nanoseconds. A
    class springbatch-py does not model (an enum such as the cluster's
    ``PartitionTransferableProp``, or anything else Java's converter wrote) reads as a
    :class:`~springbatch_py.java.types.JavaValue` holding the class name and the text, which
    is written back unchanged. Raises :class:`JobParametersInvalidError` for a NULL value (Java
    rejects it too; Oracle stores an empty string as NULL), a value a modelled type cannot parse,
    or a type that is not a Java class name.
    """
    parser = parsing.parser_for(type_name) if type_name in SUPPORTED_TYPES else None
    if parser is None and not _is_stored_type(type_name):
        raise JobParametersInvalidError(
            f"cannot read parameter {name!r}: unsupported type {type_name}"
        )
    if value is None:
        raise JobParametersInvalidError(
            f"cannot read parameter {name!r}: its {type_name} value is NULL, which Java rejects"
            " too (an empty string reads back as NULL on Oracle)"
        )
    if parser is None:
        parsed: Any = javatypes.JavaValue(type_name, value)
    else:
        try:
            parsed = parser(value)
        except (ValueError, ArithmeticError) as exc:
            raise JobParametersInvalidError(
                f"cannot read parameter {name!r}: invalid {type_name} value {value!r} ({exc})"
            ) from None
    return JobParameter(parsed, identifying=identifying in ("Y", "y"))


# ---------------------------------------------------------------------------------------------
# Command-line arguments
# ---------------------------------------------------------------------------------------------

# A trailing "(type)" names the type; its content looks like an alias or a Java class name.
_TYPE_SUFFIX = re.compile(r"\((?P<type>[A-Za-z_$][\w$.]*)\)\Z")


def parse_parameter_argument(text: str) -> tuple[str, JobParameter]:
    """Parse a command-line parameter: ``name=value`` or ``name=value(type)``.

    ``type`` is an alias of :data:`TYPE_ALIASES` (any case) or a supported Java class name;
    without it the value is a ``String``. Any other class name in a package
    (``color=RED(com.example.Color)``) makes an enum constant
    (:class:`~springbatch_py.java.types.JavaEnum`) when the value is a Java identifier, else a
    :class:`~springbatch_py.java.types.JavaValue` holding the text as given. A leading ``-``
    on the name makes the parameter non-identifying (``-note=hello``). Values are read like the
    database text, so ``date`` takes an ISO instant or offset date-time (``2024-01-31T10:00:00Z``,
    ``2024-01-31T11:00:00+01:00``) and ``boolean`` takes ``true``/``yes``/``on``/``1``... A String
    that itself ends in parentheses needs an explicit type: ``f=max(a)(string)``.
    """
    name, sep, rest = text.partition("=")
    if not sep:
        raise JobParametersInvalidError(
            f"bad job parameter {text!r}: expected name=value or name=value(type)"
        )
    identifying = not name.startswith("-")
    if not identifying:
        name = name[1:]
    if not name:
        raise JobParametersInvalidError(f"bad job parameter {text!r}: the name is empty")
    java_class = "java.lang.String"
    value = rest
    m = _TYPE_SUFFIX.search(rest)
    if m is not None:
        written = m["type"]
        resolved = TYPE_ALIASES.get(written.lower(), written)
        if (
            resolved not in SUPPORTED_TYPES
            and javatypes.is_class_name(resolved)
            # JDK classes other than the modelled ones (Instant, OffsetDateTime ...) have no
            # reading converter in Spring Batch: Java could not read such a parameter back.
            and not resolved.startswith(("java.", "javax."))
        ):
            return name, _other_argument(text, resolved, rest[: m.start()], identifying)
        if resolved not in SUPPORTED_TYPES:
            raise JobParametersInvalidError(
                f"bad job parameter {text!r}: unknown type {written!r}; use one of "
                f"{', '.join(TYPE_ALIASES)} or a Java class name such as java.lang.Long or "
                "com.example.Color "
                "(a String ending in parentheses needs '(string)' appended)"
            )
        java_class, value = resolved, rest[: m.start()]
    parser = parsing.parser_for(java_class)
    assert parser is not None
    try:
        parsed = parser(value)
    except (ValueError, ArithmeticError) as exc:
        raise JobParametersInvalidError(
            f"bad job parameter {text!r}: {value!r} is not a valid {java_class} ({exc})"
        ) from None
    return name, JobParameter(parsed, identifying=identifying)


_JAVA_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*", re.ASCII)


def _other_argument(text: str, java_class: str, value: str, identifying: bool) -> JobParameter:
    other: javatypes.JavaEnum | javatypes.JavaValue
    if _JAVA_IDENTIFIER.fullmatch(value):
        other = javatypes.JavaEnum(java_class, value)
    else:
        other = javatypes.JavaValue(java_class, value)
    try:
        return JobParameter(other, identifying=identifying)
    except JobParametersInvalidError as exc:
        raise JobParametersInvalidError(f"bad job parameter {text!r}: {exc}") from None
