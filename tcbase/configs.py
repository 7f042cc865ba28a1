"""Copying configs and describing their fields, for keys and error messages."""

from __future__ import annotations

import copy
import dataclasses
import warnings
from typing import Any

from .errors import ArtifactError, TcbaseWarning


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
    """Return a deep copy of a config, or an error naming what cannot be copied."""
    try:
        return copy.deepcopy(config)
    except Exception as error:
        what = _what_cannot_be_copied(config, "field")
        raise ArtifactError(
            f"cannot copy the {type(config).__qualname__} config of "
            f"{model_id_of(config)!r}: {what} cannot be deep-copied "
            f"({type(error).__name__}: {error}). tcbase builds from copies so that "
            "no build changes the caller's config; make that field copyable (a "
            "__deepcopy__), or keep it out of the config."
        ) from error


_ABSENT = object()


def _what_cannot_be_copied(config: Any, noun: str) -> str:
    """Name the first field or attribute of ``config`` that deepcopy refuses."""
    names = dict.fromkeys([*field_names(config), *getattr(config, "__dict__", {})])
    for name in names:
        try:
            copy.deepcopy(getattr(config, name))
        except Exception:
            return f"its {noun} {name!r}"
    return "it"


def copy_hf_config(config: Any, model_id: str, warned: set[str]) -> Any:
    """Return a deep copy of a cached HF config that equals it.

    When ``copy.deepcopy`` fails, rebuild the same class from its dict, with
    one ``TcbaseWarning`` per model id (``warned`` remembers them).
    """
    try:
        return copy.deepcopy(config)
    except Exception as error:
        deep_copy_error = error
    try:
        rebuilt = type(config).from_dict(config.to_dict())
        # from_dict fills in bookkeeping (transformers_version); carry the
        # cached config's own values over, attribute by attribute.
        for name, value in vars(config).items():
            if vars(rebuilt).get(name, _ABSENT) != value:
                setattr(rebuilt, name, copy.deepcopy(value))
        if rebuilt != config:
            raise ValueError("the rebuilt config differs from the cached one")
    except Exception as error:
        what = _what_cannot_be_copied(config, "attribute")
        raise ArtifactError(
            f"cannot hand out a copy of the config of {model_id!r}: {what} cannot "
            f"be deep-copied ({type(deep_copy_error).__name__}: {deep_copy_error}), "
            f"and rebuilding it from its dict failed ({error}). Remove or replace "
            "that attribute, or give it a __deepcopy__."
        ) from deep_copy_error
    if model_id not in warned:
        warned.add(model_id)
        warnings.warn(
            f"copy.deepcopy of the config of {model_id!r} failed "
            f"({type(deep_copy_error).__name__}: {deep_copy_error}); tcbase hands "
            f"out copies rebuilt with {type(config).__name__}.from_dict(to_dict())",
            TcbaseWarning,
            stacklevel=4,
        )
    return rebuilt
