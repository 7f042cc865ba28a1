"""The lookup structure that maps a config to the built model it may share.

Every build is stored under the fields it read (its *signature*) and their
frozen values. Entries of one builder and config class are grouped by
signature, so a lookup freezes the signature's fields and makes one dict lookup
per distinct signature, however many entries there are.
"""

from __future__ import annotations

import operator
import threading
from typing import Any

from .errors import UnfreezableValue
from .freeze import freeze

MISSING = ("missing",)
"""The frozen stand-in for a field a config does not have."""

_ABSENT = object()


WHOLE = "<whole config>"
"""The pseudo-field of configs keyed on their whole value (dicts, tuples...)."""


def frozen_field(config: Any, field: str) -> Any:
    """Return the frozen value of one field of ``config``, MISSING if absent."""
    if field == WHOLE:
        return freeze(config, where=f"the {type(config).__qualname__} config")
    value = getattr(config, field, _ABSENT)
    if value is _ABSENT:
        return MISSING
    return _freeze_named(config, field, value)


def _freeze_named(config: Any, field: str, value: Any) -> Any:
    try:
        return freeze(value)
    except UnfreezableValue:
        return freeze(value, where=f"{type(config).__qualname__}.{field}")


class _Signature:
    """All entries of one builder and class that read the same fields."""

    __slots__ = ("fields", "entries", "_get")

    def __init__(self, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.entries: dict[tuple, Any] = {}
        getter = operator.attrgetter(*fields) if fields else (lambda config: ())
        self._get = (lambda c: (getter(c),)) if len(fields) == 1 else getter

    def values_of(self, config: Any) -> tuple:
        try:
            raw = self._get(config)
        except AttributeError:
            return tuple(frozen_field(config, field) for field in self.fields)
        try:
            return tuple(map(freeze, raw))
        except UnfreezableValue:
            return tuple(
                _freeze_named(config, field, value)
                for field, value in zip(self.fields, raw, strict=True)
            )


class KeyIndex:
    """Signatures and their entries, per builder and config class."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Any, type], list[_Signature]] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._groups.clear()

    def insert(
        self,
        builder: Any,
        klass: type,
        fields: tuple[str, ...],
        values: tuple,
        leaf: Any,
    ) -> None:
        """Store ``leaf`` for configs of ``klass`` whose ``fields`` equal ``values``."""
        with self._lock:
            group = self._groups.setdefault((builder, klass), [])
            for signature in group:
                if signature.fields == fields:
                    break
            else:
                signature = _Signature(fields)
                group.append(signature)
            signature.entries[values] = leaf

    def lookup(self, builder: Any, config: Any) -> Any:
        """Return the leaf whose fields all agree with ``config``, or None."""
        group = self._groups.get((builder, type(config)))
        if not group:
            return None
        for signature in group:
            leaf = signature.entries.get(signature.values_of(config))
            if leaf is not None:
                return leaf
        return None

    def remove(
        self, builder: Any, klass: type, fields: tuple[str, ...], values: tuple
    ) -> None:
        """Forget the leaf stored for these fields and values, if any."""
        with self._lock:
            for signature in self._groups.get((builder, klass), ()):
                if signature.fields == fields:
                    signature.entries.pop(values, None)
