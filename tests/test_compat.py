"""``tcbase.compat`` is a drop-in for the legacy helper module."""

from __future__ import annotations

import unittest

import tcbase
from tcbase import cache, compat


class CompatTest(unittest.TestCase):
    def test_reexports_the_very_functions_and_dictionaries(self):
        self.assertIs(compat.get_hf_config, tcbase.get_hf_config)
        self.assertIs(compat.get_built_model, tcbase.get_built_model)
        self.assertIs(compat._HF_CONFIG_CACHE, cache._HF_CONFIG_CACHE)
        self.assertIs(compat._BUILT_MODEL_CACHE, cache._BUILT_MODEL_CACHE)

    def test_star_import_gives_the_legacy_names(self):
        namespace: dict = {}
        exec("from tcbase.compat import *", namespace)
        self.assertIn("user_config_build_cache_key", namespace)
        self.assertIn("_BUILT_MODEL_CACHE", namespace)
