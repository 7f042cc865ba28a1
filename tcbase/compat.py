"""A drop-in for the legacy per-project ``model_cache`` helper module.

A project's old helper can become ``from tcbase.compat import *``: the same
names, backed by tcbase's dictionaries, keys, guard and report.
"""

from __future__ import annotations

from typing import Any

from .cache import _BUILT_MODEL_CACHE, _HF_CONFIG_CACHE, get_built_model, get_hf_config

__all__ = [
    "_BUILT_MODEL_CACHE",
    "_HF_CONFIG_CACHE",
    "get_built_model",
    "get_hf_config",
    "user_config_build_cache_key",
]

LEGACY_KEY_FIELDS = (
    "model_id",
    "do_compile",
    "num_mtp_tokens",
    "num_hidden_layers_override",
    "quantize_linear_action",
    "quantize_attention_action",
    "remote_source",
    "allow_graph_break",
    "world_size",
    "tp_size",
    "mlp_tp_size",
    "lmhead_tp_size",
    "vision_tp_size",
    "ep_size",
    "moe_dp_size",
    "moe_tp_size",
    "enable_redundant_experts",
    "enable_external_shared_experts",
    "enable_shared_expert_tp",
    "host_external_shared_experts",
    "disable_repetition",
)


def user_config_build_cache_key(user_config: Any) -> tuple:
    """Return the legacy hand-written 21-field key of a ``UserInputConfig``.

    Kept for migration only. It is incomplete: tensor_cast's build reads fields
    it lacks, so two configs that build different models can get one key. Use
    it only as ``register_builder(..., key=user_config_build_cache_key)`` while
    comparing against the traced default.
    """
    return tuple(getattr(user_config, name) for name in LEGACY_KEY_FIELDS)
