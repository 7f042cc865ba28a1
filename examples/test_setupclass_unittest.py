"""unittest example: a model fetched once in ``setUpClass`` and read by many tests.

``cls.built_model`` and ``cls.hf_config`` work on the class, so the shared model
can be kept as a class attribute. Tests only read it: it is shared with every
other suite that asks for the same spec.
"""

from __future__ import annotations

import unittest

import torch

import tcbase
from examples._models import (
    DEEPSEEK_V3,
    DEEPSEEK_V3_FACTS,
    LLAMA_3_1_8B,
    LLAMA_3_1_8B_FACTS,
    dense_parameter_count,
    routed_expert_count,
    spec,
)


def _rope_settings(config) -> dict:
    """Return the RoPE settings whichever attribute this transformers uses."""
    return dict(getattr(config, "rope_parameters", None) or config.rope_scaling or {})


class FullLlamaTest(tcbase.TensorCastTestCase):
    """All 32 layers of Llama 3.1 8B on meta: cheap to build, shared by the class."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model_spec = spec("llama_3_1_8b_bf16")
        cls.model = cls.built_model(cls.model_spec)
        cls.config = cls.hf_config(LLAMA_3_1_8B)

    def test_has_all_published_layers(self):
        self.assertEqual(len(self.model.model.layers), 32)
        self.assertEqual(self.config.num_hidden_layers, 32)

    def test_parameter_count_is_eight_billion(self):
        counted = sum(parameter.numel() for parameter in self.model.parameters())
        self.assertEqual(counted, dense_parameter_count(LLAMA_3_1_8B_FACTS, 32))
        self.assertEqual(counted, 8_030_261_248)

    def test_every_layer_uses_grouped_query_attention(self):
        facts = LLAMA_3_1_8B_FACTS
        kv_width = facts.num_key_value_heads * facts.head_dim
        q_width = facts.num_attention_heads * facts.head_dim
        widths = {
            (
                layer.self_attn.q_proj.out_features,
                layer.self_attn.k_proj.out_features,
                layer.self_attn.v_proj.out_features,
            )
            for layer in self.model.model.layers
        }
        self.assertEqual(widths, {(q_width, kv_width, kv_width)})

    def test_llama3_rope_scaling_is_kept(self):
        for config in (self.config, self.model.config):
            rope = _rope_settings(config)
            self.assertEqual(rope.get("rope_type"), "llama3")
            self.assertEqual(rope.get("factor"), 8.0)
            self.assertEqual(rope.get("original_max_position_embeddings"), 8192)

    def test_forward_on_meta(self):
        input_ids = torch.zeros(1, 16, dtype=torch.long, device="meta")
        with torch.no_grad():
            logits = self.model(input_ids=input_ids).logits
        self.assertEqual(tuple(logits.shape), (1, 16, LLAMA_3_1_8B_FACTS.vocab_size))

    def test_asking_again_in_a_test_returns_the_class_model(self):
        self.assertIs(self.built_model(self.model_spec), self.model)

    def test_the_model_is_in_eval_mode(self):
        self.assertFalse(self.model.training)


class DeepseekFirstLayersTest(tcbase.TensorCastTestCase):
    """The first four DeepSeek-V3 layers: three dense, then the first MoE layer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model = cls.built_model(spec("deepseek_v3_4l_bf16"))
        cls.config = cls.hf_config(DEEPSEEK_V3)

    def test_cached_config_keeps_all_61_layers(self):
        self.assertEqual(self.config.num_hidden_layers, 61)
        self.assertEqual(self.model.config.num_hidden_layers, 4)

    def test_first_k_layers_are_dense(self):
        first_k = self.config.first_k_dense_replace
        has_experts = [
            hasattr(layer.mlp, "experts") for layer in self.model.model.layers
        ]
        self.assertEqual(has_experts, [False] * first_k + [True] * (4 - first_k))

    def test_moe_layer_counts_experts(self):
        moe = self.model.model.layers[3].mlp
        self.assertEqual(routed_expert_count(moe.experts), 256)
        self.assertEqual(
            moe.shared_experts.gate_proj.out_features,
            DEEPSEEK_V3_FACTS.moe_intermediate_size
            * DEEPSEEK_V3_FACTS.num_shared_experts,
        )

    def test_forward_on_meta(self):
        input_ids = torch.zeros(1, 4, dtype=torch.long, device="meta")
        with torch.no_grad():
            logits = self.model(input_ids=input_ids).logits
        self.assertEqual(tuple(logits.shape), (1, 4, DEEPSEEK_V3_FACTS.vocab_size))


if __name__ == "__main__":
    unittest.main()
