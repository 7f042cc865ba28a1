"""The built-model cache: one build per distinct config, shared by later requests."""

from __future__ import annotations

import torch

import tcbase
from tcbase import cache
from tests.builders_for_tests import Activation, MlpConfig, build_mlp
from tests.support import TINY_LLAMA, TINY_QWEN3, IsolatedCacheTest


class ModelSpecBuilderTest(IsolatedCacheTest):
    def test_builds_a_real_causal_lm_on_meta_in_eval_mode(self):
        model = tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3))
        self.assertEqual(type(model).__name__, "Qwen3ForCausalLM")
        weight = model.model.embed_tokens.weight
        self.assertEqual(tuple(weight.shape), (256, 64))
        self.assertEqual(weight.dtype, torch.bfloat16)
        self.assertEqual(weight.device.type, "meta")
        self.assertFalse(model.training)

    def test_layer_override_and_dtype_are_applied(self):
        spec = tcbase.ModelSpec(TINY_LLAMA, dtype="float16", num_hidden_layers=1)
        model = tcbase.get_built_model(spec)
        self.assertEqual(len(model.model.layers), 1)
        self.assertEqual(model.lm_head.weight.dtype, torch.float16)

    def test_torch_dtype_objects_and_names_are_accepted(self):
        model = tcbase.get_built_model(
            tcbase.ModelSpec(TINY_LLAMA, dtype=torch.float32)
        )
        self.assertEqual(model.lm_head.weight.dtype, torch.float32)

    def test_forward_on_meta_inputs_gives_logits_of_the_right_shape(self):
        model = tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3))
        input_ids = torch.zeros(2, 5, dtype=torch.long, device="meta")
        self.assertEqual(tuple(model(input_ids=input_ids).logits.shape), (2, 5, 256))

    def test_the_same_spec_is_built_once_and_shared(self):
        first = tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3))
        second = tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3))
        self.assertIs(first, second)
        info = tcbase.cache_info()
        self.assertEqual((info.model_builds, info.model_hits, info.entries), (1, 1, 1))
        self.assertGreater(info.build_seconds, 0)
        self.assertAlmostEqual(info.seconds_saved, info.build_seconds)

    def test_path_aliases_of_a_spec_share_one_model(self):
        first = tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3))
        second = tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3 + "/."))
        self.assertIs(first, second)

    def test_specs_differing_in_any_field_get_different_models(self):
        base = tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3))
        other_dtype = tcbase.get_built_model(
            tcbase.ModelSpec(TINY_QWEN3, dtype="float32")
        )
        other_layers = tcbase.get_built_model(
            tcbase.ModelSpec(TINY_QWEN3, num_hidden_layers=1)
        )
        self.assertIsNot(base, other_dtype)
        self.assertIsNot(base, other_layers)
        self.assertEqual(tcbase.cache_info().model_builds, 3)

    def test_building_loads_the_config_through_the_config_cache(self):
        tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3))
        tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3, dtype="float16"))
        self.assertEqual(tcbase.cache_info().config_loads, 1)
        self.assertEqual(tcbase.cache_info().config_hits, 1)

    def test_a_bad_dtype_name_says_which_spec_and_how_to_fix_it(self):
        with self.assertRaises(tcbase.errors.ArtifactError) as raised:
            tcbase.get_built_model(tcbase.ModelSpec(TINY_QWEN3, dtype="bfloat17"))
        self.assertIn("'bfloat17'", str(raised.exception))
        self.assertIn("'bfloat16', 'float16'", str(raised.exception))
        self.assertEqual(cache._BUILT_MODEL_CACHE, {})

    def test_invalid_spec_fields_are_refused_at_construction(self):
        with self.assertRaisesRegex(ValueError, "num_hidden_layers"):
            tcbase.ModelSpec(TINY_QWEN3, num_hidden_layers=0)
        with self.assertRaisesRegex(ValueError, "model_id"):
            tcbase.ModelSpec("")


class RegisteredBuilderTest(IsolatedCacheTest):
    def setUp(self):
        super().setUp()
        tcbase.register_builder(MlpConfig, build_mlp)

    def test_lists_dicts_and_enums_in_a_config_do_not_crash(self):
        config = MlpConfig(widths=[4, 8, 2], options={"dropout": 0.5})
        model = tcbase.get_built_model(config)
        self.assertEqual(
            [type(layer).__name__ for layer in model],
            ["Linear", "ReLU", "Linear", "Dropout"],
        )
        self.assertIs(
            tcbase.get_built_model(
                MlpConfig(widths=[4, 8, 2], options={"dropout": 0.5})
            ),
            model,
        )

    def test_configs_differing_in_a_list_enum_or_dict_value_split(self):
        base = tcbase.get_built_model(MlpConfig())
        self.assertIsNot(tcbase.get_built_model(MlpConfig(widths=[8, 16, 5])), base)
        self.assertIsNot(
            tcbase.get_built_model(MlpConfig(activation=Activation.GELU)), base
        )
        self.assertIsNot(
            tcbase.get_built_model(MlpConfig(options={"dropout": 0.1})), base
        )
        self.assertEqual(tcbase.cache_info().model_builds, 4)

    def test_the_callers_config_is_not_retained_by_the_cache(self):
        config = MlpConfig()
        tcbase.get_built_model(config)
        config.widths.append(99)
        self.assertIsNot(
            tcbase.get_built_model(config), tcbase.get_built_model(MlpConfig())
        )

    def test_an_unregistered_type_is_a_type_error_naming_it_and_the_fix(self):
        class Unknown:
            model_id = "x"

        with self.assertRaises(TypeError) as raised:
            tcbase.get_built_model(Unknown())
        message = str(raised.exception)
        self.assertIn("Unknown", message)
        self.assertIn("tcbase.register_builder(", message)
        self.assertEqual(cache._BUILT_MODEL_CACHE, {})
        self.assertEqual(tcbase.cache_info().model_builds, 0)

    def test_subclasses_use_the_builder_of_their_base(self):
        class WideMlpConfig(MlpConfig):
            pass

        model = tcbase.get_built_model(WideMlpConfig(widths=[2, 3]))
        self.assertEqual(type(model[0]).__name__, "Linear")

    def test_register_builder_refuses_bad_arguments_and_changes_nothing(self):
        before = dict(tcbase.builders.registered())
        with self.assertRaisesRegex(TypeError, "needs a class as config_type"):
            tcbase.register_builder("MlpConfig", build_mlp)
        with self.assertRaisesRegex(TypeError, "needs a callable build"):
            tcbase.register_builder(MlpConfig, None)
        with self.assertRaisesRegex(TypeError, "key=...\\) must be callable"):
            tcbase.register_builder(MlpConfig, build_mlp, key="model_id")
        self.assertEqual(tcbase.builders.registered(), before)
