"""Shared helpers for tcbase's tests: tiny real configs, isolation, subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import unittest

import tcbase
from tcbase import builders

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
TINY_QWEN3 = os.path.join(HERE, "configs", "tiny-qwen3")
TINY_LLAMA = os.path.join(HERE, "configs", "tiny-llama")


class IsolatedCacheTest(tcbase.TensorCastTestCase):
    """Start and end every test with an empty cache and the builders it had."""

    def setUp(self) -> None:
        tcbase.clear_cache()
        self.addCleanup(tcbase.clear_cache)
        registered = dict(builders._BUILDERS)
        self.addCleanup(builders._BUILDERS.update, registered)
        self.addCleanup(builders._BUILDERS.clear)


def offline_env(**extra: str) -> dict[str, str]:
    """Return an environment for child processes that never asks the hub."""
    env = dict(os.environ)
    env["HF_HUB_OFFLINE"] = "1"
    for name in list(env):
        if name.startswith(("TCBASE_", "PYTEST_")):
            del env[name]
    env.update(extra)
    return env


def write_files(directory: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(textwrap.dedent(text))


def run_python(
    args: list[str], cwd: str, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python ARGS`` in ``cwd`` and return the finished process."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=offline_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def scratch_dir(test: unittest.TestCase) -> str:
    """Return a temporary directory removed when ``test`` ends."""
    holder = tempfile.TemporaryDirectory(prefix="tcbase-test-")
    test.addCleanup(holder.cleanup)
    return holder.name
