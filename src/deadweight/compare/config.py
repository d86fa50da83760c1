"""What the two configs say differently: the run-time settings a user sees.

Scalar fields compare as display strings; env, labels, exposed ports and volumes compare
key by key. ``architecture`` is ``os/arch[/variant]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from deadweight.compare.result import ConfigChange
from deadweight.spec.config import ImageConfig

SCALARS = ("architecture", "user", "entrypoint", "cmd", "workdir", "healthcheck")
KEYED = ("env", "ports", "volumes", "labels")


def platform(config: ImageConfig) -> str:
    parts = [config.os or "", config.architecture or ""]
    if config.variant:
        parts.append(config.variant)
    return "/".join(parts)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def scalars(config: ImageConfig) -> dict[str, str | None]:
    c = config.container_config
    return {
        "architecture": platform(config),
        "user": str(c.get("User") or ""),
        "entrypoint": _json(c.get("Entrypoint")),
        "cmd": _json(c.get("Cmd")),
        "workdir": str(c.get("WorkingDir") or ""),
        "healthcheck": _json(c.get("Healthcheck")),
    }


def _keys(value: object) -> dict[str, str]:
    return {str(k): "" for k in value} if isinstance(value, Mapping) else {}


def keyed(config: ImageConfig) -> dict[str, dict[str, str]]:
    c = config.container_config
    env: dict[str, str] = {}
    for item in c.get("Env") or ():
        name, _, value = str(item).partition("=")
        env[name] = value
    labels = c.get("Labels")
    return {
        "env": env,
        "ports": _keys(c.get("ExposedPorts")),
        "volumes": _keys(c.get("Volumes")),
        "labels": {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
    }


def diff_config(a: ImageConfig, b: ImageConfig) -> tuple[ConfigChange, ...]:
    """Changes in a fixed field order, keys sorted within a field."""
    out: list[ConfigChange] = []
    sa, sb = scalars(a), scalars(b)
    for name in SCALARS:
        if sa[name] != sb[name]:
            out.append(ConfigChange(name, "", sa[name], sb[name]))
    ka, kb = keyed(a), keyed(b)
    for name in KEYED:
        old, new = ka[name], kb[name]
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                out.append(ConfigChange(name, key, old.get(key), new.get(key)))
    return tuple(out)
