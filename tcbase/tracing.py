"""Traced config copies: learn which fields a build really reads.

The builder gets a copy whose class is a throw-away subclass that notes every
field read through ``self``, in order. Whole-instance access (``__dict__``,
``vars``, copying, pickling) counts as reading every field. When the build
returns the copy becomes a plain instance of its own class again.
"""

from __future__ import annotations

import copy
import copyreg
import inspect
import threading
import warnings
from typing import Any

from .configs import field_names
from .errors import TcbaseWarning
from .index import WHOLE

_WHOLE_VALUE_TYPES = (tuple, list, dict, set, frozenset)

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
        self.field_set = frozenset(fields)
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
        return name in self.field_set


def _method_like_names(klass: type) -> frozenset[str]:
    """Names on the class that bind or compute (methods, properties): not state.

    A property is not state itself; the fields its getter reads are traced.
    Plain values on the class are state: an instance may shadow them.
    """
    names = set()
    for name in dir(klass):
        try:
            found = inspect.getattr_static(klass, name)
        except AttributeError:
            continue
        if hasattr(found, "__get__"):
            names.add(name)
    return frozenset(names)


_OBJECT_CLASS = object.__dict__["__class__"]


def _traced_class(klass: type, recorder: Recorder) -> type:
    method_like = _method_like_names(klass) - recorder.field_set

    def __getattribute__(self: Any, name: str) -> Any:
        if recorder.active:
            if recorder.is_field(name):
                recorder.touch(name)
            elif name in _WHOLE_INSTANCE:
                recorder.touch_all()
            elif not (name.startswith("__") and name.endswith("__")) and (
                name not in method_like
            ):
                # Instance state outside the fields (set by the builder, or
                # shadowing a class value), a plain class value, or a name the
                # config lacks (getattr with a default).
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

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        # type(config)(...) in a build makes a plain instance.
        return klass(*args, **kwargs)

    def _get_class(self: Any) -> type:
        return klass

    def _set_class(self: Any, value: type) -> None:
        _OBJECT_CLASS.__set__(self, value)

    traced = type(
        klass.__name__,
        (klass,),
        {
            "__getattribute__": __getattribute__,
            "__reduce_ex__": __reduce_ex__,
            "__new__": __new__,
            # obj.__class__ names the plain class (pickle and
            # dataclasses.replace rely on it); type(obj) is still the tracer.
            "__class__": property(_get_class, _set_class),
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
        if isinstance(self.config, _WHOLE_VALUE_TYPES) or not self.recorder.fields:
            # Containers are read by index and iteration, which no attribute
            # access sees; they are keyed on their whole value.
            self.recorder.active = False
            return False
        try:
            traced = _traced_class(self._klass, self.recorder)
            _OBJECT_CLASS.__set__(self.config, traced)
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
            _OBJECT_CLASS.__set__(self.config, self._klass)

    def read_fields(self) -> list[str]:
        """Return the fields the build read; every field if it was not traced."""
        if isinstance(self.config, _WHOLE_VALUE_TYPES) or not self.recorder.fields:
            return [WHOLE, *self.recorder.fields]
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
