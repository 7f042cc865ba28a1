"""The HF config cache: one load per model id, a deep copy per request."""

from __future__ import annotations

import os

import tcbase
from tcbase import cache
from tests.support import TINY_LLAMA, TINY_QWEN3, IsolatedCacheTest, scratch_dir


class ConfigCacheTest(IsolatedCacheTest):
    def test_first_request_loads_the_real_config(self):
        config = tcbase.get_hf_config(TINY_QWEN3)
        self.assertEqual(type(config).__name__, "Qwen3Config")
        self.assertEqual(config.hidden_size, 64)
        self.assertEqual(config.num_hidden_layers, 2)

    def test_copies_are_independent_of_each_other_and_of_the_cache(self):
        first = tcbase.get_hf_config(TINY_QWEN3)
        first.num_hidden_layers = 99
        first.rope_parameters["rope_theta"] = 1.0
        second = tcbase.get_hf_config(TINY_QWEN3)
        self.assertIsNot(first, second)
        self.assertEqual(second.num_hidden_layers, 2)
        self.assertEqual(second.rope_parameters["rope_theta"], 10000.0)

    def test_path_aliases_share_one_entry_and_one_load(self):
        relative = os.path.relpath(TINY_QWEN3)
        for spelling in (TINY_QWEN3, relative, "./" + relative, TINY_QWEN3 + "/"):
            tcbase.get_hf_config(spelling)
        info = tcbase.cache_info()
        self.assertEqual(info.config_loads, 1)
        self.assertEqual(info.config_hits, 3)
        self.assertEqual(list(cache._HF_CONFIG_CACHE), [TINY_QWEN3])

    def test_distinct_models_are_distinct_entries(self):
        tcbase.get_hf_config(TINY_QWEN3)
        tcbase.get_hf_config(TINY_LLAMA)
        self.assertEqual(tcbase.cache_info().config_loads, 2)
        self.assertEqual(sorted(cache._HF_CONFIG_CACHE), [TINY_LLAMA, TINY_QWEN3])

    def test_remote_source_is_part_of_the_key(self):
        tcbase.get_hf_config(TINY_QWEN3)
        tcbase.get_hf_config(TINY_QWEN3, remote_source="huggingface")
        self.assertEqual(tcbase.cache_info().config_loads, 2)
        self.assertIn((TINY_QWEN3, "huggingface"), cache._HF_CONFIG_CACHE)

    def test_clear_cache_forgets_configs_and_counters(self):
        tcbase.get_hf_config(TINY_QWEN3)
        tcbase.clear_cache()
        self.assertEqual(cache._HF_CONFIG_CACHE, {})
        self.assertEqual(tcbase.cache_info().config_loads, 0)
        tcbase.get_hf_config(TINY_QWEN3)
        self.assertEqual(tcbase.cache_info().config_loads, 1)

    def test_a_symlinked_path_is_its_own_entry_and_is_loaded_again(self):
        directory = scratch_dir(self)
        link = os.path.join(directory, "linked-qwen3")
        os.symlink(TINY_QWEN3, link)
        tcbase.get_hf_config(TINY_QWEN3)
        tcbase.get_hf_config(link)
        self.assertEqual(tcbase.cache_info().config_loads, 2)
        self.assertEqual(sorted(cache._HF_CONFIG_CACHE), sorted([TINY_QWEN3, link]))
