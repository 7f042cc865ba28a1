"""Turn config field values into hashable, type-tagged cache-key parts.

Two values freeze equal exactly when they are of the same type and equal, with a
NaN equal to a NaN; containers and dataclasses freeze element by element.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from typing import Any

from .errors import UnfreezableValue

_SCALARS = (type(None), bool, int, str, bytes, complex)


def _type_tag(value: Any) -> str:
    kind = type(value)
    return f"{kind.__module__}.{kind.__qualname__}"


def freeze(value: Any, *, where: str = "value") -> Any:
    """Return a hashable stand-in for ``value``; ``where`` names it in errors."""
    kind = type(value)
    if kind in _SCALARS:
        return (kind.__name__, value)
    if kind is float:
        return ("float", "nan") if math.isnan(value) else ("float", value)
    if isinstance(value, enum.Enum):
        return ("enum", _type_tag(value), value.name)
    if kind.__module__ == "torch" and kind.__name__ in ("dtype", "device"):
        return (kind.__name__, str(value))
    if isinstance(value, (list, tuple)):
        items = tuple(
            freeze(item, where=f"{where}[{index}]") for index, item in enumerate(value)
        )
        return (_type_tag(value), items)
    if isinstance(value, dict):
        pairs = [
            (freeze(key, where=f"{where} key"), freeze(item, where=f"{where}[{key!r}]"))
            for key, item in value.items()
        ]
        pairs.sort(key=repr)
        return (_type_tag(value), tuple(pairs))
    if isinstance(value, (set, frozenset)):
        members = frozenset(freeze(item, where=f"{where} member") for item in value)
        return (_type_tag(value), members)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        parts = tuple(
            (
                field.name,
                freeze(getattr(value, field.name), where=f"{where}.{field.name}"),
            )
            for field in dataclasses.fields(value)
        )
        return (_type_tag(value), parts)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and kind.__module__.startswith("transformers"):
        return (_type_tag(value), freeze(to_dict(), where=where))
    try:
        hash(value)
    except TypeError:
        raise UnfreezableValue(
            f"cannot use {where} of type {_type_tag(value)} in a cache key: it is not "
            "hashable and not a list, tuple, dict, set, dataclass or enum. Give its "
            "builder an explicit key with tcbase.register_builder(config_type, build, "
            "key=...)."
        ) from None
    return (_type_tag(value), value)
