"""``ModelSpec`` and the built-in builder on plain transformers.

It needs only torch and transformers, so every machine can build real models on
the ``meta`` device, with or without tensor_cast.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .builders import register_builder
from .loaders import normalise_model_id


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """What the built-in builder needs to build one causal LM on ``meta``.

    ``dtype`` is a torch dtype or its name (``"bfloat16"``);
    ``num_hidden_layers`` overrides the config's layer count when set.
    """

    model_id: str
    dtype: Any = "bfloat16"
    num_hidden_layers: int | None = None
    trust_remote_code: bool = False
    remote_source: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.model_id, str) or not self.model_id:
            raise ValueError(
                f"ModelSpec.model_id must be a non-empty string, got {self.model_id!r}"
            )
        if (
            type(self.dtype).__module__ == "torch"
            and type(self.dtype).__name__ == "dtype"
        ):
            # torch.bfloat16 and "bfloat16" are one spec.
            object.__setattr__(self, "dtype", str(self.dtype).removeprefix("torch."))
        # A local path is stored absolute, so that 'x', './x' and its absolute
        # spelling are one spec and share one model, as they share one config.
        object.__setattr__(self, "model_id", normalise_model_id(self.model_id))
        layers = self.num_hidden_layers
        if layers is not None and (
            isinstance(layers, bool) or not isinstance(layers, int) or layers < 1
        ):
            raise ValueError(
                "ModelSpec.num_hidden_layers must be a positive int or None, "
                f"got {layers!r}"
            )


def _torch_dtype(spec: ModelSpec) -> Any:
    import torch

    if isinstance(spec.dtype, torch.dtype):
        return spec.dtype
    found = getattr(torch, str(spec.dtype), None)
    if not isinstance(found, torch.dtype):
        raise ValueError(
            f"ModelSpec.dtype {spec.dtype!r} for {spec.model_id!r} is not a torch "
            "dtype; use e.g. 'bfloat16', 'float16', 'float32' or torch.bfloat16"
        )
    return found


def _dtype_keyword() -> str:
    import transformers

    major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
    return "dtype" if (major, minor) >= (4, 56) else "torch_dtype"


def build_from_spec(spec: ModelSpec) -> Any:
    """Build ``AutoModelForCausalLM.from_config`` on the meta device, in eval mode."""
    import torch
    from transformers import AutoModelForCausalLM

    from .cache import get_hf_config

    dtype = _torch_dtype(spec)
    hf_config = get_hf_config(spec.model_id, remote_source=spec.remote_source)
    if spec.num_hidden_layers is not None:
        hf_config.num_hidden_layers = spec.num_hidden_layers
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(
            hf_config,
            trust_remote_code=spec.trust_remote_code,
            **{_dtype_keyword(): dtype},
        )
    return model.eval()


def _import_transformers() -> None:
    import torch  # noqa: F401
    from transformers import AutoModelForCausalLM  # noqa: F401


register_builder(
    ModelSpec, build_from_spec, name="tcbase.ModelSpec", prepare=_import_transformers
)
