"""The process-wide cache of HF configs and built models.

``_HF_CONFIG_CACHE`` and ``_BUILT_MODEL_CACHE`` are the single source of truth:
the test-case mixin, the pytest plugin and ``tcbase.compat`` all read and write
these two dictionaries, so a run mixing both styles builds each model once.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Any

from . import loaders
from .builders import Builder, builder_for
from .configs import copy_config, describe_fields, field_names, model_id_of
from .context import current_test
from .errors import ArtifactError
from .freeze import freeze
from .index import MISSING, KeyIndex
from .stats import CacheInfo, Stats

logger = logging.getLogger("tcbase")

_HF_CONFIG_CACHE: dict[Any, Any] = {}
_BUILT_MODEL_CACHE: dict[Any, Any] = {}

_STATS = Stats()
_INDEX = KeyIndex()
_LOCK = threading.RLock()
_ENTRIES: dict[Any, _Entry] = {}
_CONFIG_FAILURES: dict[Any, _Failure] = {}
_KEYED_FAILURES: dict[Any, _Failure] = {}
_FLIGHTS: dict[Any, _Flight] = {}
_CLASS_FIELD = "__class__"


@dataclasses.dataclass
class _Entry:
    """What tcbase knows of one cached model; never the model itself."""

    model_id: str
    builder: str
    seconds: float
    key_fields: dict[str, str]


@dataclasses.dataclass(frozen=True)
class _ModelLeaf:
    key: Any


@dataclasses.dataclass
class _Failure:
    """A load or build that failed, re-raised for later requests of its key."""

    what: str
    error: BaseException
    first_test: str | None

    def reraise(self) -> None:
        where = f" (first in {self.first_test})" if self.first_test else ""
        raise ArtifactError(
            f"{self.what} failed earlier in this session{where}; tcbase does not "
            f"try again. The original error: {type(self.error).__name__}: "
            f"{self.error}. tcbase.clear_cache() forgets the failure."
        ) from self.error


class _Flight:
    """One build or load under way; others asking for the same key wait on it."""

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.done = threading.Event()


def _join_or_start(flight_key: Any, what: str) -> _Flight | None:
    """Return a new flight the caller must fly, or None after waiting for one."""
    with _LOCK:
        flight = _FLIGHTS.get(flight_key)
        if flight is None:
            flight = _FLIGHTS[flight_key] = _Flight()
            return flight
    if flight.owner == threading.get_ident():
        raise RecursionError(
            f"{what} asked for itself while it was being built; its builder must "
            "not request its own config from the cache"
        )
    flight.done.wait()
    return None


def _land(flight_key: Any, flight: _Flight) -> None:
    with _LOCK:
        if _FLIGHTS.get(flight_key) is flight:
            del _FLIGHTS[flight_key]
    flight.done.set()


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
        flight = _join_or_start(("config", key), f"config {model_id!r}")
        if flight is None:
            continue
        try:
            cached = _load_config(key, model_id, remote_source)
        finally:
            _land(("config", key), flight)
        break
    return copy_config(cached)


def _load_config(key: Any, model_id: str, remote_source: str | None) -> Any:
    normal = loaders.normalise_model_id(model_id)
    try:
        config = loaders.load_config(normal, remote_source)
    except Exception as error:
        with _LOCK:
            _CONFIG_FAILURES[key] = _Failure(
                f"loading the config {model_id!r}", error, current_test()
            )
        raise
    with _LOCK:
        _HF_CONFIG_CACHE[key] = config
        _STATS.add("config_loads")
    logger.info("loaded config %r", normal)
    return config


# ----------------------------------------------------------------- models


def _value_reader(config: Any):
    def value_of(field: str) -> Any:
        if field == _CLASS_FIELD:
            klass = type(config)
            return (klass.__module__, klass.__qualname__)
        value = getattr(config, field, MISSING)
        if value is MISSING:
            return MISSING
        return freeze(value, where=f"{type(config).__qualname__}.{field}")

    return value_of


def _full_path(config: Any) -> tuple[tuple[str, Any], ...]:
    """Key a config on its class and every one of its fields, in name order."""
    value_of = _value_reader(config)
    fields = [_CLASS_FIELD, *field_names(config)]
    return tuple((field, value_of(field)) for field in fields)


def _explicit_key(builder: Builder, config: Any) -> Any:
    try:
        value = builder.key(config)
    except Exception as error:
        raise ArtifactError(
            f"the key function of builder {builder.name!r} failed for "
            f"{model_id_of(config)!r}: {error}"
        ) from error
    return (builder.name, (("key", freeze(value, where=f"{builder.name} key")),))


def _lookup(builder: Builder, config: Any) -> tuple[Any, Any]:
    """Return ``(key, model)`` on a hit, ``(None, failure)`` or ``(None, None)``."""
    if builder.key is not None:
        key = _explicit_key(builder, config)
        with _LOCK:
            if key in _BUILT_MODEL_CACHE:
                return key, _BUILT_MODEL_CACHE[key]
            return None, _KEYED_FAILURES.get(key)
    leaf = _INDEX.lookup(builder.name, _value_reader(config))
    if isinstance(leaf, _Failure):
        return None, leaf
    if isinstance(leaf, _ModelLeaf):
        with _LOCK:
            if leaf.key in _BUILT_MODEL_CACHE:
                return leaf.key, _BUILT_MODEL_CACHE[leaf.key]
    return None, None


def _flight_key(builder: Builder, config: Any) -> Any:
    """Key under which identical concurrent requests share one build."""
    try:
        return ("model", builder.name, _full_path(config))
    except TypeError:
        return ("model", builder.name, id(config))


def get_built_model(user_config: Any) -> Any:
    """Return the shared model built from ``user_config``; treat it as read-only.

    The builder is chosen by the config's type (``tcbase.register_builder``).
    The first request builds; later requests whose config agrees on the key get
    the same object.
    """
    builder = builder_for(type(user_config))
    while True:
        key, found = _lookup(builder, user_config)
        if key is not None:
            return _on_hit(key, found)
        if found is not None:
            found.reraise()
        flight_key = _flight_key(builder, user_config)
        flight = _join_or_start(flight_key, f"model {model_id_of(user_config)!r}")
        if flight is None:
            continue
        try:
            key, found = _lookup(builder, user_config)
            if key is not None:
                return _on_hit(key, found)
            return _build_and_store(builder, user_config)
        finally:
            _land(flight_key, flight)


def _on_hit(key: Any, model: Any) -> Any:
    with _LOCK:
        entry = _ENTRIES.get(key)
        _STATS.add("model_hits")
        if entry is not None:
            _STATS.add("seconds_saved", entry.seconds)
    logger.debug("hit %s", entry.model_id if entry else key)
    return model


def _describe_key(config: Any, builder: Builder) -> dict[str, str]:
    if builder.key is not None:
        return {"key": repr(builder.key(config))}
    return describe_fields(config, field_names(config))


def _build_and_store(builder: Builder, user_config: Any) -> Any:
    model_id = model_id_of(user_config)
    snapshot = copy_config(user_config)
    key_fields = _describe_key(snapshot, builder)
    if builder.key is not None:
        key = _explicit_key(builder, snapshot)
        path = None
    else:
        path = _full_path(snapshot)
        key = (builder.name, path)
    if builder.prepare is not None:
        builder.prepare()
    started = time.perf_counter()
    try:
        model = builder.build(copy_config(user_config))
    except Exception as error:
        _remember_failure(builder, key, path, model_id, error)
        raise ArtifactError(
            f"building {model_id!r} with {builder.name} failed: "
            f"{type(error).__name__}: {error}; key fields: {key_fields}"
        ) from error
    seconds = time.perf_counter() - started
    with _LOCK:
        if key in _BUILT_MODEL_CACHE:
            return _BUILT_MODEL_CACHE[key]
        _BUILT_MODEL_CACHE[key] = model
        _ENTRIES[key] = _Entry(model_id, builder.name, seconds, key_fields)
        if path is not None:
            _INDEX.insert(builder.name, path, _ModelLeaf(key))
        _STATS.record_build(model_id, seconds, key_fields)
    logger.info("built %s in %.2f s; key fields %s", model_id, seconds, key_fields)
    return model


def _remember_failure(
    builder: Builder, key: Any, path: Any, model_id: str, error: Exception
) -> None:
    failure = _Failure(f"building {model_id!r}", error, current_test())
    with _LOCK:
        if path is None:
            _KEYED_FAILURES[key] = failure
        else:
            _INDEX.insert(builder.name, path, failure)


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
        _STATS.reset()
