"""Model ids, facts and specs shared by every example suite.

Distinct model specs requested across all example files (so a full run's report
should show exactly this many model builds):

* 8 ``tcbase.ModelSpec`` builds (plain transformers on ``meta``): the eight specs
  of ``model_specs()`` below;
* plus 6 tensor_cast ``build_model`` builds when tensor_cast is importable
  (``TC_DISTINCT_BUILDS`` in ``examples/tensor_cast_suite/_tc_configs.py``),
  14 in all; without tensor_cast those suites are skipped and it stays 8.

The unittest files ask for every one of them and the pytest files for a subset,
so the count is the same under ``python -m tcbase discover -s examples -t .``
and under ``python -m pytest examples`` (which collects both kinds). Under
pytest-xdist each worker builds what its own tests need.

Config loads: one per config folder that is used, i.e. 5.

Every model id here is an absolute path worked out from this file's location,
so the examples run from any clone and from any working directory. The config
folders hold only a ``config.json`` (no weights, no remote code), written from
the models' published hyper-parameters, so nothing is fetched from a hub.
"""

from __future__ import annotations

import dataclasses
import os

CONFIG_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs")


def config_dir(name: str) -> str:
    """Return the absolute path of the config folder ``examples/configs/<name>``."""
    return os.path.join(CONFIG_ROOT, name)


QWEN3_0_6B = config_dir("qwen3-0.6b")
LLAMA_3_1_8B = config_dir("llama-3.1-8b")
QWEN3_32B = config_dir("qwen3-32b")
QWEN3_30B_A3B = config_dir("qwen3-30b-a3b")
DEEPSEEK_V3 = config_dir("deepseek-v3")


@dataclasses.dataclass(frozen=True)
class ModelFacts:
    """The published shape of one model, written down independently of its config.

    The tests compare built models against these numbers, so a wrong
    ``config.json`` or a wrong build shows up as a failure.
    """

    model_id: str
    architecture: str
    model_type: str
    num_hidden_layers: int
    hidden_size: int
    vocab_size: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    intermediate_size: int
    tie_word_embeddings: bool
    qk_norm: bool = False
    # Mixture-of-experts fields; zero for dense models.
    num_routed_experts: int = 0
    num_shared_experts: int = 0
    experts_per_token: int = 0
    moe_intermediate_size: int = 0
    first_dense_layers: int = 0


QWEN3_0_6B_FACTS = ModelFacts(
    model_id=QWEN3_0_6B,
    architecture="Qwen3ForCausalLM",
    model_type="qwen3",
    num_hidden_layers=28,
    hidden_size=1024,
    vocab_size=151936,
    num_attention_heads=16,
    num_key_value_heads=8,
    head_dim=128,
    intermediate_size=3072,
    tie_word_embeddings=True,
    qk_norm=True,
)
LLAMA_3_1_8B_FACTS = ModelFacts(
    model_id=LLAMA_3_1_8B,
    architecture="LlamaForCausalLM",
    model_type="llama",
    num_hidden_layers=32,
    hidden_size=4096,
    vocab_size=128256,
    num_attention_heads=32,
    num_key_value_heads=8,
    head_dim=128,
    intermediate_size=14336,
    tie_word_embeddings=False,
)
QWEN3_32B_FACTS = ModelFacts(
    model_id=QWEN3_32B,
    architecture="Qwen3ForCausalLM",
    model_type="qwen3",
    num_hidden_layers=64,
    hidden_size=5120,
    vocab_size=151936,
    num_attention_heads=64,
    num_key_value_heads=8,
    head_dim=128,
    intermediate_size=25600,
    tie_word_embeddings=False,
    qk_norm=True,
)
QWEN3_30B_A3B_FACTS = ModelFacts(
    model_id=QWEN3_30B_A3B,
    architecture="Qwen3MoeForCausalLM",
    model_type="qwen3_moe",
    num_hidden_layers=48,
    hidden_size=2048,
    vocab_size=151936,
    num_attention_heads=32,
    num_key_value_heads=4,
    head_dim=128,
    intermediate_size=6144,
    tie_word_embeddings=False,
    qk_norm=True,
    num_routed_experts=128,
    num_shared_experts=0,
    experts_per_token=8,
    moe_intermediate_size=768,
    first_dense_layers=0,
)
# DeepSeek-V3 uses multi-head latent attention: ``head_dim`` here is the query /
# key head size (nope 128 + rope 64); the MLA ranks are in DEEPSEEK_V3_MLA.
DEEPSEEK_V3_FACTS = ModelFacts(
    model_id=DEEPSEEK_V3,
    architecture="DeepseekV3ForCausalLM",
    model_type="deepseek_v3",
    num_hidden_layers=61,
    hidden_size=7168,
    vocab_size=129280,
    num_attention_heads=128,
    num_key_value_heads=128,
    head_dim=192,
    intermediate_size=18432,
    tie_word_embeddings=False,
    num_routed_experts=256,
    num_shared_experts=1,
    experts_per_token=8,
    moe_intermediate_size=2048,
    first_dense_layers=3,
)
DEEPSEEK_V3_MLA = {
    "q_lora_rank": 1536,
    "kv_lora_rank": 512,
    "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64,
    "v_head_dim": 128,
}

FACTS_BY_ID = {
    facts.model_id: facts
    for facts in (
        QWEN3_0_6B_FACTS,
        LLAMA_3_1_8B_FACTS,
        QWEN3_32B_FACTS,
        QWEN3_30B_A3B_FACTS,
        DEEPSEEK_V3_FACTS,
    )
}


def facts_for(model_id: str) -> ModelFacts:
    """Return the facts of a model id (an absolute path, as tcbase stores it)."""
    return FACTS_BY_ID[os.path.abspath(model_id)]


# ------------------------------------------------------------------ specs
#
# Built lazily: importing tcbase is cheap, but keeping the specs behind a
# function lets a suite that does not need tcbase import this module anyway.


def _spec(model_id: str, **options):
    import tcbase

    return tcbase.ModelSpec(model_id, **options)


def model_specs() -> dict[str, object]:
    """Return the eight distinct ModelSpecs the example suites request, by name.

    Names tell model, layer count and dtype; each suite picks some of these so
    that a mixed unittest + pytest run shares the builds.
    """
    return {
        # Small dense model, all 28 layers, in two dtypes.
        "qwen3_0_6b_bf16": _spec(QWEN3_0_6B),
        "qwen3_0_6b_fp16": _spec(QWEN3_0_6B, dtype="float16"),
        # Llama 3.1 8B: with a 2-layer override, and in full (setUpClass suite).
        "llama_3_1_8b_2l_bf16": _spec(LLAMA_3_1_8B, num_hidden_layers=2),
        "llama_3_1_8b_bf16": _spec(LLAMA_3_1_8B),
        # Large dense model, cut to 2 layers, in two dtypes.
        "qwen3_32b_2l_bf16": _spec(QWEN3_32B, num_hidden_layers=2),
        "qwen3_32b_2l_fp16": _spec(QWEN3_32B, num_hidden_layers=2, dtype="float16"),
        # MoE models: 4 DeepSeek-V3 layers (3 dense + 1 MoE), 2 Qwen3-MoE layers.
        "deepseek_v3_4l_bf16": _spec(DEEPSEEK_V3, num_hidden_layers=4),
        "qwen3_30b_a3b_2l_bf16": _spec(QWEN3_30B_A3B, num_hidden_layers=2),
    }


def spec(name: str):
    """Return the ModelSpec called ``name`` in ``model_specs()``."""
    return model_specs()[name]


# --------------------------------------------------------- model helpers


def expected_layer_count(model_spec) -> int:
    """Return the number of decoder layers a spec should build."""
    if model_spec.num_hidden_layers is not None:
        return model_spec.num_hidden_layers
    return facts_for(model_spec.model_id).num_hidden_layers


def dense_parameter_count(facts: ModelFacts, layers: int) -> int:
    """Count the parameters of a Llama/Qwen3-style dense decoder by hand.

    Attention: q, k, v, o projections without bias (plus two per-head RMSNorm
    weights for Qwen3); MLP: gate, up, down; two RMSNorms per layer; the token
    embedding, the final norm and, unless tied, the output head.
    """
    h, d = facts.hidden_size, facts.head_dim
    q_width = facts.num_attention_heads * d
    kv_width = facts.num_key_value_heads * d
    attention = h * q_width + 2 * h * kv_width + q_width * h
    if facts.qk_norm:
        attention += 2 * d
    mlp = 3 * h * facts.intermediate_size
    per_layer = attention + mlp + 2 * h
    embeddings = facts.vocab_size * h * (1 if facts.tie_word_embeddings else 2)
    return layers * per_layer + embeddings + h


def routed_expert_count(experts) -> int:
    """Return how many routed experts an MoE block's ``experts`` module holds.

    Recent transformers store all experts as stacked 3-D weights on one module
    with a ``num_experts`` attribute; older releases keep a ``ModuleList`` with
    one MLP per expert. Both are handled.
    """
    count = getattr(experts, "num_experts", None)
    if isinstance(count, int):
        return count
    return len(experts)


def expert_weight_shapes(experts) -> list[tuple[int, ...]]:
    """Return the shapes of the weights of the first routed expert.

    For stacked experts the leading (expert) dimension is dropped, so both
    layouts answer in the same terms: a list of 2-D shapes.
    """
    if hasattr(experts, "num_experts") and not hasattr(experts, "__len__"):
        count = experts.num_experts
        shapes = []
        for parameter in experts.parameters(recurse=False):
            assert parameter.shape[0] == count, (parameter.shape, count)
            shapes.append(tuple(parameter.shape[1:]))
        return shapes
    return [tuple(p.shape) for p in experts[0].parameters()]


def tensor_cast_import_error() -> str | None:
    """Return why tensor_cast cannot be used here, or None when it can."""
    try:
        from tensor_cast.core import model_builder, user_config  # noqa: F401
    except ImportError as error:
        return f"tensor_cast is not importable ({error})"
    return None
