"""Which test is running now, as the mixin and the pytest plugin announce it.

Used to name the test that first hit a failure, and to tie handed-out models to
the test that must leave them unchanged.
"""

from __future__ import annotations

_current: list[str | None] = [None]


def set_current_test(name: str | None) -> str | None:
    """Announce the running test; return the name it replaces."""
    previous = _current[0]
    _current[0] = name
    return previous


def current_test() -> str | None:
    return _current[0]
