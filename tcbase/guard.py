"""The guard: a shared model must leave each test as it entered it.

Models are fingerprinted when they enter the cache. Each hand-out is noted for
the test that is running and checked when it ends; a model received outside
any test (``setUpClass``, a wide fixture) is held by its scope and checked
after each test in it, and when the scope ends. A structural change fails the
test (or scope) and evicts the model; a change of plain attributes is a
warning, fatal in strict mode.
"""

from __future__ import annotations

import logging
import sys
import threading
import warnings
from typing import Any

from . import fingerprint, overrides, settings
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
    """Fingerprint a model entering the cache; None with the guard off.

    A model can only be a torch module if torch is imported already: the guard
    never imports it for a model that is not one.
    """
    if not enabled() or "torch" not in sys.modules:
        return None
    return (fingerprint.take(model, ignore), overrides.take(model))


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


def check_test(where: str, *, held: bool = True) -> None:
    """Check the models of the test that ends: its own, and those held around it.

    Models the test received are forgotten; models received outside any test
    (``setUpClass``, a class- or module-scoped fixture) stay held, and are
    checked after every test, so that the test that changed one is blamed.
    ``held=False`` checks only the test's own, for a second look at its end.
    """
    with _lock:
        around = list(_outside_handouts) if held else []
        keys = list(dict.fromkeys([*_test_handouts, *around]))
        _test_handouts.clear()
    check(keys, where)


def hold(key: Any) -> None:
    """Note a model received outside any test (by a class or a wide fixture)."""
    with _lock:
        _outside_handouts[key] = None


class outside_tests:
    """Within this block, hand-outs are held by the enclosing scope."""

    def __enter__(self) -> None:
        with _lock:
            self._was = _in_test[0]
            _in_test[0] = False

    def __exit__(self, *exc_info: Any) -> None:
        with _lock:
            _in_test[0] = self._was


_deferred: list[str] = []
_last_scope: list[Any] = [None]


def precheck_held(scope: Any, where: str) -> None:
    """Before the first test of a new class, check what its set-up received.

    A change made in ``setUpClass`` (or a wide fixture) is no test's fault:
    the model is evicted and the failure is kept for the scope's end.
    """
    if _last_scope[0] is scope:
        return
    _last_scope[0] = scope
    with _lock:
        keys = list(_outside_handouts)
    try:
        check(keys, where)
    except SharedModelMutated as error:
        _deferred.append(str(error))


def check_outside(where: str) -> None:
    """Check, and forget, the models held outside tests: their scope ends."""
    with _lock:
        keys = list(_outside_handouts)
        _outside_handouts.clear()
        deferred = list(_deferred)
        _deferred.clear()
    try:
        check(keys, where)
    except SharedModelMutated as error:
        deferred.append(str(error))
    if deferred:
        raise SharedModelMutated("\n".join(deferred))


def check(keys: list[Any], where: str) -> None:
    """Compare each model with its fingerprint; raise on a structural change."""
    from . import cache

    failures = []
    for key in keys:
        entry, model = cache.entry_and_model(key)
        if entry is None or entry.fingerprint is None:
            continue
        (stored, stored_extra) = entry.fingerprint
        now = fingerprint.take(model, entry.guard_ignore)
        extra = overrides.take(model)
        if fingerprint.same(stored, now) and extra == stored_extra:
            continue
        changes = fingerprint.diff(stored, now, limit=SHOWN)
        extra_changes = overrides.diff(stored_extra, extra)
        strict = settings.current.guard == "strict"
        if changes.structural_total or extra_changes or strict:
            cache.evict(key, guard_violation=True)
            failures.append(_describe(entry, extra_changes + changes.lines(), where))
            logger.warning("guard: %s changed %s; evicted", where, entry.model_id)
            continue
        entry.fingerprint = (now, extra)
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


def _describe(entry: Any, changes: list[str], where: str) -> str:
    lines = "\n".join(f"  {line}" for line in changes)
    return (
        f"{where} changed the shared model {entry.model_id!r} [{entry.builder}]; "
        "tcbase evicted it, so the next test gets a fresh build:\n"
        f"{lines}\n"
        "A test that must change its model asks for fresh_model(...), or declares "
        "the change with tcbase.dirtied(model)."
    )
