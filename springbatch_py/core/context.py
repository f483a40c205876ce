"""``ExecutionContext``: a map whose values keep their Java type."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from springbatch_py.java.types import Double, Integer, Long, java_class_of, same_java_value

_MISSING: Any = object()


class ExecutionContext(MutableMapping[str, Any]):
    """String keys to values with a Java counterpart (see :mod:`springbatch_py.java.types`).

    The typed getters are strict like Java's: :meth:`get_long` refuses an ``Integer`` and
    :meth:`get_int` a ``Long``, so Python code notices what would break a Java reader.
    """

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        self._values: dict[str, Any] = {}
        self._dirty = False
        for key, value in (values or {}).items():
            self[key] = value
        self._dirty = False

    # -- mapping -----------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"execution context keys are strings, not {type(key).__name__}")
        if value is None:
            raise TypeError(f"execution context value for {key!r} is None (Java forbids nulls)")
        java_class_of(value)  # raises TypeError for values without a Java counterpart
        # Long(1) == Integer(1) in Python, but not for a Java reader: compare Java types too.
        if key not in self._values or not same_java_value(self._values[key], value):
            self._dirty = True
        self._values[key] = value

    def __delitem__(self, key: str) -> None:
        del self._values[key]
        self._dirty = True

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"ExecutionContext({self._values!r})"

    # -- typed access ------------------------------------------------------------------------

    def put_long(self, key: str, value: int) -> None:
        """Store a ``java.lang.Long``."""
        self[key] = Long(value)

    def put_int(self, key: str, value: int) -> None:
        """Store a ``java.lang.Integer``."""
        self[key] = Integer(value)

    def put_double(self, key: str, value: float) -> None:
        """Store a ``java.lang.Double``."""
        self[key] = Double(value)

    def put_string(self, key: str, value: str) -> None:
        """Store a ``java.lang.String``."""
        self[key] = str(value)

    def get_long(self, key: str, default: int = _MISSING) -> int:
        """A ``java.lang.Long`` value (a plain ``int`` counts as one)."""
        return int(self._typed(key, "java.lang.Long", default))

    def get_int(self, key: str, default: int = _MISSING) -> int:
        """A ``java.lang.Integer`` value."""
        return int(self._typed(key, "java.lang.Integer", default))

    def get_double(self, key: str, default: float = _MISSING) -> float:
        """A ``java.lang.Double`` value (a plain ``float`` counts as one)."""
        return float(self._typed(key, "java.lang.Double", default))

    def get_string(self, key: str, default: str = _MISSING) -> str:
        """A ``java.lang.String`` value."""
        return str(self._typed(key, "java.lang.String", default))

    def _typed(self, key: str, java_class: str, default: Any) -> Any:
        if key not in self._values:
            if default is _MISSING:
                raise KeyError(key)
            return default
        value = self._values[key]
        found = java_class_of(value)
        if found != java_class:
            raise TypeError(f"context value {key!r} is a {found}, not a {java_class}")
        return value

    # -- dirty tracking ----------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """Whether the context changed since it was loaded or last saved."""
        return self._dirty

    def clear_dirty(self) -> None:
        """Mark the context as saved."""
        self._dirty = False

    def copy(self) -> ExecutionContext:
        """A shallow copy (not dirty)."""
        return ExecutionContext(self._values)

    def to_dict(self) -> dict[str, Any]:
        """The values as a plain dict."""
        return dict(self._values)
