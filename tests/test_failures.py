"""Bad input: a clear error naming the culprit, remembered, the cache unchanged."""

from __future__ import annotations

import dataclasses
import os
import threading
import types
import warnings

import tcbase
from tcbase import cache
from tcbase.errors import ArtifactError
from tests.support import TINY_QWEN3, IsolatedCacheTest, scratch_dir, write_files


@dataclasses.dataclass
class Flaky:
    model_id: str = "flaky"
    layers: int = 2
    batch_size: int = 1


class Calls:
    def __init__(self):
        self.count = 0

    def build_failing_on_odd_layers(self, config):
        self.count += 1
        if config.layers % 2:
            raise ValueError(f"cannot build {config.layers} layers")
        return types.SimpleNamespace(layers=config.layers)


class FailureTest(IsolatedCacheTest):
    def setUp(self):
        super().setUp()
        self.calls = Calls()
        tcbase.register_builder(Flaky, self.calls.build_failing_on_odd_layers)
        self.assertEqual(os.environ.get("HF_HUB_OFFLINE"), "1", "tests run offline")

    def assert_cache_untouched(self):
        self.assertEqual(cache._BUILT_MODEL_CACHE, {})
        self.assertEqual(tcbase.cache_info().model_builds, 0)
        self.assertEqual(tcbase.cache_info().entries, 0)

    def test_a_failing_build_names_the_model_and_key_fields_and_chains(self):
        with self.assertRaises(ArtifactError) as raised:
            tcbase.get_built_model(Flaky(layers=3))
        message = str(raised.exception)
        self.assertIn("'flaky'", message)
        self.assertIn("ValueError: cannot build 3 layers", message)
        self.assertIn("'layers': '3'", message)
        self.assertIsInstance(raised.exception.__cause__, ValueError)
        self.assert_cache_untouched()

    def test_a_failure_is_re_raised_at_once_for_the_same_key(self):
        with self.assertRaises(ArtifactError) as first:
            tcbase.get_built_model(Flaky(layers=3))
        with self.assertRaises(ArtifactError) as again:
            tcbase.get_built_model(Flaky(layers=3, batch_size=8))
        self.assertEqual(self.calls.count, 1)
        self.assertIn("failed earlier in this session", str(again.exception))
        self.assertIn(self.id(), str(again.exception))
        self.assertIsInstance(first.exception.__cause__, ValueError)
        self.assertIn(
            "The original error: ValueError: cannot build 3 layers",
            str(again.exception),
        )
        self.assertIn("in build_failing_on_odd_layers", str(again.exception))
        self.assert_cache_untouched()

    def test_other_keys_still_build_after_a_failure(self):
        with self.assertRaises(ArtifactError):
            tcbase.get_built_model(Flaky(layers=3))
        self.assertEqual(tcbase.get_built_model(Flaky(layers=4)).layers, 4)

    def test_clear_cache_forgets_failures(self):
        with self.assertRaises(ArtifactError):
            tcbase.get_built_model(Flaky(layers=3))
        tcbase.clear_cache()
        with self.assertRaises(ArtifactError) as raised:
            tcbase.get_built_model(Flaky(layers=3))
        self.assertNotIn("earlier", str(raised.exception))
        self.assertEqual(self.calls.count, 2)

    def test_an_unknown_hub_id_offline_says_it_is_not_local_nor_reachable(self):
        with self.assertRaises(ArtifactError) as raised:
            tcbase.get_hf_config("no-such-owner/no-such-model")
        message = str(raised.exception)
        self.assertIn("'no-such-owner/no-such-model' is not a local path", message)
        self.assertIn("could not be loaded from the hub", message)
        self.assertEqual(cache._HF_CONFIG_CACHE, {})

    def test_a_missing_local_path_says_so(self):
        with self.assertRaises(ArtifactError) as raised:
            tcbase.get_hf_config("./configs/not-there")
        self.assertIn("config path not found", str(raised.exception))
        self.assertIn(os.path.abspath("configs/not-there"), str(raised.exception))
        self.assertEqual(cache._HF_CONFIG_CACHE, {})

    def test_a_broken_config_json_names_the_path_and_the_cause(self):
        directory = scratch_dir(self)
        write_files(directory, {"broken/config.json": '{"model_type": "qwen3", '})
        path = os.path.join(directory, "broken")
        with self.assertRaises(ArtifactError) as raised:
            tcbase.get_hf_config(path)
        self.assertIn(f"loading the config at {path!r} failed", str(raised.exception))
        self.assertIsNotNone(raised.exception.__cause__)
        self.assertEqual(cache._HF_CONFIG_CACHE, {})
        with self.assertRaises(ArtifactError) as again:
            tcbase.get_hf_config(path)
        self.assertIn("failed earlier in this session", str(again.exception))

    def test_a_failed_config_load_fails_the_model_build_that_needs_it(self):
        with self.assertRaises(ArtifactError) as raised:
            tcbase.get_built_model(tcbase.ModelSpec("./configs/not-there"))
        self.assertIn("config path not found", str(raised.exception))
        self.assertEqual(cache._BUILT_MODEL_CACHE, {})

    def test_an_uncopyable_config_falls_back_to_from_dict_with_one_warning(self):
        cached_config = tcbase.get_hf_config(TINY_QWEN3)
        klass = type(cached_config)

        class NoDeepCopy(klass):
            def __deepcopy__(self, memo):
                raise RuntimeError("no deep copies")

        cache._HF_CONFIG_CACHE[TINY_QWEN3].__class__ = NoDeepCopy
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = tcbase.get_hf_config(TINY_QWEN3)
            second = tcbase.get_hf_config(TINY_QWEN3)
        self.assertEqual(first, cache._HF_CONFIG_CACHE[TINY_QWEN3])
        self.assertIsNot(first, second)
        self.assertEqual(first.hidden_size, 64)
        messages = [
            str(w.message) for w in caught if w.category is tcbase.TcbaseWarning
        ]
        self.assertEqual(len(messages), 1)
        self.assertIn(repr(TINY_QWEN3), messages[0])

    def test_an_attribute_no_copy_can_hold_is_a_clear_error(self):
        tcbase.get_hf_config(TINY_QWEN3)
        cache._HF_CONFIG_CACHE[TINY_QWEN3].lock = threading.Lock()
        with self.assertRaises(ArtifactError) as raised:
            tcbase.get_hf_config(TINY_QWEN3)
        self.assertIn(
            "its attribute 'lock' cannot be deep-copied", str(raised.exception)
        )
        self.assertEqual(list(cache._HF_CONFIG_CACHE), [TINY_QWEN3])
