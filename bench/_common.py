"""What the benchmarks share: scratch databases, repeated runs, and tables with the load beside.

Every figure a benchmark prints is the min / median / max of several runs, with the 1-minute
load average read at the end of each run beside it: a figure taken on a busy machine says so.
Scratch databases come from :mod:`springbatch_py.testing.engines` (the test suite's providers:
a unique name on the local PostgreSQL/MariaDB, a temporary SQLite file) and are dropped after.
Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from springbatch_py.testing.engines import PROVIDERS, Provider

DEFAULT_ENGINES = "sqlite,postgresql,mariadb"


def load_average() -> float:
    """The 1-minute load average now."""
    return os.getloadavg()[0]


@dataclass
class Series:
    """Values of one figure over several runs, each with the load average at its end."""

    name: str
    unit: str = ""
    values: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def add(self, value: float, load: float | None = None) -> None:
        """One run's value, with the load average now (or the one given)."""
        self.values.append(value)
        self.loads.append(load_average() if load is None else load)

    def cell(self, digits: int = 1) -> str:
        """``min / median / max unit``, or ``-`` when no run gave a value."""
        if not self.values:
            return "-"
        low, mid, high = min(self.values), statistics.median(self.values), max(self.values)
        unit = f" {self.unit}" if self.unit else ""
        return f"{low:.{digits}f} / {mid:.{digits}f} / {high:.{digits}f}{unit}"

    def load_cell(self) -> str:
        """The load averages of the runs, as ``low-high``."""
        if not self.loads:
            return "-"
        return f"{min(self.loads):.1f}-{max(self.loads):.1f}"


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of ``values`` (``share`` in 0..1)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(share * len(ordered) + 0.999999) - 1))
    return ordered[index]


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain aligned table (also valid Markdown), with a title line."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(f"\n{title}")
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print(line(row))
    sys.stdout.flush()


def engines_argument(parser: argparse.ArgumentParser, default: str = DEFAULT_ENGINES) -> None:
    """``--engines a,b,c``."""
    parser.add_argument(
        "--engines",
        default=default,
        help=f"comma-separated engines (default {default}); each needs a reachable server",
    )


def engine_list(text: str) -> list[str]:
    """The engines named by ``--engines``, checked."""
    names = [e.strip() for e in text.split(",") if e.strip()]
    unknown = [e for e in names if e not in PROVIDERS]
    if unknown:
        raise SystemExit(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(PROVIDERS)}")
    return names


_providers: dict[str, Provider] = {}


def provider(engine: str) -> Provider | None:
    """The engine's provider, or None (its reason printed) when it has no server here."""
    if engine not in _providers:
        _providers[engine] = PROVIDERS[engine]()
    found = _providers[engine]
    if not found.probe():
        print(f"{engine}: skipped, {found.reason}", file=sys.stderr)
        return None
    return found


@contextmanager
def scratch(engine: str) -> Iterator[str | None]:
    """A fresh scratch database's URL on ``engine`` (None when the engine has no server),
    dropped afterwards."""
    found = provider(engine)
    if found is None:
        yield None
        return
    database = found.create()
    try:
        yield database.url
    finally:
        database.drop()


def create_tables(url: str) -> None:
    """Create whatever is missing of Spring Batch's tables and the cluster tables in the
    database of ``url`` (a scratch database starts empty)."""
    from springbatch_py.db.database import Database
    from springbatch_py.db.schema import create_schema

    with Database.open(url) as db:
        create_schema(db)


def repeat(runs: int, one: Callable[[int], None]) -> None:
    """Call ``one(run_index)`` ``runs`` times."""
    for index in range(runs):
        one(index)


def close_providers() -> None:
    """Drop what the providers keep (SQLite's folder, containers)."""
    for found in _providers.values():
        found.close()
