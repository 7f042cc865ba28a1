"""Turn config field values into hashable, type-tagged cache-key parts.

Two values freeze equal exactly when they are of the same type and equal, with a
NaN equal to a NaN; containers and dataclasses freeze element by element.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types
from typing import Any

from .errors import UnfreezableValue

_SCALARS = (type(None), bool, int, str, bytes, complex)


def _type_tag(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def _float(value: float) -> str:
    # hex() is exact and tells -0.0 from 0.0; every NaN is one value here.
    return "nan" if math.isnan(value) else value.hex()


# Values whose identity is their meaning, and which deep copies keep.
_BY_IDENTITY = (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType)


def _unfreezable(value: Any, where: str, why: str) -> UnfreezableValue:
    return UnfreezableValue(
        f"cannot use {where} of type {_type_tag(value)} in a cache key: {why}. Give "
        "its builder an explicit key with tcbase.register_builder(config_type, "
        "build, key=...)."
    )


def freeze(value: Any, *, where: str = "value") -> Any:
    """Return a hashable stand-in for ``value``; ``where`` names it in errors.

    Types are part of the result as class objects, so values of two classes
    never collide, even classes of one name.
    """
    kind = type(value)
    if kind in _SCALARS:
        return (kind.__name__, value)
    if kind is float:
        return ("float", _float(value))
    if kind is complex:
        return ("complex", _float(value.real), _float(value.imag))
    if isinstance(value, enum.Enum):
        return (kind, value.name, freeze(value.value, where=where))
    if kind.__module__ == "torch" and kind.__name__ in ("dtype", "device"):
        return (kind.__name__, str(value))
    if isinstance(value, (list, tuple)):
        items = tuple(
            freeze(item, where=f"{where}[{index}]") for index, item in enumerate(value)
        )
        return (kind, items)
    if isinstance(value, dict):
        # Insertion order is kept: a build may iterate the dict.
        pairs = tuple(
            (freeze(key, where=f"{where} key"), freeze(item, where=f"{where}[{key!r}]"))
            for key, item in value.items()
        )
        return (kind, pairs)
    if isinstance(value, (set, frozenset)):
        members = frozenset(freeze(item, where=f"{where} member") for item in value)
        return (kind, members)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = tuple(
            (
                field.name,
                freeze(getattr(value, field.name), where=f"{where}.{field.name}"),
            )
            for field in dataclasses.fields(value)
        )
        return (kind, parts)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and kind.__module__.startswith("transformers"):
        return (kind, freeze(to_dict(), where=where))
    if isinstance(value, _BY_IDENTITY):
        return (kind, value)
    if kind.__module__.startswith("torch"):
        raise _unfreezable(
            value, where, "torch objects compare by identity or by element"
        )
    try:
        hash(value)
    except TypeError:
        raise _unfreezable(
            value,
            where,
            "it is not hashable and not a list, tuple, dict, set, dataclass or enum",
        ) from None
    if kind.__eq__ is object.__eq__:
        # Equal only to itself, and a deep copy is another object: compare the
        # instance's state instead, or never hit.
        state = getattr(value, "__dict__", None)
        if state is None:
            raise _unfreezable(value, where, "it compares by identity and has no state")
        return (kind, "state", freeze(state, where=where))
    return (kind, value)
