"""pytest example with tensor_cast: ``UserInputConfig`` through the fixtures.

The whole module is skipped, with the reason, when tensor_cast (or pytest)
cannot be imported. ``unittest.SkipTest`` is used for that because both runners
treat it as "skip this module"; ``pytest.skip`` at import time would be an error
under unittest, which also imports this file.
"""

from __future__ import annotations

import unittest

from examples.tensor_cast_suite._tc_configs import TENSOR_CAST_SKIP_REASON

try:
    import pytest
except ImportError:  # only unittest imports this module without pytest
    raise unittest.SkipTest("pytest is not installed") from None
if TENSOR_CAST_SKIP_REASON is not None:
    raise unittest.SkipTest(TENSOR_CAST_SKIP_REASON)

from examples._models import DEEPSEEK_V3, DEEPSEEK_V3_FACTS, QWEN3_0_6B_FACTS  # noqa: E402
from examples.tensor_cast_suite._tc_configs import (  # noqa: E402
    DEFAULT_SHAPE,
    REQUEST_SHAPES,
    decoder_layers,
    layers_with_own_weights,
    run_prefill,
    user_config,
)


@pytest.mark.parametrize("shape", REQUEST_SHAPES, ids=str)
def test_request_shapes_share_one_model(built_model, shape):
    assert built_model(user_config("qwen3_0_6b", shape)) is built_model(
        user_config("qwen3_0_6b", DEFAULT_SHAPE)
    )


def test_build_field_change_is_a_different_model(built_model):
    quantized = built_model(user_config("qwen3_0_6b"))
    plain = built_model(user_config("qwen3_0_6b_unquantized"))
    assert plain is not quantized
    # Default W8A8 stores 1-byte linear weights; unquantized keeps 2 bytes.
    assert plain.weight_size > quantized.weight_size
    assert len(decoder_layers(plain)) == QWEN3_0_6B_FACTS.num_hidden_layers


def test_layer_override_is_shared_across_shapes(built_model):
    first = built_model(user_config("qwen3_0_6b_2l", (1, 32, 32)))
    second = built_model(user_config("qwen3_0_6b_2l", (2, 64, 64)))
    assert first is second
    assert first.num_hidden_layers == 2


@pytest.mark.parametrize("shape", [(1, 16, 0), (2, 8, 128)], ids=str)
def test_deepseek_prefill_on_meta(built_model, shape):
    config = user_config("deepseek_v3_4l", shape)
    model = built_model(config)
    logits = run_prefill(model, config)
    assert logits.shape[-1] == DEEPSEEK_V3_FACTS.vocab_size
    assert logits.shape[-2] == shape[0]
    assert logits.device.type == "meta"


def test_deepseek_config_and_model_disagree_only_on_layers(built_model, hf_config):
    model = built_model(user_config("deepseek_v3_4l"))
    config = hf_config(DEEPSEEK_V3)
    assert config.num_hidden_layers == 61
    assert model.num_hidden_layers == 4
    assert model.hidden_size == config.hidden_size == DEEPSEEK_V3_FACTS.hidden_size
    assert layers_with_own_weights(decoder_layers(model)) == 2


def test_full_deepseek_with_repetition(built_model):
    model = built_model(user_config("deepseek_v3"))
    assert model.num_hidden_layers == 61
    assert layers_with_own_weights(decoder_layers(model)) == 2
