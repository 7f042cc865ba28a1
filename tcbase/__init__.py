"""tcbase: shared, guarded caches of HF configs and built models for test suites.

Importing tcbase is cheap: torch, transformers and tensor_cast are imported only
when a config is loaded or a model is built.
"""

from __future__ import annotations

import atexit
import logging

from . import report as _report
from . import settings as _settings
from .builders import register_builder
from .cache import (
    cache_info,
    clear_cache,
    dirtied,
    fresh_model,
    get_built_model,
    get_hf_config,
)
from .errors import SharedModelMutated, TcbaseWarning
from .spec import ModelSpec
from .stats import CacheInfo
from .testcase import CachedArtifactsMixin, TensorCastTestCase

logging.getLogger("tcbase").addHandler(logging.NullHandler())

if _settings.current.report_path:
    # Plain ``python -m unittest`` has no hook at its end; pytest and
    # ``python -m tcbase`` write the report themselves and cancel this.
    atexit.register(_report.write_at_exit, _settings.current.report_path)

__all__ = [
    "CacheInfo",
    "CachedArtifactsMixin",
    "ModelSpec",
    "SharedModelMutated",
    "TcbaseWarning",
    "TensorCastTestCase",
    "cache_info",
    "clear_cache",
    "dirtied",
    "fresh_model",
    "get_built_model",
    "get_hf_config",
    "register_builder",
]
