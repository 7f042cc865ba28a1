"""The registry that says where models of each config type come from.

A builder is chosen through the config type's MRO. tensor_cast's
``UserInputConfig`` is wired in lazily, the first time such a config is seen, so
that ``import tcbase`` never imports tensor_cast.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable
from typing import Any

TENSOR_CAST_CONFIG = ("tensor_cast.core.user_config", "UserInputConfig")

# Plain attributes tensor_cast models set on themselves in a forward pass, which
# are not changes of the model: its region wrappers record what their layer
# returned on the first pass, and its multi-head latent attention (DeepSeek)
# re-derives its projections' quantisation parameters on every pass.
_MLA_PROJECTIONS = ("q_a_proj", "q_b_proj", "kv_a_proj")
TENSOR_CAST_MEMO_ATTRIBUTES = frozenset(
    {"returns_tuple", "return_length"}
    | {
        f"{proj}_{part}"
        for proj in _MLA_PROJECTIONS
        for part in ("weight", "scale", "offset")
    }
    | {"q_a_layernorm_weight", "kv_a_layernorm_weight"}
)


@dataclasses.dataclass(frozen=True)
class Builder:
    """How models of one config type are built, keyed and guarded."""

    config_type: type
    build: Callable[[Any], Any]
    name: str
    key: Callable[[Any], Any] | None = None
    guard_ignore: frozenset[str] = frozenset()
    # Runs once before the first timed build, so that the seconds a build is
    # credited with do not include importing torch or transformers.
    prepare: Callable[[], Any] | None = None


_BUILDERS: dict[type, Builder] = {}
_LOCK = threading.Lock()


def _callable_name(function: Callable[..., Any]) -> str:
    module = getattr(function, "__module__", None) or "?"
    qualname = getattr(function, "__qualname__", None) or repr(function)
    return f"{module}.{qualname}"


def register_builder(
    config_type: type,
    build: Callable[[Any], Any],
    *,
    name: str | None = None,
    key: Callable[[Any], Any] | None = None,
    guard_ignore: Iterable[str] = (),
    prepare: Callable[[], Any] | None = None,
) -> None:
    """Build models of ``config_type`` (and its subclasses) with ``build``.

    ``key``, when given, replaces the traced key: it maps a config to a hashable
    (or freezable) value, and configs with equal keys share one model.
    ``guard_ignore`` names plain module attributes the model may set on itself
    (memos of a first forward pass) without a guard warning.
    """
    if not isinstance(config_type, type):
        raise TypeError(
            f"register_builder() needs a class as config_type, got {config_type!r}"
        )
    if not callable(build):
        raise TypeError(f"register_builder() needs a callable build, got {build!r}")
    if key is not None and not callable(key):
        raise TypeError(f"register_builder(key=...) must be callable, got {key!r}")
    if isinstance(guard_ignore, str):
        raise TypeError(
            "register_builder(guard_ignore=...) takes a collection of attribute "
            f"names, got the single string {guard_ignore!r}"
        )
    entry = Builder(
        config_type=config_type,
        build=build,
        name=name or _callable_name(build),
        key=key,
        guard_ignore=frozenset(guard_ignore),
        prepare=prepare,
    )
    with _LOCK:
        _BUILDERS[config_type] = entry


def _is_tensor_cast_config(config_type: type) -> bool:
    return any(
        (klass.__module__, klass.__qualname__) == TENSOR_CAST_CONFIG
        for klass in config_type.__mro__
    )


def _register_tensor_cast() -> None:
    from tensor_cast.core.model_builder import build_model
    from tensor_cast.core.user_config import UserInputConfig

    register_builder(
        UserInputConfig,
        build_model,
        name="tensor_cast.build_model",
        guard_ignore=TENSOR_CAST_MEMO_ATTRIBUTES,
    )


def builder_for(config_type: type) -> Builder:
    """Return the builder registered for ``config_type`` or one of its bases."""
    for klass in config_type.__mro__:
        found = _BUILDERS.get(klass)
        if found is not None:
            return found
    if _is_tensor_cast_config(config_type):
        _register_tensor_cast()
        return builder_for(config_type)
    raise TypeError(
        f"tcbase has no builder for configs of type "
        f"{config_type.__module__}.{config_type.__qualname__}. Register one with "
        f"tcbase.register_builder({config_type.__qualname__}, build_function), or "
        "pass a tcbase.ModelSpec or a tensor_cast UserInputConfig."
    )


def registered() -> dict[type, Builder]:
    """Return a snapshot of the registry."""
    with _LOCK:
        return dict(_BUILDERS)
