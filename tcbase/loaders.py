"""Where Hugging Face configs come from, and how model ids become cache keys.

tensor_cast's ``AutoModelConfigLoader`` is used when tensor_cast is importable,
``transformers.AutoConfig`` otherwise. Local paths are normalised lexically;
symbolic links are deliberately not resolved (see ``config_key``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import warnings
from typing import Any

from .errors import ArtifactError, TcbaseWarning

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def is_local_path(model_id: str) -> bool:
    """Return True when ``model_id`` names (or is written as) a local path."""
    expanded = os.path.expanduser(model_id)
    if os.path.exists(expanded):
        return True
    return (
        os.path.isabs(expanded)
        or model_id.startswith((".", "~"))
        or model_id.endswith(".json")
        or model_id.count("/") > 1
    )


def normalise_model_id(model_id: str) -> str:
    """Return the spelling of ``model_id`` under which its config is cached.

    A local path becomes absolute, without ``.`` parts, so ``x``, ``./x`` and the
    absolute path are one entry. Links are not resolved and ``..`` is kept: a
    linked path stays its own entry and goes through the loader, whose own path
    checks must still run.
    """
    if not isinstance(model_id, str) or not model_id.strip():
        raise ValueError(f"a model id must be a non-empty string, got {model_id!r}")
    if is_local_path(model_id):
        return _absolute_keeping_dotdot(os.path.expanduser(model_id))
    return model_id


def _absolute_keeping_dotdot(path: str) -> str:
    """Make ``path`` absolute, dropping ``.`` and repeated separators only.

    ``..`` stays: after a link, ``link/..`` is not the folder that holds the
    link, so collapsing it lexically would load another config.
    """
    if not os.path.isabs(path):
        path = os.path.join(os.getcwd(), path)
    parts = [part for part in path.split(os.sep) if part not in ("", ".")]
    return os.sep + os.sep.join(parts)


def config_key(model_id: str, remote_source: str | None = None) -> Any:
    """Return the ``_HF_CONFIG_CACHE`` key of a model id and remote source."""
    normal = normalise_model_id(model_id)
    if remote_source is None:
        return normal
    return (normal, str(remote_source))


_tensor_cast_loader: list[Any] = []


def _tensor_cast_loader_class() -> Any:
    """Return tensor_cast's ``AutoModelConfigLoader``, or None if it won't import.

    Imported on the first config load, never at ``import tcbase``. A checkout
    that is found but does not import (a missing dependency) is reported once
    with a ``TcbaseWarning``, and configs load with transformers instead.
    """
    if _tensor_cast_loader:
        return _tensor_cast_loader[0]
    found = None
    try:
        present = importlib.util.find_spec("tensor_cast") is not None
    except (ImportError, ValueError):
        present = False
    if present:
        try:
            from tensor_cast.transformers.utils import AutoModelConfigLoader
        except Exception as error:
            warnings.warn(
                f"tensor_cast is on the path but does not import ({error}); tcbase "
                "loads configs with transformers.AutoConfig instead",
                TcbaseWarning,
                stacklevel=5,
            )
        else:
            found = AutoModelConfigLoader
    _tensor_cast_loader.append(found)
    return found


def _load_with_tensor_cast(model_id: str, remote_source: str | None) -> Any:
    loader = _tensor_cast_loader_class()()
    if remote_source is None:
        return loader.load_config(model_id)
    return loader.load_config(model_id, remote_source=remote_source)


def _load_with_transformers(model_id: str, remote_source: str | None) -> Any:
    if remote_source not in (None, "huggingface"):
        raise ValueError(
            f"remote_source={remote_source!r} needs tensor_cast's config loader, "
            "and tensor_cast is not importable here"
        )
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(model_id)


def load_config(model_id: str, remote_source: str | None = None) -> Any:
    """Load the config of a normalised model id, explaining the usual failures."""
    local = is_local_path(model_id)
    if local and not os.path.exists(model_id):
        raise ArtifactError(
            f"config path not found: {model_id!r} does not exist. Check the path, "
            "or pass a hub id such as 'Qwen/Qwen3-0.6B'."
        )
    if not local and not _HUB_ID.match(model_id):
        raise ArtifactError(
            f"{model_id!r} is neither an existing local path nor a hub id of the "
            "form 'owner/name'"
        )
    if _tensor_cast_loader_class() is not None:
        load = _load_with_tensor_cast
    else:
        load = _load_with_transformers
    try:
        return load(model_id, remote_source)
    except Exception as error:
        if local:
            raise ArtifactError(
                f"loading the config at {model_id!r} failed: {error}"
            ) from error
        raise ArtifactError(
            f"{model_id!r} is not a local path and could not be loaded from the hub "
            "(the hub may be unreachable from here, or HF_HUB_OFFLINE may be set): "
            f"{error}"
        ) from error
