"""``CachedArtifactsMixin`` and ``TensorCastTestCase``: the cache for unittest.

``hf_config`` and ``built_model`` work on the instance (in a test) and on the
class (in ``setUpClass``); the mixin adds no test methods, so it neither hides
nor resurrects those that ``parameterized.expand`` generates.
"""

from __future__ import annotations

import functools
import unittest
from typing import Any

from . import cache, guard
from .context import set_current_test


class _on_instance_or_class:
    """A method that receives the instance, or the class when called on it."""

    def __init__(self, function: Any) -> None:
        self._function = function
        functools.update_wrapper(self, function)

    def __get__(self, instance: Any, owner: type) -> Any:
        bound_to = owner if instance is None else instance
        return functools.partial(self._function, bound_to)


class CachedArtifactsMixin:
    """Give a test case cached configs (copied) and built models (shared)."""

    @_on_instance_or_class
    def hf_config(self_or_cls, model_id: str, *, remote_source: str | None = None):
        """Return a deep copy of the cached HF config of ``model_id``."""
        return cache.get_hf_config(model_id, remote_source=remote_source)

    @_on_instance_or_class
    def built_model(self_or_cls, user_config: Any) -> Any:
        """Return the shared model for ``user_config``; do not change it.

        Called on the instance, the guard checks the model when the test ends;
        called on the class (in ``setUpClass``), when the class ends.
        """
        if not isinstance(self_or_cls, type):
            return cache.get_built_model(user_config)
        key, model = cache.built_model_and_key(user_config)
        if guard.enabled():
            guard.hold(key)
            self_or_cls.addClassCleanup(
                guard.check, [key], f"{self_or_cls.__qualname__}.setUpClass"
            )
        return model

    @_on_instance_or_class
    def fresh_model(self_or_cls, user_config: Any) -> Any:
        """Return a private build of ``user_config`` that the test may change."""
        return cache.fresh_model(user_config)

    def run(self, result: Any = None) -> Any:
        previous = set_current_test(self.id())
        token = guard.enter_test()
        klass = type(self)
        if "_tcbase_guards_class_scope" not in klass.__dict__:
            klass._tcbase_guards_class_scope = True
            klass.addClassCleanup(guard.check_outside, f"{klass.__qualname__} (class)")
        guard.precheck_held(klass, f"{klass.__qualname__}.setUpClass")
        # Added first, so it runs after the test's own cleanups.
        self.addCleanup(guard.check_test, self.id())
        try:
            return super().run(result)
        finally:
            guard.leave_test(token)
            set_current_test(previous)


class TensorCastTestCase(CachedArtifactsMixin, unittest.TestCase):
    """A ``unittest.TestCase`` with the tcbase cache at hand."""
