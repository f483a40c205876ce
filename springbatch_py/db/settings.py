"""Database settings shared by every springbatch-py component."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from springbatch_py.errors import ConfigurationError

#: Environment variable overriding the default time zone.
TIME_ZONE_ENV = "SPRINGBATCH_TIME_ZONE"


def _default_zone() -> str:
    return os.environ.get(TIME_ZONE_ENV, "UTC")


@dataclass(frozen=True)
class DatabaseSettings:
    """How springbatch-py talks to the database.

    Parameters
    ----------
    time_zone:
        IANA zone name. Spring Batch stores naive wall-clock times of the JVM default zone, and
        the cluster library computes liveness with the database clock in the session zone; every
        node, Java or Python, must use the same zone. Defaults to ``UTC`` (or the environment
        variable ``SPRINGBATCH_TIME_ZONE``).
    """

    time_zone: str = field(default_factory=_default_zone)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigurationError(f"unknown time zone {self.time_zone!r}") from None

    @property
    def zone(self) -> ZoneInfo:
        """The configured zone."""
        return ZoneInfo(self.time_zone)
