"""What both context writers share when they walk a value."""

from __future__ import annotations


def describe_path(path: tuple[str | int, ...]) -> str:
    """``('a', 2, 'b')`` -> ``"'a'[2]['b']"``, to say where in a nested context a value sits."""
    if not path:
        return "the context"
    text = repr(path[0])
    for step in path[1:]:
        text += f"[{step!r}]"
    return text
