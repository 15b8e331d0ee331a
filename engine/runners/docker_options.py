"""Kestra's Docker runner options (taskRunner or the deprecated `docker:` block) as container settings.

Supported: pullPolicy, user, entryPoint, env, volumes, networkMode, memory, cpu, extraHosts,
host, shmSize, privileged, credentials. Options Kestra has but that mean nothing here (delete,
wait, resume, fileHandlingStrategy, deviceRequests, config...) are listed in `ignored`, so the
task can say once that they had no effect. A malformed value is a TaskFailure naming the option.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import TaskFailure
from engine.runners.docker_engine import PULL_POLICIES

SUPPORTED = {"pullPolicy", "user", "entryPoint", "env", "volumes", "networkMode", "memory", "cpu",
             "extraHosts", "host", "shmSize", "privileged", "credentials", "image", "type"}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024 ** 2, "mb": 1024 ** 2,
          "mib": 1024 ** 2, "g": 1024 ** 3, "gb": 1024 ** 3, "gib": 1024 ** 3,
          "t": 1024 ** 4, "tb": 1024 ** 4, "tib": 1024 ** 4}


@dataclass(frozen=True)
class ContainerSettings:
    """What a container run needs from the flow: image, pull policy and the create options."""

    image: str
    pull_policy: str = "IF_NOT_PRESENT"
    host: str | None = None
    user: str | None = None
    entrypoint: list[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    volumes: list[str] = field(default_factory=list)
    network_mode: str | None = None
    mem_limit: int | None = None
    memswap_limit: int | None = None
    mem_reservation: int | None = None
    nano_cpus: int | None = None
    extra_hosts: dict[str, str] = field(default_factory=dict)
    shm_size: int | None = None
    privileged: bool = False
    auth: dict[str, str] | None = None
    ignored: tuple[str, ...] = ()

    def host_config_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `APIClient.create_host_config`, the bind mounts aside."""
        kwargs: dict[str, Any] = {
            "network_mode": self.network_mode,
            "mem_limit": self.mem_limit,
            "memswap_limit": self.memswap_limit,
            "mem_reservation": self.mem_reservation,
            "nano_cpus": self.nano_cpus,
            "extra_hosts": self.extra_hosts or None,
            "shm_size": self.shm_size,
            "privileged": self.privileged or None,
        }
        return {k: v for k, v in kwargs.items() if v is not None}


def parse_size(value: Any, option: str) -> int:
    """Bytes from 512, "512MB", "1g", "1.5GiB" (binary multiples, as the docker CLI reads them)."""
    if isinstance(value, bool):
        raise TaskFailure(f"Docker option '{option}': '{value}' is not a size")
    if isinstance(value, int | float):
        return int(value)
    match = _SIZE.match(str(value))
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise TaskFailure(f"Docker option '{option}': '{value}' is not a size (e.g. 512MB, 2GB)")
    return int(float(match.group(1)) * _UNITS[unit])


def _string_list(value: Any, option: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raise TaskFailure(f"Docker option '{option}' must be a list of strings")


def _string_map(value: Any, option: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TaskFailure(f"Docker option '{option}' must be a map")
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _extra_hosts(value: Any) -> dict[str, str]:
    hosts = {}
    for entry in _string_list(value, "extraHosts"):
        name, sep, address = entry.partition(":")
        if not sep or not name or not address:
            raise TaskFailure(f"Docker option 'extraHosts': '{entry}' is not HOST:IP")
        hosts[name] = address
    return hosts


def _volumes(value: Any) -> list[str]:
    volumes = _string_list(value, "volumes")
    for volume in volumes:
        if ":" not in volume:
            raise TaskFailure(f"Docker option 'volumes': '{volume}' is not HOST_PATH:CONTAINER_PATH[:ro]")
    return volumes


def _cpus(value: Any) -> int | None:
    if value is None:
        return None
    cpus = value.get("cpus") if isinstance(value, dict) else value
    if cpus is None:
        return None
    try:
        return int(float(cpus) * 1_000_000_000)
    except (TypeError, ValueError):
        raise TaskFailure(f"Docker option 'cpu.cpus': '{cpus}' is not a number") from None


def _memory(value: Any) -> tuple[int | None, int | None, int | None]:
    if value is None:
        return None, None, None
    if not isinstance(value, dict):
        return parse_size(value, "memory"), None, None
    sizes = []
    for key in ("memory", "memorySwap", "memoryReservation"):
        raw = value.get(key)
        sizes.append(None if raw is None else parse_size(raw, f"memory.{key}"))
    return sizes[0], sizes[1], sizes[2]


def _credentials(value: Any) -> dict[str, str] | None:
    if not value:
        return None
    raw = _string_map(value, "credentials")
    names = {"username": "username", "password": "password", "registry": "serveraddress",
             "auth": "auth", "identityToken": "identitytoken", "registryToken": "registrytoken"}
    return {names[k]: v for k, v in raw.items() if k in names and v}


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def container_settings(image: str, options: dict[str, Any]) -> ContainerSettings:
    """Settings for `image` from the runner options a flow gave (already rendered)."""
    policy = str(options.get("pullPolicy") or "IF_NOT_PRESENT").upper()
    if policy not in PULL_POLICIES:
        raise TaskFailure(f"Docker option 'pullPolicy': '{policy}' is not one of {', '.join(PULL_POLICIES)}")
    entrypoint = options.get("entryPoint")
    memory, memory_swap, memory_reservation = _memory(options.get("memory"))
    shm = options.get("shmSize")
    return ContainerSettings(
        image=image,
        pull_policy=policy,
        host=str(options["host"]) if options.get("host") else None,
        user=str(options["user"]) if options.get("user") not in (None, "") else None,
        entrypoint=None if entrypoint is None else _string_list(entrypoint, "entryPoint"),
        env=_string_map(options.get("env"), "env"),
        volumes=_volumes(options.get("volumes")),
        network_mode=str(options["networkMode"]) if options.get("networkMode") else None,
        mem_limit=memory,
        memswap_limit=memory_swap,
        mem_reservation=memory_reservation,
        nano_cpus=_cpus(options.get("cpu")),
        extra_hosts=_extra_hosts(options.get("extraHosts")),
        shm_size=None if shm is None else parse_size(shm, "shmSize"),
        privileged=_bool(options.get("privileged", False)),
        auth=_credentials(options.get("credentials")),
        ignored=tuple(sorted(k for k in options if k not in SUPPORTED)),
    )
