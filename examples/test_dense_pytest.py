"""pytest example: dense models through the tcbase fixtures.

``built_model`` and ``hf_config`` are factories provided by the tcbase pytest
plugin. The specs are the ones the unittest examples ask for, so a mixed run
builds each model once.

Under ``python -m unittest`` this module is imported but holds no TestCase, so
nothing is collected from it; without pytest it is skipped as a whole.
"""

from __future__ import annotations

import os
import unittest

try:
    import pytest
except ImportError:  # only unittest imports this module without pytest
    raise unittest.SkipTest("pytest is not installed") from None

import torch

import tcbase
from examples._models import (
    LLAMA_3_1_8B,
    QWEN3_0_6B,
    QWEN3_0_6B_FACTS,
    dense_parameter_count,
    expected_layer_count,
    facts_for,
    spec,
)

DENSE_SPECS = [
    "qwen3_0_6b_bf16",
    "qwen3_0_6b_fp16",
    "llama_3_1_8b_2l_bf16",
    "qwen3_32b_2l_bf16",
    "qwen3_32b_2l_fp16",
]


@pytest.mark.parametrize("spec_name", DENSE_SPECS)
def test_parameter_count_and_dtype(built_model, spec_name):
    model_spec = spec(spec_name)
    model = built_model(model_spec)
    facts = facts_for(model_spec.model_id)
    layers = expected_layer_count(model_spec)
    assert len(model.model.layers) == layers
    assert sum(p.numel() for p in model.parameters()) == dense_parameter_count(
        facts, layers
    )
    assert {p.dtype for p in model.parameters()} == {getattr(torch, model_spec.dtype)}
    assert {p.device.type for p in model.parameters()} == {"meta"}


def test_small_model_full_size(built_model):
    model = built_model(spec("qwen3_0_6b_bf16"))
    # 0.6B as published: 440M in the layers plus a 156M tied embedding.
    assert sum(p.numel() for p in model.parameters()) == 596_049_920
    assert model.lm_head.weight is model.model.embed_tokens.weight


@pytest.mark.parametrize("batch, seq", [(1, 1), (1, 8), (4, 32)])
def test_forward_shapes(built_model, batch, seq):
    model = built_model(spec("qwen3_0_6b_bf16"))
    input_ids = torch.zeros(batch, seq, dtype=torch.long, device="meta")
    with torch.no_grad():
        logits = model(input_ids=input_ids).logits
    assert tuple(logits.shape) == (batch, seq, QWEN3_0_6B_FACTS.vocab_size)
    assert logits.dtype == torch.bfloat16


def test_relative_spelling_shares_the_model(built_model):
    relative = os.path.relpath(QWEN3_0_6B)
    assert not os.path.isabs(relative)
    same = tcbase.ModelSpec(relative)
    assert same == spec("qwen3_0_6b_bf16")
    assert built_model(same) is built_model(spec("qwen3_0_6b_bf16"))


def test_second_request_is_a_cache_hit(built_model, tcbase_cache):
    model_spec = spec("llama_3_1_8b_2l_bf16")
    built_model(model_spec)
    hits_before = tcbase_cache.cache_info().model_hits
    built_model(model_spec)
    assert tcbase_cache.cache_info().model_hits == hits_before + 1


def test_hf_config_copies_are_private(hf_config):
    first = hf_config(QWEN3_0_6B)
    first.num_hidden_layers = 3
    first.vocab_size = 16
    second = hf_config(QWEN3_0_6B)
    assert second is not first
    assert (second.num_hidden_layers, second.vocab_size) == (28, 151936)


def test_override_only_touches_the_built_model(built_model, hf_config):
    model = built_model(spec("llama_3_1_8b_2l_bf16"))
    assert model.config.num_hidden_layers == 2
    assert hf_config(LLAMA_3_1_8B).num_hidden_layers == 32
