"""Locate the data folders ``schema/`` and ``dialects/``.

A wheel carries them inside the package (``springbatch_py/_schema``, ``springbatch_py/_dialects``);
an editable install or a source checkout finds them at the top of the source tree.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Literal

from springbatch_py.errors import ConfigurationError

DataKind = Literal["schema", "dialects"]

#: Dialect folder names, the same under ``schema/`` and ``dialects/``.
DIALECT_FOLDERS: tuple[str, ...] = ("postgresql", "mysql", "mariadb", "oracle", "sqlite")

#: The folder under ``dialects/`` of the statements written once for every dialect.
COMMON_DIALECT_FOLDER = "common"


@functools.cache
def data_root(kind: DataKind) -> Traversable:
    """Return the folder holding ``kind`` (``"schema"`` or ``"dialects"``)."""
    packaged = resources.files("springbatch_py") / f"_{kind}"
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parents[2] / kind
    if source.is_dir():
        return source
    raise ConfigurationError(
        f"springbatch-py data folder {kind!r} not found (neither packaged nor in the source tree)"
    )


def read_text(kind: DataKind, dialect: str, filename: str) -> str:
    """Read ``<kind>/<dialect>/<filename>`` as UTF-8 text (``dialect`` may also be ``common``
    under ``dialects/``)."""
    common = kind == "dialects" and dialect == COMMON_DIALECT_FOLDER
    if dialect not in DIALECT_FOLDERS and not common:
        raise ConfigurationError(
            f"unknown dialect {dialect!r}; expected one of {', '.join(DIALECT_FOLDERS)}"
        )
    item = data_root(kind) / dialect / filename
    if not item.is_file():
        raise ConfigurationError(f"{kind}/{dialect}/{filename} is missing from springbatch-py")
    return item.read_text(encoding="utf-8")


def list_files(kind: DataKind, dialect: str, suffix: str = ".sql") -> list[str]:
    """File names under ``<kind>/<dialect>/`` ending with ``suffix``, sorted (none where the
    folder does not exist: a dialect may have no statements of its own)."""
    folder = data_root(kind) / dialect
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name.endswith(suffix))
