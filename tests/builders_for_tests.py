"""Small real builders and config classes that tcbase's tests register."""

from __future__ import annotations

import dataclasses
import enum


class Activation(enum.Enum):
    RELU = "relu"
    GELU = "gelu"


@dataclasses.dataclass
class MlpConfig:
    """A config whose fields are of the awkward kinds: lists, dicts, enums."""

    model_id: str = "mlp"
    widths: list = dataclasses.field(default_factory=lambda: [8, 16, 4])
    activation: Activation = Activation.RELU
    options: dict = dataclasses.field(default_factory=dict)
    batch_size: int = 1


def build_mlp(config: MlpConfig):
    """Build a real ``torch.nn.Sequential`` on the meta device."""
    import torch

    layers = []
    for index, (width_in, width_out) in enumerate(
        zip(config.widths, config.widths[1:], strict=False)
    ):
        layers.append(torch.nn.Linear(width_in, width_out, device="meta"))
        if index < len(config.widths) - 2:
            if config.activation is Activation.RELU:
                layers.append(torch.nn.ReLU())
            else:
                layers.append(torch.nn.GELU())
    if config.options.get("dropout"):
        layers.append(torch.nn.Dropout(config.options["dropout"]))
    return torch.nn.Sequential(*layers)
