"""Cluster settings, under the Java library's property names and defaults.

Every setting has the name of its ``spring.batch.cluster.*`` property (in kebab case) and the
Java default; durations are milliseconds. Settings come from code, from a file
(``.properties`` with the Java keys, or ``.json``/``.toml``) and from environment variables in
Spring Boot's form (``SPRING_BATCH_CLUSTER_HEARTBEAT_INTERVAL=3000``), later sources winning.

All nodes of one cluster, Java or Python, must use the same thresholds: the node that sweeps
decides who is evicted.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from springbatch_py.errors import ConfigurationError

PREFIX = "spring.batch.cluster."
ENV_PREFIX = "SPRING_BATCH_CLUSTER_"


@dataclass(frozen=True)
class ClusterSettings:
    """How a node takes part in the cluster (``spring.batch.cluster.*``)."""

    #: Prefix of the node id ``<prefix>-<uuid4>`` (Java: the host name).
    node_id_prefix: str = field(default_factory=lambda: socket.gethostname() or "node")
    #: ``HOST_NAME`` or ``IP_ADDRESS``: what goes into ``HOST_IDENTIFIER``.
    host_identifier: str = "HOST_NAME"
    #: Record the master's phase events in ``BATCH_JOB_PHASE_EVENTS``.
    capture_phase_timings: bool = False
    #: Partitions a node runs at once.
    concurrency_limit_per_node: int = 10
    #: Heartbeat, node-list refresh and running-partition refresh cadence.
    heartbeat_interval: int = 3000
    #: How often a node marks silent nodes UNREACHABLE.
    unreachable_node_thread_interval: int = 5000
    #: How often a node removes UNREACHABLE nodes.
    node_cleanup_thread_interval: int = 5000
    #: Silence after which a node is marked UNREACHABLE.
    unreachable_node_threshold: int = 10000
    #: Silence after which an UNREACHABLE node is removed, and a partition's silence before its
    #: removed node's work is recovered.
    node_cleanup_threshold: int = 30000
    #: How often a worker polls for partitions assigned to it.
    task_polling_interval: int = 1000
    #: How often a master looks for orphaned partitions.
    orphaned_tasks_polling_interval: int = 1000
    #: How often a master counts open partitions.
    master_task_status_check_interval: int = 500
    #: How often a node looks for jobs whose master was lost.
    orphaned_master_scan_interval: int = 10000
    #: Verbose logging.
    tracing_enabled: bool = False

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int" and (not isinstance(value, int) or isinstance(value, bool)):
                raise ConfigurationError(f"{PREFIX}{_kebab(f.name)} must be an integer: {value!r}")
            if f.type == "int" and value <= 0:
                raise ConfigurationError(f"{PREFIX}{_kebab(f.name)} must be positive: {value}")
        if self.host_identifier not in ("HOST_NAME", "IP_ADDRESS"):
            raise ConfigurationError(
                f"{PREFIX}host-identifier must be HOST_NAME or IP_ADDRESS: {self.host_identifier!r}"
            )
        if not self.node_id_prefix.strip():
            raise ConfigurationError(f"{PREFIX}node-id-prefix must not be blank")
        if len(self.node_id_prefix.strip()) > 63:
            # assigned_node is VARCHAR(100): prefix, '-', and a 36-character UUID must fit.
            raise ConfigurationError(f"{PREFIX}node-id-prefix must be at most 63 characters")
        if self.node_cleanup_threshold < self.unreachable_node_threshold:
            raise ConfigurationError(
                f"{PREFIX}node-cleanup-threshold must not be below unreachable-node-threshold"
            )

    def replace(self, **changes: Any) -> ClusterSettings:
        """A copy with some settings changed."""
        return dataclasses.replace(self, **changes)

    def to_properties(self) -> dict[str, str]:
        """The settings as Java properties."""
        return {
            f"{PREFIX}{_kebab(f.name)}": _java_text(getattr(self, f.name)) for f in fields(self)
        }

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        base: ClusterSettings | None = None,
        **overrides: Any,
    ) -> ClusterSettings:
        """``base`` (or the Java defaults), then the file at ``path``, then the environment,
        then ``overrides``."""
        values: dict[str, Any] = dataclasses.asdict(base) if base is not None else {}
        if path is not None:
            values.update(_from_file(Path(path)))
        values.update(_from_environment(os.environ if environ is None else environ))
        values.update(overrides)
        return cls(**values)


_FIELDS = {f.name: f for f in fields(ClusterSettings)}
#: Java properties that springbatch-py reads but does not need (accepted, ignored).
_IGNORED = {"enabled", "node-id", "initialize-schema", "completed-tasks-cleanup-polling-interval"}


def _kebab(name: str) -> str:
    return name.replace("_", "-")


def _java_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _convert(name: str, raw: Any, source: str) -> Any:
    kind = _FIELDS[name].type
    if kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        try:
            return int(str(raw).strip().removesuffix("ms"))
        except ValueError:
            raise ConfigurationError(
                f"{source}: {_kebab(name)} must be an integer: {raw!r}"
            ) from None
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text not in ("true", "false"):
            raise ConfigurationError(f"{source}: {_kebab(name)} must be true or false: {raw!r}")
        return text == "true"
    return str(raw).strip()


def _accept(key: str, raw: Any, source: str, into: dict[str, Any]) -> None:
    name = key.strip().lower().replace("-", "_").replace(".", "_")
    if key.strip().lower() in _IGNORED:
        return
    if name not in _FIELDS:
        raise ConfigurationError(f"{source}: unknown cluster setting {_kebab(name)!r}")
    into[name] = _convert(name, raw, source)


def _from_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigurationError(f"cluster settings file {path} does not exist")
    values: dict[str, Any] = {}
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".json", ".toml"):
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        for key, raw in _flatten(data).items():
            key = key.removeprefix(PREFIX)
            if "." in key:
                continue  # other settings of a shared file
            _accept(key, raw, str(path), values)
        return values
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, raw = line.partition("=") if "=" in line else line.partition(":")
        if not sep:
            raise ConfigurationError(f"{path}:{number}: expected key=value")
        if key.strip().startswith(PREFIX):
            _accept(key.strip()[len(PREFIX) :], raw.strip(), f"{path}:{number}", values)
    return values


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = value
    return flat


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name.replace("_", "-") in _IGNORED:
                continue
            _accept(name, raw, f"environment {key}", values)
    return values


def parse_setting(name: str, value: str) -> tuple[str, Any]:
    """One setting given as text (``heartbeat-interval``, ``3000``; the ``spring.batch.cluster.``
    prefix is optional): its field name and typed value."""
    key = name.strip().removeprefix(PREFIX)
    values: dict[str, Any] = {}
    _accept(key, value, f"setting {name!r}", values)
    if not values:
        raise ConfigurationError(f"setting {name!r} is accepted but not used by springbatch-py")
    ((field_name, parsed),) = values.items()
    return field_name, parsed
