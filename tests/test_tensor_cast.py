"""tensor_cast integration: the real package when importable, else skipped.

Beside them, a stand-in package checks only the import wiring: that tcbase
never imports tensor_cast early and picks up its builder and loader lazily.
"""

from __future__ import annotations

import importlib.util
import io
import os
import unittest
import warnings

import torch

import tcbase
from tcbase import audit, cache, compat
from tests.support import (
    REPO,
    TINY_LLAMA,
    TINY_QWEN3,
    IsolatedCacheTest,
    run_python,
    scratch_dir,
    write_files,
)

HAVE_TENSOR_CAST = importlib.util.find_spec("tensor_cast") is not None
SKIP_REASON = (
    "tensor_cast is not importable; put a checkout of its source on PYTHONPATH "
    "to run the integration tests"
)
QWEN3_0_6B = os.path.join(REPO, "examples", "configs", "qwen3-0.6b")
DEEPSEEK_V3 = os.path.join(REPO, "examples", "configs", "deepseek-v3")


@unittest.skipUnless(HAVE_TENSOR_CAST, SKIP_REASON)
class TensorCastKeysTest(IsolatedCacheTest):
    def user_config(self, **fields):
        from tensor_cast.core.user_config import UserInputConfig

        request = {"model_id": QWEN3_0_6B, "num_queries": 1, "query_len": 32}
        request["context_length"] = 32
        request.update(fields)
        return UserInputConfig(**request)

    def test_configs_differing_only_in_request_shape_share_one_model(self):
        first = tcbase.get_built_model(self.user_config())
        again = tcbase.get_built_model(
            self.user_config(num_queries=8, query_len=256, context_length=1024)
        )
        self.assertIs(again, first)
        self.assertEqual(tcbase.cache_info().model_builds, 1)
        self.assertEqual(type(first).__name__, "TransformerModel")

    def test_the_build_reads_fields_the_legacy_tuple_lacks(self):
        tcbase.get_built_model(self.user_config())
        [key] = cache._BUILT_MODEL_CACHE
        read = {field for field, _ in key[1]}
        for field in ("quantize_lmhead", "o_proj_tp_size", "pp_size", "dcp_size"):
            self.assertIn(field, read)
            self.assertNotIn(field, compat.LEGACY_KEY_FIELDS)
        for field in ("num_queries", "query_len", "context_length"):
            self.assertNotIn(field, read)

    def test_a_quantisation_field_the_legacy_tuple_lacks_splits(self):
        plain, quantised = self.user_config(), self.user_config(quantize_lmhead=True)
        self.assertEqual(
            compat.user_config_build_cache_key(plain),
            compat.user_config_build_cache_key(quantised),
        )
        self.assertIsNot(
            tcbase.get_built_model(plain), tcbase.get_built_model(quantised)
        )

    def test_a_parallelism_field_the_legacy_tuple_lacks_splits(self):
        tp = self.user_config(world_size=2, tp_size=2)
        o_proj_dp = self.user_config(
            world_size=2, tp_size=2, o_proj_tp_size=1, o_proj_dp_size=2
        )
        self.assertEqual(
            compat.user_config_build_cache_key(tp),
            compat.user_config_build_cache_key(o_proj_dp),
        )
        first, second = tcbase.get_built_model(tp), tcbase.get_built_model(o_proj_dp)
        self.assertIsNot(first, second)
        self.assertNotEqual(audit.structure(first), audit.structure(second))

    def test_the_legacy_key_as_an_explicit_key_shares_wrongly(self):
        from tensor_cast.core.user_config import UserInputConfig

        tcbase.register_builder(
            UserInputConfig,
            tcbase.builders.builder_for(UserInputConfig).build,
            key=compat.user_config_build_cache_key,
        )
        plain = tcbase.get_built_model(self.user_config())
        self.assertIs(
            tcbase.get_built_model(self.user_config(quantize_lmhead=True)), plain
        )

    def test_a_symlinked_path_is_refused_even_when_its_target_is_cached(self):
        tcbase.get_hf_config(QWEN3_0_6B)
        link = os.path.join(scratch_dir(self), "linked")
        os.symlink(QWEN3_0_6B, link)
        with self.assertRaises(tcbase.errors.ArtifactError) as raised:
            tcbase.get_hf_config(link)
        self.assertIn("symlink", str(raised.exception))
        with self.assertRaises(tcbase.errors.ArtifactError):
            tcbase.get_hf_config(link)
        self.assertEqual(tcbase.cache_info().config_loads, 1)

    def test_a_forward_pass_on_shared_models_is_silent_to_the_guard(self):
        from tensor_cast.core.input_generator import generate_inputs

        def prefill(case):
            for config in (
                self.user_config(),
                self.user_config(model_id=DEEPSEEK_V3, num_hidden_layers_override=4),
            ):
                model = case.built_model(config)
                with torch.no_grad():
                    model(**generate_inputs(model, [config.get_request_info()]))

        klass = type(
            "Prefill",
            (tcbase.TensorCastTestCase,),
            {"test_a": prefill, "test_b": prefill},
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error", tcbase.TcbaseWarning)
            result = unittest.TextTestRunner(stream=io.StringIO()).run(
                unittest.TestLoader().loadTestsFromTestCase(klass)
            )
        self.assertTrue(result.wasSuccessful(), result.errors + result.failures)
        info = tcbase.cache_info()
        self.assertEqual(
            (info.model_builds, info.model_hits, info.guard_violations), (2, 2, 0)
        )

    def test_configs_load_through_tensor_cast_loader(self):
        config = tcbase.get_hf_config(QWEN3_0_6B)
        self.assertEqual(type(config).__name__, "Qwen3Config")
        self.assertEqual(config.num_hidden_layers, 28)


STAND_IN = {
    "tensor_cast/__init__.py": "",
    "tensor_cast/core/__init__.py": "",
    "tensor_cast/core/user_config.py": """
        import dataclasses

        @dataclasses.dataclass
        class UserInputConfig:
            model_id: str = ""
            query_len: int = 0
            tp_size: int = 1
    """,
    "tensor_cast/core/model_builder.py": """
        import types

        def build_model(user_input):
            return types.SimpleNamespace(tp=user_input.tp_size)
    """,
    "tensor_cast/transformers/__init__.py": "",
    "tensor_cast/transformers/utils.py": """
        class AutoModelConfigLoader:
            def load_config(self, model_id, remote_source="huggingface"):
                return {"loaded_by": "stand-in", "model_id": model_id}
    """,
}

WIRING_PROBE = """
import sys, tcbase
print("after import:", "tensor_cast" in sys.modules)
from tensor_cast.core.user_config import UserInputConfig
first = tcbase.get_built_model(UserInputConfig(model_id="m", query_len=1))
second = tcbase.get_built_model(UserInputConfig(model_id="m", query_len=9))
print("builder:", tcbase.builders.builder_for(UserInputConfig).name)
print("shared:", first is second, "tp:", first.tp)
print("config:", tcbase.get_hf_config("org/model")["loaded_by"])
"""


class TensorCastWiringTest(unittest.TestCase):
    def test_tensor_cast_is_wired_in_lazily_and_used_when_importable(self):
        directory = scratch_dir(self)
        write_files(directory, STAND_IN)
        finished = run_python(["-c", WIRING_PROBE], cwd=REPO, PYTHONPATH=directory)
        self.assertEqual(finished.returncode, 0, finished.stderr)
        self.assertEqual(
            finished.stdout.splitlines(),
            [
                "after import: False",
                "builder: tensor_cast.build_model",
                "shared: True tp: 1",
                "config: stand-in",
            ],
        )

    def test_a_tensor_cast_that_does_not_import_falls_back_with_one_warning(self):
        directory = scratch_dir(self)
        broken = dict(STAND_IN)
        broken["tensor_cast/transformers/utils.py"] = "import no_such_dependency\n"
        write_files(directory, broken)
        probe = (
            "import warnings, tcbase\n"
            "warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            f"    config = tcbase.get_hf_config({TINY_QWEN3!r})\n"
            f"    tcbase.get_hf_config({TINY_LLAMA!r})\n"
            "print(type(config).__name__)\n"
            "print([str(w.message)[:39] for w in caught])\n"
        )
        finished = run_python(["-c", probe], cwd=REPO, PYTHONPATH=directory)
        self.assertEqual(finished.returncode, 0, finished.stderr)
        self.assertEqual(
            finished.stdout.splitlines(),
            ["Qwen3Config", "['tensor_cast is on the path but does not']"],
        )
