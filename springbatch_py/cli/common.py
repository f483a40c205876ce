"""What the commands share: the database option, loading user objects, tables and JSON."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from springbatch_py.cluster.settings import ClusterSettings
from springbatch_py.db.database import Database, jdbc_to_url
from springbatch_py.db.settings import DatabaseSettings
from springbatch_py.errors import ConfigurationError

URL_ENV = "SPRINGBATCH_URL"
ZONE_ENV = "SPRINGBATCH_TIME_ZONE"


def add_url(parser: argparse.ArgumentParser) -> None:
    """``--url`` (default ``$SPRINGBATCH_URL``) and ``--time-zone``."""
    parser.add_argument(
        "--url",
        default=os.environ.get(URL_ENV),
        help=f"database URL, e.g. sqlite:///springbatch.db (default: ${URL_ENV})",
    )
    parser.add_argument(
        "--time-zone",
        default=os.environ.get(ZONE_ENV),
        help="zone of stored Spring Batch times and of the database session; must be the Java "
        f"nodes' default zone (default: ${ZONE_ENV}, else UTC)",
    )


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``."""
    parser.add_argument("--json", action="store_true", help="print the result as JSON")


def add_cluster_config(parser: argparse.ArgumentParser) -> None:
    """``--config`` (cluster settings file) and ``--set`` (one setting)."""
    parser.add_argument(
        "--config",
        type=Path,
        help="cluster settings: a .properties file with the Java keys "
        "(spring.batch.cluster.*), or .json/.toml; SPRING_BATCH_CLUSTER_* variables win. "
        "Its spring.datasource.url/username/password give the database when neither --url "
        "nor $SPRINGBATCH_URL does",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one cluster setting, by its property name (heartbeat-interval=3000); repeatable",
    )


DATASOURCE = "spring.datasource."


def apply_datasource(args: argparse.Namespace) -> None:
    """Without ``--url`` or ``$SPRINGBATCH_URL``, take the database from ``--config``'s
    ``spring.datasource.url`` (with ``.username`` and ``.password``), as Spring does."""
    config = getattr(args, "config", None)
    if getattr(args, "url", "") or config is None or not config.is_file():
        return
    values = read_datasource(config)
    url = values.get("url")
    if not url:
        return
    username, password = values.get("username") or None, values.get("password") or None
    if url.strip().lower().startswith("jdbc:"):
        parsed = jdbc_to_url(url, username, password)
    else:
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigurationError(f"{config}: bad spring.datasource.url {url!r}") from None
        parsed = parsed.set(
            username=username or parsed.username, password=password or parsed.password
        )
    args.url = parsed.render_as_string(hide_password=False)


def read_datasource(path: Path) -> dict[str, str]:
    """The ``spring.datasource.*`` values of a ``.properties``, ``.json`` or ``.toml`` file."""
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".json", ".toml"):
        try:
            data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"{path}: {exc}") from None
        node: Any = data
        for part in ("spring", "datasource"):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        flat = {k: str(v) for k, v in node.items()} if isinstance(node, Mapping) else {}
        for key, value in data.items():  # dotted keys at the top: {"spring.datasource.url": ..}
            if isinstance(key, str) and key.startswith(DATASOURCE):
                flat[key[len(DATASOURCE) :]] = str(value)
        return flat
    return {
        key[len(DATASOURCE) :]: value
        for key, value in read_properties(text).items()
        if key.startswith(DATASOURCE)
    }


def read_properties(text: str) -> dict[str, str]:
    """A Java ``.properties`` text: ``key=value``, ``key: value`` or ``key value``, comments,
    continuation lines and backslash escapes (``jdbc\\:postgresql\\://...``)."""
    values: dict[str, str] = {}
    logical: list[str] = []
    for raw in text.splitlines():
        line = raw.lstrip() if logical else raw.strip()
        if not logical and (not line or line.startswith(("#", "!"))):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        if trailing % 2 == 1:  # continued on the next line
            logical.append(line[:-1])
            continue
        logical.append(line)
        key, value = _split_property("".join(logical))
        logical = []
        values[key] = value
    if logical:
        key, value = _split_property("".join(logical))
        values[key] = value
    return values


_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def _split_property(line: str) -> tuple[str, str]:
    index, key = 0, []
    while index < len(line) and line[index] not in "=: \t":
        if line[index] == "\\" and index + 1 < len(line):
            index += 1
        key.append(line[index])
        index += 1
    while index < len(line) and line[index] in " \t":
        index += 1
    if index < len(line) and line[index] in "=:":
        index += 1
    return _unescape("".join(key)), _unescape(line[index:].lstrip())


def _unescape(text: str) -> str:
    out, index = [], 0
    while index < len(text):
        ch = text[index]
        if ch == "\\" and index + 1 < len(text):
            nxt = text[index + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[index + 2 : index + 6]):
                out.append(chr(int(text[index + 2 : index + 6], 16)))
                index += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            index += 2
            continue
        out.append(ch)
        index += 1
    return "".join(out)


def database_settings(args: argparse.Namespace) -> DatabaseSettings | None:
    """The session settings the arguments ask for (None: the defaults)."""
    zone = getattr(args, "time_zone", None)
    return DatabaseSettings(time_zone=zone) if zone else None


def open_database(args: argparse.Namespace, *, must_exist: bool = True, **kwargs: Any) -> Database:
    """The database of ``--url``; a clear error when there is none."""
    if not args.url:
        raise ConfigurationError(f"no database URL: pass --url or set {URL_ENV}")
    return Database.open(args.url, database_settings(args), must_exist=must_exist, **kwargs)


def cluster_settings(args: argparse.Namespace, **overrides: Any) -> ClusterSettings:
    """Cluster settings from ``--config``, the environment and ``--set`` options."""
    from springbatch_py.cluster.settings import parse_setting

    if args.config is not None and not args.config.is_file():
        raise ConfigurationError(f"no cluster settings file at {args.config}")
    values = dict(overrides)
    for text in args.overrides:
        name, sep, value = text.partition("=")
        if not sep:
            raise ConfigurationError(f"bad --set {text!r}: expected NAME=VALUE")
        key, parsed = parse_setting(name, value)
        values[key] = parsed
    return ClusterSettings.load(args.config, **values)


def load_object(reference: str, what: str) -> Any:
    """The object ``module:attribute`` names (the current directory is importable); when it is
    callable and takes no arguments, what it returns.

    Whatever goes wrong (no such module, a module that raises while it is imported, a missing
    attribute, a function that needs arguments or raises) is a :class:`ConfigurationError`
    naming the reference, so the command line answers with one line and exit 2.
    """
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigurationError(f"bad {what} reference {reference!r}: expected module:attribute")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(f"cannot import {module_name!r} for {what}: {exc}") from None
    except Exception as exc:
        raise ConfigurationError(
            f"{what} {reference}: importing {module_name!r} raised {_describe(exc)}"
        ) from None
    target: Any = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigurationError(
                f"{module_name!r} has no attribute {attribute!r} ({what})"
            ) from None
    if callable(target) and not _is_batch_object(target):
        needed = _required_parameters(target)
        if needed:
            raise ConfigurationError(
                f"{what} {reference}: a callable that needs arguments ({', '.join(needed)}); "
                f"{what} takes an object or a function without arguments that returns one"
            )
        try:
            target = target()
        except Exception as exc:
            raise ConfigurationError(
                f"{what} {reference}: calling it raised {_describe(exc)}"
            ) from None
    return target


def _required_parameters(function: Any) -> list[str]:
    """The parameters a call without arguments would miss (none when unknown)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [
        name
        for name, p in signature.parameters.items()
        if p.default is inspect.Parameter.empty and p.kind not in variadic
    ]


def _describe(error: BaseException) -> str:
    """An exception as ``Type: message`` on one line."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _is_batch_object(value: Any) -> bool:
    from springbatch_py.cluster.worker import StepRegistry
    from springbatch_py.core.job import Job
    from springbatch_py.core.launch import JobRegistry
    from springbatch_py.core.step import Step

    return isinstance(value, Job | Step | JobRegistry | StepRegistry)


def print_json(value: Any) -> None:
    """``value`` as indented JSON (dates ISO, decimals as strings)."""
    print(json.dumps(value, indent=2, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Iterable):
        return list(value)
    return str(value)


def print_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    empty: str = "(none)",
    out: Callable[[str], None] = print,
) -> None:
    """Rows as aligned columns under a header; ``empty`` when there are none."""
    cells = [[format_cell(v) for v in row] for row in rows]
    if not cells:
        out(empty)
        return
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    out(line)
    for row in cells:
        out("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def format_cell(value: Any) -> str:
    """A value as a table shows it."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, timedelta):
        return f"{value.total_seconds():.1f}s"
    return str(value)
