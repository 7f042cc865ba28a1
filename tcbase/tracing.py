"""Traced config copies: learn which fields a build really reads.

The builder gets a copy whose class is a throw-away subclass that notes every
field read through ``self``, in order. Whole-instance access (``__dict__``,
``vars``, copying, pickling) counts as reading every field. When the build
returns the copy becomes a plain instance of its own class again.
"""

from __future__ import annotations

import copy
import copyreg
import threading
import warnings
from typing import Any

from .configs import field_names
from .errors import TcbaseWarning

# Names through which a caller sees the whole instance at once.
_WHOLE_INSTANCE = frozenset(
    {
        "__dict__",
        "__getstate__",
        "__reduce__",
        "__reduce_ex__",
        "__deepcopy__",
        "__copy__",
    }
)

_warned_types: set[type] = set()
_warned_lock = threading.Lock()


class Recorder:
    """The fields one build read, in the order it first read them."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        self._field_set = frozenset(fields)
        self.order: list[str] = []
        self._seen: set[str] = set()
        self.active = True

    def touch(self, name: str) -> None:
        if self.active and name not in self._seen:
            self._seen.add(name)
            self.order.append(name)

    def touch_all(self) -> None:
        for name in self.fields:
            self.touch(name)

    def is_field(self, name: str) -> bool:
        return name in self._field_set


def _traced_class(klass: type, recorder: Recorder) -> type:
    class_names = frozenset(dir(klass))

    def __getattribute__(self: Any, name: str) -> Any:
        if recorder.active:
            if recorder.is_field(name):
                recorder.touch(name)
            elif name in _WHOLE_INSTANCE:
                recorder.touch_all()
            elif name not in class_names:
                # Not a field and not on the class: instance state the config
                # lacks (getattr with a default), or that the builder set.
                recorder.touch(name)
        return klass.__getattribute__(self, name)

    def __reduce_ex__(self: Any, protocol: Any) -> Any:
        # Copies and pickles made during the build are of the plain class.
        recorder.touch_all()
        reduced = klass.__reduce_ex__(self, protocol)
        if (
            isinstance(reduced, tuple)
            and reduced
            and reduced[0] is copyreg.__newobj__
            and reduced[1][0] is traced
        ):
            reduced = (reduced[0], (klass, *reduced[1][1:]), *reduced[2:])
        return reduced

    traced = type(
        klass.__name__,
        (klass,),
        {
            "__getattribute__": __getattribute__,
            "__reduce_ex__": __reduce_ex__,
            "__slots__": (),
            "__module__": klass.__module__,
            "__qualname__": klass.__qualname__,
        },
    )
    return traced


class TracedCopy:
    """A deep copy of a config, traced while the ``with`` block runs."""

    def __init__(self, config: Any) -> None:
        self.config = copy.deepcopy(config)
        self._klass = type(self.config)
        self.recorder = Recorder(field_names(self.config))
        self.traced = self._install()

    def _install(self) -> bool:
        try:
            traced = _traced_class(self._klass, self.recorder)
            object.__setattr__(self.config, "__class__", traced)
        except TypeError as error:
            self.recorder.active = False
            _warn_untraceable(self._klass, error)
            return False
        return True

    def __enter__(self) -> TracedCopy:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.recorder.active = False
        if self.traced:
            object.__setattr__(self.config, "__class__", self._klass)

    def read_fields(self) -> list[str]:
        """Return the fields the build read; every field if it was not traced."""
        if not self.traced:
            return list(self.recorder.fields)
        return list(self.recorder.order)


def _warn_untraceable(klass: type, error: Exception) -> None:
    with _warned_lock:
        if klass in _warned_types:
            return
        _warned_types.add(klass)
    warnings.warn(
        f"tcbase cannot trace which fields of {klass.__module__}.{klass.__qualname__} "
        f"a build reads ({error}); its models are keyed on all of its fields, so "
        "configs that differ in any field build separately",
        TcbaseWarning,
        stacklevel=4,
    )
