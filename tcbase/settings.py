"""Run-time switches, from the environment, overridable by the pytest plugin.

Read once at import so that a cache hit pays nothing for them; the plugin
sets them again from its command-line options and ini keys.
"""

from __future__ import annotations

import dataclasses
import os

GUARD_MODES = ("on", "off", "strict")


@dataclasses.dataclass
class Settings:
    audit: bool = False
    guard: str = "on"
    max_models: int | None = None
    report_path: str | None = None


def parse_guard(value: str, source: str) -> str:
    """Turn a guard setting into one of GUARD_MODES; refuse anything else."""
    spelled = value.strip().lower()
    mode = {"0": "off", "1": "on", "false": "off", "true": "on"}.get(spelled, spelled)
    if mode not in GUARD_MODES:
        raise ValueError(
            f"{source}={value!r} is not a guard mode; use on (1), off (0) or strict"
        )
    return mode


def parse_flag(value: str, source: str) -> bool:
    """Turn an on/off setting into a bool; refuse anything else."""
    spelled = value.strip().lower()
    if spelled in ("", "0", "false", "no", "off"):
        return False
    if spelled in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"{source}={value!r} is neither on (1) nor off (0)")


def parse_max_models(value: str, source: str) -> int | None:
    """Turn a bound on cached models into a positive int, or None for no bound."""
    spelled = str(value).strip().lower()
    if spelled in ("", "0", "none"):
        return None
    try:
        bound = int(spelled)
    except ValueError:
        bound = -1
    if bound < 1:
        raise ValueError(
            f"{source}={value!r} is not a number of models; use a positive whole "
            "number, or 0 for no bound"
        )
    return bound


def from_environment(environ: dict[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    return Settings(
        audit=parse_flag(environ.get("TCBASE_AUDIT", ""), "TCBASE_AUDIT"),
        guard=parse_guard(environ.get("TCBASE_GUARD", "on"), "TCBASE_GUARD"),
        max_models=parse_max_models(
            environ.get("TCBASE_MAX_MODELS", ""), "TCBASE_MAX_MODELS"
        ),
        report_path=environ.get("TCBASE_REPORT") or None,
    )


current = from_environment()
