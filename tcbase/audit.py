"""Audit mode: rebuild on every hit and prove that sharing the model was right.

Two builds of one config are different objects, so they are compared by
structure: module names and classes, training flags, and each parameter's and
buffer's name, shape, dtype, device and requires_grad.
"""

from __future__ import annotations

from typing import Any

from .configs import field_names
from .errors import AuditMismatch
from .index import frozen_field

SHOWN = 10


def _unwrap(model: Any) -> Any:
    inner = getattr(model, "_orig_mod", None)
    return inner if inner is not None else model


def structure(model: Any) -> list[tuple]:
    """Return the identity-free structure of a model (or of a plain object)."""
    import torch

    model = _unwrap(model)
    if not isinstance(model, torch.nn.Module):
        state = getattr(model, "__dict__", None)
        if state is None:
            return [("object", type(model).__qualname__, repr(model))]
        return [
            (name, *structure(value))
            if isinstance(value, torch.nn.Module)
            # Plain objects (tests' stand-in models) compare by their values.
            else (name, repr(value))
            for name, value in sorted(state.items())
        ]
    rows: list[tuple] = []
    # Each module once, under its first name (as the fingerprint walks): a module
    # that is its own descendant would otherwise recurse without end.
    for name, module in model.named_modules():
        rows.append(("module", name, type(module).__qualname__, module.training))
        for kind, tensors in (
            ("param", module._parameters),
            ("buffer", module._buffers),
        ):
            for tensor_name, tensor in tensors.items():
                where = f"{name}.{tensor_name}" if name else tensor_name
                if tensor is None:
                    rows.append((kind, where, None))
                    continue
                rows.append(
                    (
                        kind,
                        where,
                        tuple(tensor.shape),
                        str(tensor.dtype),
                        str(tensor.device),
                        bool(tensor.requires_grad),
                    )
                )
    return rows


def _structure_changes(cached: list[tuple], fresh: list[tuple]) -> list[str]:
    cached_rows = {row[:2]: row for row in cached}
    fresh_rows = {row[:2]: row for row in fresh}
    changes = []
    for where in sorted(cached_rows.keys() | fresh_rows.keys(), key=repr):
        was, now = cached_rows.get(where), fresh_rows.get(where)
        if was != now:
            changes.append(
                f"{where[1] or '<model>'}: cached {was[2:] if was else 'absent'}"
                f", fresh {now[2:] if now else 'absent'}"
            )
    return changes


def differing_fields(requested: Any, entry_config: Any) -> list[str]:
    """Return the fields in which two configs differ, by frozen value."""
    names = sorted(set(field_names(requested)) | set(field_names(entry_config)))
    return [
        name
        for name in names
        if frozen_field(requested, name) != frozen_field(entry_config, name)
    ]


def check(
    model_id: str, cached: Any, fresh: Any, requested: Any, entry_config: Any
) -> None:
    """Raise ``AuditMismatch`` if a fresh build differs from the shared model."""
    was, now = structure(cached), structure(fresh)
    if was == now:
        return
    changes = _structure_changes(was, now)
    fields = differing_fields(requested, entry_config)
    shown = "; ".join(changes[:SHOWN])
    more = f" (and {len(changes) - SHOWN} more)" if len(changes) > SHOWN else ""
    because = (
        f"the requesting config differs from the cached entry's in {fields}, "
        "which the build used without reading them through the config"
        if fields
        else "the configs are equal, so the build depends on state outside the "
        "config (a global, a file, the environment)"
    )
    raise AuditMismatch(
        f"audit: the shared model of {model_id!r} differs from a fresh build for "
        f"the requesting config: {shown}{more}. Sharing it was wrong: {because}. "
        "Give its builder an explicit key with tcbase.register_builder(..., key=...)."
    )
