"""unittest example with tensor_cast: ``UserInputConfig`` through tcbase.

Skipped, with the reason, when tensor_cast cannot be imported.
"""

from __future__ import annotations

import unittest

from parameterized import parameterized

import tcbase
from examples._models import DEEPSEEK_V3, QWEN3_0_6B, QWEN3_0_6B_FACTS
from examples.tensor_cast_suite._tc_configs import (
    DEFAULT_SHAPE,
    REQUEST_SHAPES,
    TENSOR_CAST_SKIP_REASON,
    decoder_layers,
    layers_with_own_weights,
    run_prefill,
    user_config,
)

SHAPE_CASES = [
    (f"q{num_queries}_len{query_len}_ctx{context}", (num_queries, query_len, context))
    for num_queries, query_len, context in REQUEST_SHAPES
]


@unittest.skipUnless(TENSOR_CAST_SKIP_REASON is None, TENSOR_CAST_SKIP_REASON)
class TensorCastModelsTest(tcbase.TensorCastTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.small = cls.built_model(user_config("qwen3_0_6b"))

    def test_built_object_is_a_transformer_model(self):
        from tensor_cast.transformers.model import TransformerModel

        self.assertIsInstance(self.small, TransformerModel)
        self.assertEqual(self.small.num_hidden_layers, 28)
        self.assertEqual(self.small.hidden_size, QWEN3_0_6B_FACTS.hidden_size)
        self.assertEqual(self.small.vocab_size, QWEN3_0_6B_FACTS.vocab_size)
        self.assertEqual(len(decoder_layers(self.small)), 28)

    @parameterized.expand(SHAPE_CASES)
    def test_request_shape_does_not_rebuild(self, _name, shape):
        config = user_config("qwen3_0_6b", shape)
        self.assertIs(self.built_model(config), self.small)

    @parameterized.expand(SHAPE_CASES)
    def test_prefill_selects_one_row_per_query(self, _name, shape):
        config = user_config("qwen3_0_6b", shape)
        logits = run_prefill(self.built_model(config), config)
        self.assertEqual(logits.shape[-1], QWEN3_0_6B_FACTS.vocab_size)
        self.assertEqual(logits.shape[-2], shape[0])

    def test_layer_override(self):
        model = self.built_model(user_config("qwen3_0_6b_2l"))
        self.assertIsNot(model, self.small)
        self.assertEqual(model.num_hidden_layers, 2)
        self.assertEqual(len(decoder_layers(model)), 2)
        self.assertEqual(self.hf_config(QWEN3_0_6B).num_hidden_layers, 28)

    def test_full_deepseek_keeps_one_weighted_layer_per_kind(self):
        model = self.built_model(user_config("deepseek_v3"))
        layers = decoder_layers(model)
        self.assertEqual(len(layers), 61)
        # One dense and one MoE representative; the other 59 repeat them.
        self.assertEqual(layers_with_own_weights(layers), 2)
        self.assertEqual(self.hf_config(DEEPSEEK_V3).num_hidden_layers, 61)

    def test_repetition_does_not_change_the_weight_size(self):
        repeated = self.built_model(user_config("deepseek_v3_4l"))
        plain = self.built_model(user_config("deepseek_v3_4l_no_repetition"))
        self.assertIsNot(repeated, plain)
        self.assertEqual(layers_with_own_weights(decoder_layers(repeated)), 2)
        self.assertEqual(layers_with_own_weights(decoder_layers(plain)), 4)
        # Repeated layers are still counted at full size. (tensor_cast's tally
        # differs by a few bytes of small buffers between the two: allow 1 KiB.)
        self.assertAlmostEqual(repeated.weight_size, plain.weight_size, delta=1024)
        self.assertGreater(plain.weight_size, 15 * 2**30)

    def test_quantization_setting_is_a_different_model(self):
        plain = self.built_model(user_config("qwen3_0_6b_unquantized"))
        self.assertIsNot(plain, self.small)
        self.assertGreater(plain.weight_size, self.small.weight_size)

    def test_default_shape_is_the_class_model(self):
        self.assertIs(
            self.built_model(user_config("qwen3_0_6b", DEFAULT_SHAPE)), self.small
        )


if __name__ == "__main__":
    unittest.main()
