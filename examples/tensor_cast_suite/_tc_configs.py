"""UserInputConfigs shared by the tensor_cast example suites.

Six distinct builds are requested (``TC_DISTINCT_BUILDS``); configs that differ
only in request-shape fields (``num_queries``, ``query_len``, ``context_length``)
must share one model, since ``build_model`` does not depend on them.

Importing this module imports tensor_cast when it is available (that takes a
few seconds); ``TENSOR_CAST_SKIP_REASON`` says why it is not, otherwise.
"""

from __future__ import annotations

from examples._models import DEEPSEEK_V3, QWEN3_0_6B, tensor_cast_import_error

TENSOR_CAST_SKIP_REASON = tensor_cast_import_error()

# Build settings by name: the fields that decide which model gets built.
BUILD_SETTINGS = {
    "qwen3_0_6b": {"model_id": QWEN3_0_6B},
    "qwen3_0_6b_2l": {"model_id": QWEN3_0_6B, "num_hidden_layers_override": 2},
    "qwen3_0_6b_unquantized": {
        "model_id": QWEN3_0_6B,
        "quantize_linear_action": "DISABLED",
    },
    # All 61 layers, with tensor_cast's layer repetition (its default): about
    # 1 s. With disable_repetition=True the full model takes about 30 s, so that
    # variant is only built with a 4-layer override.
    "deepseek_v3": {"model_id": DEEPSEEK_V3},
    "deepseek_v3_4l": {"model_id": DEEPSEEK_V3, "num_hidden_layers_override": 4},
    "deepseek_v3_4l_no_repetition": {
        "model_id": DEEPSEEK_V3,
        "num_hidden_layers_override": 4,
        "disable_repetition": True,
    },
}
TC_DISTINCT_BUILDS = len(BUILD_SETTINGS)

# (num_queries, query_len, context_length): request shapes that must not
# cause a rebuild.
DEFAULT_SHAPE = (1, 32, 32)
REQUEST_SHAPES = [DEFAULT_SHAPE, (1, 128, 0), (4, 16, 256), (8, 1, 1024)]


def user_config(name: str, shape: tuple[int, int, int] = DEFAULT_SHAPE):
    """Return a fresh UserInputConfig for build settings ``name`` and a shape."""
    from tensor_cast.core.quantization.datatypes import QuantizeLinearAction
    from tensor_cast.core.user_config import UserInputConfig

    settings = dict(BUILD_SETTINGS[name])
    action = settings.get("quantize_linear_action")
    if isinstance(action, str):
        settings["quantize_linear_action"] = QuantizeLinearAction[action]
    num_queries, query_len, context_length = shape
    return UserInputConfig(
        num_queries=num_queries,
        query_len=query_len,
        context_length=context_length,
        **settings,
    )


def decoder_layers(model):
    """Return the ModuleList of decoder layers inside a tensor_cast model."""
    import torch

    for name, module in model.named_modules():
        if name.split(".")[-1] == "layers" and isinstance(module, torch.nn.ModuleList):
            return module
    raise AssertionError(f"no decoder layer list found in {type(model).__name__}")


def layers_with_own_weights(layers) -> int:
    """Count layers that hold parameters of their own.

    With layer repetition tensor_cast keeps one representative layer per kind
    and makes the others light stand-ins without weights.
    """
    return sum(1 for layer in layers if next(layer.parameters(), None) is not None)


def run_prefill(model, config):
    """Run the model once on meta inputs for the request shape in ``config``."""
    import torch
    from tensor_cast.core.input_generator import generate_inputs

    inputs = generate_inputs(model, [config.get_request_info()])
    with torch.no_grad():
        return model(**inputs)
