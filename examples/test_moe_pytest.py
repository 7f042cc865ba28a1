"""pytest example: mixture-of-experts structure through the tcbase fixtures.

DeepSeek-V3 is cut to 4 layers (its 3 dense layers and the first MoE layer) and
Qwen3-30B-A3B to 2 layers; both specs are shared with the unittest examples.

Under ``python -m unittest`` this module holds no TestCase and yields no tests;
without pytest it is skipped as a whole.
"""

from __future__ import annotations

import math
import unittest

try:
    import pytest
except ImportError:  # only unittest imports this module without pytest
    raise unittest.SkipTest("pytest is not installed") from None

import torch

from examples._models import (
    DEEPSEEK_V3,
    DEEPSEEK_V3_FACTS,
    DEEPSEEK_V3_MLA,
    QWEN3_30B_A3B,
    QWEN3_30B_A3B_FACTS,
    expert_weight_shapes,
    routed_expert_count,
    spec,
)

MOE_CASES = [
    pytest.param("deepseek_v3_4l_bf16", DEEPSEEK_V3_FACTS, id="deepseek_v3_4l"),
    pytest.param("qwen3_30b_a3b_2l_bf16", QWEN3_30B_A3B_FACTS, id="qwen3_30b_a3b_2l"),
]


def _moe_layers(model, facts):
    return [
        layer
        for index, layer in enumerate(model.model.layers)
        if index >= facts.first_dense_layers
    ]


@pytest.mark.parametrize("spec_name, facts", MOE_CASES)
def test_router_and_routed_experts(built_model, spec_name, facts):
    model = built_model(spec(spec_name))
    moe_layers = _moe_layers(model, facts)
    assert moe_layers, "the override must keep at least one MoE layer"
    for layer in moe_layers:
        block = layer.mlp
        assert routed_expert_count(block.experts) == facts.num_routed_experts
        gate = tuple(block.gate.weight.shape)
        assert gate == (facts.num_routed_experts, facts.hidden_size)


@pytest.mark.parametrize("spec_name, facts", MOE_CASES)
def test_each_expert_is_a_small_gated_mlp(built_model, spec_name, facts):
    model = built_model(spec(spec_name))
    experts = _moe_layers(model, facts)[0].mlp.experts
    shapes = expert_weight_shapes(experts)
    # gate, up and down projections of one expert, however they are stored.
    per_expert = sum(math.prod(shape) for shape in shapes)
    assert per_expert == 3 * facts.moe_intermediate_size * facts.hidden_size
    for shape in shapes:
        assert facts.hidden_size in shape


def test_deepseek_dense_layers_follow_first_k_dense_replace(built_model, hf_config):
    model = built_model(spec("deepseek_v3_4l_bf16"))
    first_k = hf_config(DEEPSEEK_V3).first_k_dense_replace
    assert first_k == 3
    layers = model.model.layers
    for layer in layers[:first_k]:
        assert not hasattr(layer.mlp, "experts")
        assert tuple(layer.mlp.gate_proj.weight.shape) == (
            DEEPSEEK_V3_FACTS.intermediate_size,
            DEEPSEEK_V3_FACTS.hidden_size,
        )
    for layer in layers[first_k:]:
        assert hasattr(layer.mlp, "experts")


def test_deepseek_shared_expert_and_routing_settings(built_model):
    model = built_model(spec("deepseek_v3_4l_bf16"))
    block = model.model.layers[3].mlp
    width = (
        DEEPSEEK_V3_FACTS.moe_intermediate_size * DEEPSEEK_V3_FACTS.num_shared_experts
    )
    assert tuple(block.shared_experts.gate_proj.weight.shape) == (
        width,
        DEEPSEEK_V3_FACTS.hidden_size,
    )
    config = model.config
    assert config.num_experts_per_tok == DEEPSEEK_V3_FACTS.experts_per_token
    assert (config.n_group, config.topk_group) == (8, 4)
    assert config.routed_scaling_factor == pytest.approx(2.5)


def test_deepseek_parameter_count(built_model):
    model = built_model(spec("deepseek_v3_4l_bf16"))
    facts, mla = DEEPSEEK_V3_FACTS, DEEPSEEK_V3_MLA
    h, heads = facts.hidden_size, facts.num_attention_heads
    attention = (
        h * mla["q_lora_rank"]
        + mla["q_lora_rank"]
        + mla["q_lora_rank"] * heads * facts.head_dim
        + h * (mla["kv_lora_rank"] + mla["qk_rope_head_dim"])
        + mla["kv_lora_rank"]
        + mla["kv_lora_rank"] * heads * (mla["qk_nope_head_dim"] + mla["v_head_dim"])
        + heads * mla["v_head_dim"] * h
    )
    dense_mlp = 3 * h * facts.intermediate_size
    one_expert = 3 * h * facts.moe_intermediate_size
    moe_mlp = (
        facts.num_routed_experts * one_expert
        + facts.num_routed_experts * h  # router
        + facts.num_shared_experts * one_expert
    )
    norms = 2 * h
    expected = (
        3 * (attention + dense_mlp + norms)
        + (attention + moe_mlp + norms)
        + 2 * facts.vocab_size * h
        + h
    )
    assert sum(p.numel() for p in model.parameters()) == expected == 15_111_101_440


def test_qwen3_moe_has_no_shared_experts_and_no_dense_layers(built_model, hf_config):
    model = built_model(spec("qwen3_30b_a3b_2l_bf16"))
    config = hf_config(QWEN3_30B_A3B)
    assert config.mlp_only_layers == []
    assert config.decoder_sparse_step == 1
    for layer in model.model.layers:
        assert hasattr(layer.mlp, "experts")
        assert getattr(layer.mlp, "shared_experts", None) is None


@pytest.mark.parametrize("spec_name, facts", MOE_CASES)
def test_forward_on_meta(built_model, spec_name, facts):
    model = built_model(spec(spec_name))
    input_ids = torch.zeros(2, 8, dtype=torch.long, device="meta")
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits
    assert tuple(logits.shape) == (2, 8, facts.vocab_size)
    assert logits.device.type == "meta"
