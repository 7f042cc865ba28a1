"""What the module fingerprint leaves out: forwards patched on instances, and
the model's HF config.

Tests change shared HF models this way (``layer.forward = ...``,
``model.config.num_hidden_layers = 1``), so the guard looks at both.
"""

from __future__ import annotations

from typing import Any


def _root(model: Any) -> Any:
    inner = getattr(model, "__dict__", {}).get("_modules", {}).get("_orig_mod")
    return inner if inner is not None else model


def take(model: Any) -> tuple:
    """Return the patched forwards and the config's state of a module model."""
    import torch

    root = _root(model)
    if not isinstance(root, torch.nn.Module):
        return ((), None, None)
    patched = tuple(
        (name, id(module.__dict__["forward"]))
        for name, module in root.named_modules(remove_duplicate=False)
        if "forward" in module.__dict__
    )
    config = root.__dict__.get("config")
    state = getattr(config, "__dict__", None)
    shown = (
        None if state is None else {key: repr(value) for key, value in state.items()}
    )
    return (patched, id(config) if config is not None else None, shown)


def diff(before: tuple, after: tuple) -> list[str]:
    """Return one message per difference, structural all."""
    messages = []
    was, now = dict(before[0]), dict(after[0])
    for name in sorted(was.keys() | now.keys()):
        if was.get(name) != now.get(name):
            where = name or "<model>"
            change = "restored" if name not in now else "replaced"
            messages.append(f"{where}: forward {change} on the instance")
    if before[1] != after[1]:
        messages.append("config: replaced by another object")
    elif before[2] != after[2] and before[2] is not None and after[2] is not None:
        old, new = before[2], after[2]
        for key in sorted(old.keys() | new.keys()):
            if old.get(key) != new.get(key):
                messages.append(
                    f"config.{key}: {old.get(key, '<absent>')} -> {new.get(key, '<absent>')}"
                )
    return messages
