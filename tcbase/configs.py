"""Copying configs and describing their fields, for keys and error messages."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any


def field_names(config: Any) -> list[str]:
    """Return the names of a config's fields: dataclass fields, or instance state."""
    if dataclasses.is_dataclass(config):
        return [field.name for field in dataclasses.fields(config)]
    names: list[str] = []
    for klass in type(config).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    names = [name for name in names if name not in ("__dict__", "__weakref__")]
    names.extend(getattr(config, "__dict__", {}))
    return sorted(dict.fromkeys(names))


def _default_of(config: Any, name: str) -> Any:
    for field in dataclasses.fields(config):
        if field.name == name:
            if field.default is not dataclasses.MISSING:
                return field.default
            if field.default_factory is not dataclasses.MISSING:
                return field.default_factory()
    return dataclasses.MISSING


def describe_fields(config: Any, names: list[str]) -> dict[str, str]:
    """Return ``{field: repr(value)}`` for the named fields worth showing.

    For a dataclass, fields still at their default are left out, except
    ``model_id``; for other classes every named field is shown.
    """
    shown: dict[str, str] = {}
    is_dataclass = dataclasses.is_dataclass(config)
    for name in names:
        if name.startswith("__"):
            continue
        value = getattr(config, name, dataclasses.MISSING)
        if value is dataclasses.MISSING:
            continue
        if is_dataclass and name != "model_id":
            default = _default_of(config, name)
            try:
                if default is not dataclasses.MISSING and default == value:
                    continue
            except Exception:  # an odd __eq__ only costs us brevity
                pass
        shown[name] = repr(value)
    return shown


def model_id_of(config: Any) -> str:
    """Return the model id a config names, or its type's name."""
    model_id = getattr(config, "model_id", None)
    if isinstance(model_id, str) and model_id:
        return model_id
    return type(config).__qualname__


def copy_config(config: Any) -> Any:
    """Return a deep copy of a config."""
    return copy.deepcopy(config)
