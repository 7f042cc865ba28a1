"""The process-wide cache of HF configs and built models.

``_HF_CONFIG_CACHE`` and ``_BUILT_MODEL_CACHE`` are the single source of truth:
the test-case mixin, the pytest plugin and ``tcbase.compat`` all read and write
these two dictionaries, so a run mixing both styles builds each model once.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
import traceback
import unittest
from typing import Any

from . import audit, guard, loaders, settings
from .builders import Builder, builder_for
from .configs import (
    copy_config,
    copy_hf_config,
    describe_fields,
    field_names,
    model_id_of,
)
from .context import current_test
from .errors import ArtifactError
from .flights import ExactFlights, Flight, TracedFlights
from .freeze import freeze
from .index import KeyIndex, frozen_field
from .stats import CacheInfo, Stats
from .tracing import TracedCopy

logger = logging.getLogger("tcbase")

_CLASS_FIELD = "__class__"
_ABSENT = object()

_HF_CONFIG_CACHE: dict[Any, Any] = {}
_BUILT_MODEL_CACHE: dict[Any, Any] = {}

_STATS = Stats()
_INDEX = KeyIndex()
_LOCK = threading.RLock()
_ENTRIES: dict[Any, _Entry] = {}
_CONFIG_FAILURES: dict[Any, _Failure] = {}
_KEYED_FAILURES: dict[Any, _Failure] = {}
_EXACT_FLIGHTS = ExactFlights()
_TRACED_FLIGHTS = TracedFlights([_CLASS_FIELD])
_COPY_WARNED: set[str] = set()


@dataclasses.dataclass
class _Entry:
    """What tcbase knows of one cached model; never the model itself."""

    model_id: str
    builder: str
    seconds: float
    key_fields: dict[str, str]
    config: Any
    guard_ignore: frozenset[str] = frozenset()
    fingerprint: Any = None
    indexed_at: tuple | None = None


@dataclasses.dataclass(frozen=True)
class _ModelLeaf:
    key: Any


@dataclasses.dataclass
class _Failure:
    """A load or build that failed, re-raised for later requests of its key.

    It keeps the error as text: the exception's traceback would keep the
    frames of the failing test, and that test instance, alive.
    """

    what: str
    summary: str
    traceback: str
    first_test: str | None

    @classmethod
    def of(cls, what: str, error: BaseException) -> _Failure:
        text = "".join(traceback.format_exception(error))
        return cls(what, f"{type(error).__name__}: {error}", text, current_test())

    def reraise(self) -> None:
        where = f" (first in {self.first_test})" if self.first_test else ""
        raise ArtifactError(
            f"{self.what} failed earlier in this session{where}; tcbase does not "
            f"try again. The original error: {self.summary}. "
            "tcbase.clear_cache() forgets the failure.\n"
            f"The original traceback:\n{self.traceback}"
        )


# ---------------------------------------------------------------- configs


def get_hf_config(model_id: str, *, remote_source: str | None = None) -> Any:
    """Return a fresh deep copy of the cached HF config of ``model_id``.

    The first request loads it (tensor_cast's loader when importable, else
    ``transformers.AutoConfig``); ``remote_source`` is part of the key.
    """
    key = loaders.config_key(model_id, remote_source)
    while True:
        with _LOCK:
            if key in _HF_CONFIG_CACHE:
                cached = _HF_CONFIG_CACHE[key]
                _STATS.add("config_hits")
                break
            failure = _CONFIG_FAILURES.get(key)
        if failure is not None:
            failure.reraise()
        flight = _EXACT_FLIGHTS.join_or_start(("config", key), f"config {model_id!r}")
        if flight is None:
            continue
        try:
            cached = _load_config(key, model_id, remote_source)
        finally:
            _EXACT_FLIGHTS.land(("config", key), flight)
        break
    return copy_hf_config(cached, model_id, _COPY_WARNED)


def _load_config(key: Any, model_id: str, remote_source: str | None) -> Any:
    normal = loaders.normalise_model_id(model_id)
    try:
        config = loaders.load_config(normal, remote_source)
    except Exception as error:
        with _LOCK:
            _CONFIG_FAILURES[key] = _Failure.of(
                f"loading the config {model_id!r}", error
            )
        raise
    with _LOCK:
        _HF_CONFIG_CACHE[key] = config
        _STATS.add("config_loads")
    logger.info("loaded config %r", normal)
    return config


# ----------------------------------------------------------------- models


def _class_key(config: Any) -> type:
    # The class object, not its name: two classes of one name never share.
    return type(config)


def _value_reader(config: Any):
    def value_of(field: str) -> Any:
        if field == _CLASS_FIELD:
            return _class_key(config)
        return frozen_field(config, field)

    return value_of


def _path(config: Any, fields: list[str]) -> tuple[tuple[str, Any], ...]:
    """Key a config on its class and the named fields, in the order given."""
    values = tuple((field, frozen_field(config, field)) for field in fields)
    return ((_CLASS_FIELD, _class_key(config)), *values)


def _index(builder: Builder, config: Any, path: tuple, leaf: Any) -> tuple:
    """Store ``leaf`` in the index; return where, for ``KeyIndex.remove``."""
    fields = tuple(field for field, _ in path[1:])
    values = tuple(value for _, value in path[1:])
    _INDEX.insert(builder, type(config), fields, values, leaf)
    return (builder, type(config), fields, values)


def _full_path(config: Any) -> tuple[tuple[str, Any], ...]:
    """Key a config on its class and every one of its fields, in name order."""
    return _path(config, field_names(config))


def _explicit_key(builder: Builder, config: Any) -> Any:
    try:
        value = builder.key(config)
    except Exception as error:
        raise ArtifactError(
            f"the key function of builder {builder.name!r} failed for "
            f"{model_id_of(config)!r}: {error}"
        ) from error
    return (builder, (("key", freeze(value, where=f"{builder.name} key")),))


def _lookup(builder: Builder, config: Any) -> tuple[Any, Any]:
    """Return ``(key, model)`` on a hit, ``(None, failure)`` or ``(None, None)``."""
    if builder.key is not None:
        key = _explicit_key(builder, config)
        with _LOCK:
            if key in _BUILT_MODEL_CACHE:
                return key, _BUILT_MODEL_CACHE[key]
            return None, _KEYED_FAILURES.get(key)
    leaf = _INDEX.lookup(builder, config)
    if isinstance(leaf, _Failure):
        return None, leaf
    if isinstance(leaf, _ModelLeaf):
        # A single dict read needs no lock; absent means just evicted.
        model = _BUILT_MODEL_CACHE.get(leaf.key, _ABSENT)
        if model is _ABSENT:
            # Absent either for good, or for the instant an LRU touch moves it.
            with _LOCK:
                model = _BUILT_MODEL_CACHE.get(leaf.key, _ABSENT)
        if model is not _ABSENT:
            return leaf.key, model
    return None, None


def _full_key(config: Any) -> Any:
    try:
        return _full_path(config)
    except TypeError:
        return None


def get_built_model(user_config: Any) -> Any:
    """Return the shared model built from ``user_config``; treat it as read-only.

    The builder is chosen by the config's type (``tcbase.register_builder``).
    The first request builds; later requests whose config agrees on the key get
    the same object. The guard checks it when the current test ends.
    """
    key, model = built_model_and_key(user_config)
    if guard.enabled():
        guard.record(key)
    return model


def built_model_and_key(user_config: Any) -> tuple[Any, Any]:
    """Return ``(key, model)``, as ``get_built_model`` but noting no hand-out."""
    builder = builder_for(type(user_config))
    while True:
        key, found = _lookup(builder, user_config)
        if key is not None:
            return _on_hit(key, found, builder, user_config)
        if found is not None:
            found.reraise()
        what = f"model {model_id_of(user_config)!r}"
        value_of = _value_reader(user_config)
        if builder.key is not None:
            flight_key = _explicit_key(builder, user_config)
            flight = _EXACT_FLIGHTS.join_or_start(flight_key, what)
            land = functools.partial(_EXACT_FLIGHTS.land, flight_key)
        else:
            full_key = _full_key(user_config)
            flight = _TRACED_FLIGHTS.join_or_start(builder, value_of, full_key, what)
            land = functools.partial(_TRACED_FLIGHTS.land, builder)
        if flight is None:
            continue
        try:
            key, found = _lookup(builder, user_config)
            if key is not None:
                return _on_hit(key, found, builder, user_config)
            if found is not None:
                found.reraise()
            return _build_and_store(builder, user_config, flight)
        finally:
            land(flight)


def _on_hit(key: Any, model: Any, builder: Builder, config: Any) -> tuple[Any, Any]:
    entry = _ENTRIES.get(key)
    _STATS.add_hit(entry.seconds if entry is not None else 0.0)
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug("hit %s", entry.model_id if entry else key)
    if settings.current.max_models is not None:
        _touch(key)
    if settings.current.audit and entry is not None:
        _audit(entry, model, builder, config)
    return key, model


def _touch(key: Any) -> None:
    """Mark an entry most recently used: dicts keep insertion order."""
    with _LOCK:
        if key in _BUILT_MODEL_CACHE:
            _BUILT_MODEL_CACHE[key] = _BUILT_MODEL_CACHE.pop(key)


def _enforce_bound() -> None:
    """Evict least recently used models until the bound holds."""
    bound = settings.current.max_models
    if bound is None:
        return
    with _LOCK:
        ours = [key for key in _BUILT_MODEL_CACHE if key in _ENTRIES]
    for key in ours[: max(0, len(ours) - bound)]:
        evict(key, bound=True)


def _audit(entry: _Entry, model: Any, builder: Builder, config: Any) -> None:
    fresh = builder.build(copy_config(config))
    _STATS.add("audited_hits")
    audit.check(entry.model_id, model, fresh, config, entry.config)


def _build_and_store(
    builder: Builder, user_config: Any, flight: Flight
) -> tuple[Any, Any]:
    model_id = model_id_of(user_config)
    snapshot = copy_config(user_config)
    explicit = _explicit_key(builder, snapshot) if builder.key is not None else None
    if builder.prepare is not None:
        builder.prepare()
    model, seconds, fields = _timed_build(builder, snapshot, model_id, explicit, flight)
    if explicit is not None:
        key, path = explicit, None
        key_fields = {"key": repr(builder.key(snapshot))}
    else:
        path = _path(snapshot, fields)
        key = (builder, path)
        key_fields = describe_fields(snapshot, fields)
    entry = _Entry(model_id, builder.name, seconds, key_fields, snapshot)
    entry.guard_ignore = builder.guard_ignore
    entry.fingerprint = guard.take(model, builder.guard_ignore)
    with _LOCK:
        if key in _BUILT_MODEL_CACHE:
            # Another thread built the same entry meanwhile; share the first.
            return key, _BUILT_MODEL_CACHE[key]
        _BUILT_MODEL_CACHE[key] = model
        _ENTRIES[key] = entry
        if path is not None:
            entry.indexed_at = _index(builder, snapshot, path, _ModelLeaf(key))
        _STATS.record_build(model_id, builder.name, seconds, key_fields)
    logger.info("built %s in %.2f s; key fields %s", model_id, seconds, key_fields)
    _enforce_bound()
    return key, model


def _timed_build(
    builder: Builder, snapshot: Any, model_id: str, explicit: Any, flight: Flight
) -> tuple[Any, float, list[str]]:
    """Build from a copy of ``snapshot``; return the model, seconds, fields read.

    Without an ``explicit`` key the builder gets a traced copy, whose reads
    become the key; with one it gets a plain copy.
    """
    traced = TracedCopy(snapshot) if explicit is None else None
    if traced is not None:
        flight.follow(traced.read_fields, _value_reader(snapshot))
    started = time.perf_counter()
    try:
        if traced is None:
            model = builder.build(copy_config(snapshot))
        else:
            with traced:
                model = builder.build(traced.config)
    except unittest.SkipTest:
        raise  # a builder may skip the test that asked; nothing to remember
    except Exception as error:
        fields = traced.read_fields() if traced is not None else []
        _remember_failure(builder, snapshot, fields, model_id, error, explicit)
        raise ArtifactError(
            f"building {model_id!r} with {builder.name} failed: "
            f"{type(error).__name__}: {error}; "
            f"key fields read: {describe_fields(snapshot, fields)}"
        ) from error
    seconds = time.perf_counter() - started
    return model, seconds, traced.read_fields() if traced is not None else []


def _remember_failure(
    builder: Builder,
    snapshot: Any,
    fields: list[str],
    model_id: str,
    error: Exception,
    explicit: Any,
) -> None:
    """Store the failure under the fields read before it, or the explicit key."""
    failure = _Failure.of(f"building {model_id!r}", error)
    if explicit is not None:
        with _LOCK:
            _KEYED_FAILURES[explicit] = failure
        return
    try:
        _index(builder, snapshot, _path(snapshot, fields), failure)
    except TypeError:
        # A read value that cannot be frozen cannot key a failure either; the
        # next request then builds, and fails, again.
        pass


def fresh_model(user_config: Any) -> Any:
    """Build a private model from ``user_config``; it is never cached or shared."""
    builder = builder_for(type(user_config))
    try:
        return builder.build(copy_config(user_config))
    except Exception as error:
        raise ArtifactError(
            f"building a fresh {model_id_of(user_config)!r} with {builder.name} "
            f"failed: {type(error).__name__}: {error}"
        ) from error


# ------------------------------------------------------------- eviction


def entry_and_model(key: Any) -> tuple[_Entry | None, Any]:
    """Return what tcbase knows of a cached model, and the model; Nones if gone."""
    with _LOCK:
        if key not in _BUILT_MODEL_CACHE:
            return None, None
        return _ENTRIES.get(key), _BUILT_MODEL_CACHE[key]


def evict(key: Any, *, guard_violation: bool = False, bound: bool = False) -> None:
    """Drop one cached model, so that the next request builds it afresh."""
    with _LOCK:
        _BUILT_MODEL_CACHE.pop(key, None)
        entry = _ENTRIES.pop(key, None)
        if entry is not None and entry.indexed_at is not None:
            _INDEX.remove(*entry.indexed_at)
        if guard_violation:
            _STATS.add("guard_violations")
        if bound:
            _STATS.add("evictions")
    guard.forget(key)
    if entry is not None and bound:
        logger.warning("evicted %s to keep the cache bound", entry.model_id)


def dirtied(model: Any) -> bool:
    """Declare that the current test changed this shared model on purpose.

    The model is evicted without a guard failure, so the next request builds
    a fresh one. Return False when ``model`` was not in the cache.
    """
    with _LOCK:
        keys = [key for key, cached in _BUILT_MODEL_CACHE.items() if cached is model]
    for key in keys:
        evict(key)
    return bool(keys)


# ------------------------------------------------------------ bookkeeping


def cache_info() -> CacheInfo:
    """Return a frozen snapshot of the cache's counters."""
    with _LOCK:
        entries = sum(1 for key in _ENTRIES if key in _BUILT_MODEL_CACHE)
    return _STATS.snapshot(entries)


def build_records() -> list[dict[str, Any]]:
    """Return one plain record per build: model id, seconds, key fields."""
    return _STATS.builds()


def clear_cache() -> None:
    """Empty both dictionaries, the remembered failures and the counters."""
    with _LOCK:
        _HF_CONFIG_CACHE.clear()
        _BUILT_MODEL_CACHE.clear()
        _ENTRIES.clear()
        _CONFIG_FAILURES.clear()
        _KEYED_FAILURES.clear()
        _INDEX.clear()
        _COPY_WARNED.clear()
        _STATS.reset()
