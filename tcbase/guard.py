"""The guard: a shared model must leave each test as it entered it.

Models are fingerprinted when they enter the cache. Each hand-out is noted for
the test that is running (or, outside any test, for the enclosing class or
module), and checked when that scope ends: a structural change fails it and
evicts the model; a change of plain attributes is a warning, fatal in strict
mode.
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Any

from . import fingerprint, settings
from .errors import SharedModelMutated, TcbaseWarning

logger = logging.getLogger("tcbase")

SHOWN = 10

_lock = threading.Lock()
_in_test = [False]
_test_handouts: dict[Any, None] = {}
_outside_handouts: dict[Any, None] = {}


def enabled() -> bool:
    return settings.current.guard != "off"


def take(model: Any, ignore: frozenset[str]) -> Any:
    """Fingerprint a model entering the cache; None with the guard off."""
    return fingerprint.take(model, ignore) if enabled() else None


def enter_test() -> tuple[bool, dict[Any, None]]:
    """Start a test's scope of hand-outs; return what ``leave_test`` restores."""
    with _lock:
        token = (_in_test[0], dict(_test_handouts))
        _in_test[0] = True
        _test_handouts.clear()
    return token


def leave_test(token: tuple[bool, dict[Any, None]]) -> None:
    with _lock:
        _in_test[0] = token[0]
        _test_handouts.clear()
        _test_handouts.update(token[1])


def record(key: Any) -> None:
    """Note that the model under ``key`` was handed out in the current scope."""
    # One dict store, atomic under the GIL: a cache hit takes no lock for it.
    (_test_handouts if _in_test[0] else _outside_handouts)[key] = None


def forget(key: Any) -> None:
    """Stop guarding ``key`` (it was dirtied or evicted)."""
    with _lock:
        _test_handouts.pop(key, None)
        _outside_handouts.pop(key, None)


def check_test(where: str) -> None:
    """Check, and forget, the models handed out in the current test."""
    with _lock:
        keys = list(_test_handouts)
        _test_handouts.clear()
    check(keys, where)


def check_outside(where: str) -> None:
    """Check, and forget, the models handed out outside any test."""
    with _lock:
        keys = list(_outside_handouts)
        _outside_handouts.clear()
    check(keys, where)


def check(keys: list[Any], where: str) -> None:
    """Compare each model with its fingerprint; raise on a structural change."""
    from . import cache

    failures = []
    for key in keys:
        entry, model = cache.entry_and_model(key)
        if entry is None or entry.fingerprint is None:
            continue
        now = fingerprint.take(model, entry.guard_ignore)
        if fingerprint.same(entry.fingerprint, now):
            continue
        changes = fingerprint.diff(entry.fingerprint, now, limit=SHOWN)
        strict = settings.current.guard == "strict"
        if changes.structural_total or strict:
            cache.evict(key, guard_violation=True)
            failures.append(_describe(entry, changes, where))
            logger.warning("guard: %s changed %s; evicted", where, entry.model_id)
            continue
        entry.fingerprint = now
        warnings.warn(
            f"{where} changed plain attributes of the shared model "
            f"{entry.model_id!r}: {'; '.join(changes.lines())}. They are kept; "
            "declare memo attributes with register_builder(..., guard_ignore=...), "
            "or set TCBASE_GUARD=strict to fail on them.",
            TcbaseWarning,
            stacklevel=2,
        )
    if failures:
        raise SharedModelMutated("\n".join(failures))


def _describe(entry: Any, changes: Any, where: str) -> str:
    lines = "\n".join(f"  {line}" for line in changes.lines())
    return (
        f"{where} changed the shared model {entry.model_id!r} [{entry.builder}]; "
        "tcbase evicted it, so the next test gets a fresh build:\n"
        f"{lines}\n"
        "A test that must change its model asks for fresh_model(...), or declares "
        "the change with tcbase.dirtied(model)."
    )
