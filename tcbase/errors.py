"""The warning and exception classes tcbase raises.

Kept free of pytest, torch and transformers so that every module, and the users'
own ``warnings.filterwarnings`` calls, can import them cheaply.
"""

from __future__ import annotations


class TcbaseWarning(UserWarning):
    """The one warning class tcbase emits."""


class SharedModelMutated(AssertionError):
    """A test changed the structure of a model it received shared."""


class ArtifactError(RuntimeError):
    """Loading a config or building a model failed; the cause is chained."""


class UnfreezableValue(TypeError):
    """A config field holds a value tcbase cannot turn into a cache key."""


class AuditMismatch(AssertionError):
    """Audit mode found a shared model that differs from a fresh build."""
