"""unittest example: one TensorCastTestCase, parameterised over models and dtypes.

Each case asks tcbase for a shared model built on the ``meta`` device and checks
it against the published shape of the model (``examples._models``). Cases that
name the same spec, here or in the pytest examples, get one and the same model.
"""

from __future__ import annotations

import json
import os
import unittest

import torch
from parameterized import parameterized

import tcbase
from examples._models import (
    DEEPSEEK_V3,
    DEEPSEEK_V3_MLA,
    FACTS_BY_ID,
    QWEN3_0_6B,
    QWEN3_32B,
    dense_parameter_count,
    expected_layer_count,
    facts_for,
    spec,
)

# Every model case, as a one-element tuple; the spec name is in the test id.
MOE_SPECS = ("deepseek_v3_4l_bf16", "qwen3_30b_a3b_2l_bf16")
DENSE_SPECS = (
    "qwen3_0_6b_bf16",
    "qwen3_0_6b_fp16",
    "llama_3_1_8b_2l_bf16",
    "qwen3_32b_2l_bf16",
    "qwen3_32b_2l_fp16",
)
ALL_CASES = [(name,) for name in DENSE_SPECS + MOE_SPECS]
# The dense ones, whose attention and MLP follow the Llama layout.
DENSE_CASES = [(name,) for name in DENSE_SPECS]

CONFIG_CASES = [
    (os.path.basename(model_id).replace("-", "_").replace(".", "_"), model_id)
    for model_id in FACTS_BY_ID
]


def _torch_dtype(name: str) -> torch.dtype:
    return getattr(torch, name)


class DenseAndMoeModelsTest(tcbase.TensorCastTestCase):
    """Structure, dtype, device and a forward pass of shared meta models."""

    @parameterized.expand(ALL_CASES)
    def test_layer_count_follows_override(self, spec_name):
        model_spec = spec(spec_name)
        model = self.built_model(model_spec)
        layers = expected_layer_count(model_spec)
        self.assertEqual(len(model.model.layers), layers)
        self.assertEqual(model.config.num_hidden_layers, layers)

    @parameterized.expand(ALL_CASES)
    def test_everything_is_on_meta_in_the_requested_dtype(self, spec_name):
        model_spec = spec(spec_name)
        model = self.built_model(model_spec)
        dtype = _torch_dtype(model_spec.dtype)
        off_meta = [
            name
            for name, tensor in (*model.named_parameters(), *model.named_buffers())
            if tensor.device.type != "meta"
        ]
        # Newer transformers keep an MoE router in float32, whatever the dtype.
        wrong_dtype = [
            (name, parameter.dtype)
            for name, parameter in model.named_parameters()
            if parameter.dtype != dtype
            and not (
                name.endswith("mlp.gate.weight") and parameter.dtype == torch.float32
            )
        ]
        self.assertEqual(off_meta, [])
        self.assertEqual(wrong_dtype, [])

    @parameterized.expand(ALL_CASES)
    def test_embedding_and_head_shapes(self, spec_name):
        model_spec = spec(spec_name)
        model = self.built_model(model_spec)
        facts = facts_for(model_spec.model_id)
        expected = (facts.vocab_size, facts.hidden_size)
        self.assertEqual(tuple(model.model.embed_tokens.weight.shape), expected)
        self.assertEqual(tuple(model.lm_head.weight.shape), expected)
        tied = model.lm_head.weight is model.model.embed_tokens.weight
        self.assertEqual(tied, facts.tie_word_embeddings)

    @parameterized.expand(DENSE_CASES)
    def test_dense_attention_and_mlp_shapes(self, spec_name):
        model_spec = spec(spec_name)
        model = self.built_model(model_spec)
        facts = facts_for(model_spec.model_id)
        hidden = facts.hidden_size
        q_width = facts.num_attention_heads * facts.head_dim
        kv_width = facts.num_key_value_heads * facts.head_dim
        intermediate = facts.intermediate_size
        expected = {
            "self_attn.q_proj.weight": (q_width, hidden),
            "self_attn.k_proj.weight": (kv_width, hidden),
            "self_attn.v_proj.weight": (kv_width, hidden),
            "self_attn.o_proj.weight": (hidden, q_width),
            "mlp.gate_proj.weight": (intermediate, hidden),
            "mlp.up_proj.weight": (intermediate, hidden),
            "mlp.down_proj.weight": (hidden, intermediate),
        }
        if facts.qk_norm:
            expected["self_attn.q_norm.weight"] = (facts.head_dim,)
            expected["self_attn.k_norm.weight"] = (facts.head_dim,)
        for index, layer in enumerate(model.model.layers):
            shapes = {name: tuple(p.shape) for name, p in layer.named_parameters()}
            # Exactly these weights plus the two RMSNorms: no bias anywhere.
            self.assertEqual(
                {name: shapes[name] for name in expected}, expected, f"layer {index}"
            )
            self.assertEqual(len(shapes), len(expected) + 2, f"layer {index}")

    @parameterized.expand(DENSE_CASES)
    def test_dense_parameter_count_matches_hand_count(self, spec_name):
        model_spec = spec(spec_name)
        model = self.built_model(model_spec)
        facts = facts_for(model_spec.model_id)
        counted = sum(parameter.numel() for parameter in model.parameters())
        expected = dense_parameter_count(facts, expected_layer_count(model_spec))
        self.assertEqual(counted, expected)

    def test_deepseek_latent_attention_shapes(self):
        model = self.built_model(spec("deepseek_v3_4l_bf16"))
        facts = facts_for(DEEPSEEK_V3)
        mla, hidden = DEEPSEEK_V3_MLA, facts.hidden_size
        heads = facts.num_attention_heads
        attention = model.model.layers[0].self_attn
        shapes = {
            "q_a_proj": (mla["q_lora_rank"], hidden),
            "q_b_proj": (heads * facts.head_dim, mla["q_lora_rank"]),
            "kv_a_proj_with_mqa": (
                mla["kv_lora_rank"] + mla["qk_rope_head_dim"],
                hidden,
            ),
            "kv_b_proj": (
                heads * (mla["qk_nope_head_dim"] + mla["v_head_dim"]),
                mla["kv_lora_rank"],
            ),
            "o_proj": (hidden, heads * mla["v_head_dim"]),
        }
        built = {name: tuple(getattr(attention, name).weight.shape) for name in shapes}
        self.assertEqual(built, shapes)

    @parameterized.expand(ALL_CASES)
    def test_forward_on_meta_gives_logits_per_token(self, spec_name):
        model_spec = spec(spec_name)
        model = self.built_model(model_spec)
        vocab = facts_for(model_spec.model_id).vocab_size
        batch, seq = 2, 8
        input_ids = torch.zeros(batch, seq, dtype=torch.long, device="meta")
        with torch.no_grad():
            logits = model(input_ids=input_ids).logits
        self.assertEqual(tuple(logits.shape), (batch, seq, vocab))
        self.assertEqual(logits.device.type, "meta")

    @parameterized.expand(ALL_CASES)
    def test_same_spec_gives_the_same_shared_model(self, spec_name):
        first = self.built_model(spec(spec_name))
        second = self.built_model(spec(spec_name))
        self.assertIs(first, second)

    def test_dtypes_are_separate_models(self):
        bf16 = self.built_model(spec("qwen3_32b_2l_bf16"))
        fp16 = self.built_model(spec("qwen3_32b_2l_fp16"))
        self.assertIsNot(bf16, fp16)
        self.assertEqual(bf16.model.embed_tokens.weight.dtype, torch.bfloat16)
        self.assertEqual(fp16.model.embed_tokens.weight.dtype, torch.float16)


class HfConfigCopiesTest(tcbase.TensorCastTestCase):
    """``hf_config`` returns a private deep copy of the cached config."""

    @parameterized.expand(CONFIG_CASES)
    def test_config_matches_published_shape(self, _name, model_id):
        config = self.hf_config(model_id)
        facts = facts_for(model_id)
        self.assertEqual(config.model_type, facts.model_type)
        self.assertEqual(config.architectures, [facts.architecture])
        self.assertEqual(config.num_hidden_layers, facts.num_hidden_layers)
        self.assertEqual(config.hidden_size, facts.hidden_size)
        self.assertEqual(config.vocab_size, facts.vocab_size)
        self.assertEqual(config.num_attention_heads, facts.num_attention_heads)
        self.assertEqual(config.num_key_value_heads, facts.num_key_value_heads)
        self.assertEqual(config.intermediate_size, facts.intermediate_size)
        self.assertEqual(config.tie_word_embeddings, facts.tie_word_embeddings)

    @parameterized.expand(CONFIG_CASES)
    def test_config_agrees_with_the_json_on_disk(self, _name, model_id):
        with open(os.path.join(model_id, "config.json"), encoding="utf-8") as stream:
            raw = json.load(stream)
        config = self.hf_config(model_id)
        fields = ("hidden_size", "num_hidden_layers", "vocab_size", "rms_norm_eps")
        loaded = {field: getattr(config, field) for field in fields}
        self.assertEqual(loaded, {field: raw[field] for field in fields})

    def test_mutating_a_copy_leaves_the_next_copy_alone(self):
        first = self.hf_config(QWEN3_0_6B)
        first.num_hidden_layers = 1
        first.hidden_size = 8
        second = self.hf_config(QWEN3_0_6B)
        self.assertIsNot(first, second)
        self.assertEqual(second.num_hidden_layers, 28)
        self.assertEqual(second.hidden_size, 1024)

    def test_layer_override_does_not_leak_into_the_cached_config(self):
        model = self.built_model(spec("qwen3_32b_2l_bf16"))
        self.assertEqual(model.config.num_hidden_layers, 2)
        self.assertEqual(self.hf_config(QWEN3_32B).num_hidden_layers, 64)
        self.assertIsNot(model.config, self.hf_config(QWEN3_32B))

    def test_deepseek_routing_fields_survive_loading(self):
        config = self.hf_config(DEEPSEEK_V3)
        self.assertEqual(config.n_routed_experts, 256)
        self.assertEqual(config.n_shared_experts, 1)
        self.assertEqual(config.num_experts_per_tok, 8)
        self.assertEqual(config.first_k_dense_replace, 3)
        self.assertEqual(config.n_group, 8)
        self.assertEqual(config.topk_group, 4)
        self.assertAlmostEqual(config.routed_scaling_factor, 2.5)
        self.assertEqual(config.kv_lora_rank, DEEPSEEK_V3_MLA["kv_lora_rank"])
        self.assertEqual(config.q_lora_rank, DEEPSEEK_V3_MLA["q_lora_rank"])
        self.assertFalse(hasattr(config, "quantization_config"))


if __name__ == "__main__":
    unittest.main()
