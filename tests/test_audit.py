"""Audit mode rebuilds on every hit and names the fields behind a wrong share."""

from __future__ import annotations

import dataclasses
import json
import os
import unittest

import torch

import tcbase
from tcbase import settings
from tcbase.errors import AuditMismatch
from tests.support import IsolatedCacheTest, run_python, scratch_dir, write_files

GLOBAL_WIDTH = {"value": 4}


@dataclasses.dataclass
class Linear:
    model_id: str = "linear"
    width: int = 4
    batch_size: int = 1


def build_traced(config):
    return torch.nn.Linear(config.width, 2, device="meta")


def build_bypassing_the_trace(config):
    # Reads width behind the tracer's back, so the key misses it.
    return torch.nn.Linear(object.__getattribute__(config, "width"), 2, device="meta")


def build_from_a_global(config):
    return torch.nn.Linear(GLOBAL_WIDTH["value"], 2, device="meta")


class AuditTest(IsolatedCacheTest):
    def setUp(self):
        super().setUp()
        previous = settings.current.audit
        settings.current.audit = True
        self.addCleanup(setattr, settings.current, "audit", previous)

    def test_a_right_share_passes_and_is_counted(self):
        tcbase.register_builder(Linear, build_traced)
        first = tcbase.get_built_model(Linear(batch_size=1))
        self.assertIs(tcbase.get_built_model(Linear(batch_size=8)), first)
        info = tcbase.cache_info()
        self.assertEqual(
            (info.model_builds, info.model_hits, info.audited_hits), (1, 1, 1)
        )

    def test_a_wrong_share_is_an_error_naming_the_differing_fields(self):
        tcbase.register_builder(Linear, build_bypassing_the_trace)
        tcbase.get_built_model(Linear(width=4))
        with self.assertRaises(AuditMismatch) as raised:
            tcbase.get_built_model(Linear(width=8, batch_size=3))
        message = str(raised.exception)
        self.assertIn("'linear'", message)
        self.assertIn("['batch_size', 'width']", message)
        self.assertIn("weight: cached ((2, 4),", message)
        self.assertIn("fresh ((2, 8),", message)
        self.assertIsInstance(raised.exception, AssertionError)

    def test_a_build_reading_global_state_is_named_as_such(self):
        tcbase.register_builder(Linear, build_from_a_global)
        tcbase.get_built_model(Linear())
        GLOBAL_WIDTH["value"] = 6
        self.addCleanup(GLOBAL_WIDTH.__setitem__, "value", 4)
        with self.assertRaisesRegex(AuditMismatch, "state outside the config"):
            tcbase.get_built_model(Linear())

    def test_without_audit_the_wrong_share_goes_unnoticed(self):
        settings.current.audit = False
        tcbase.register_builder(Linear, build_bypassing_the_trace)
        first = tcbase.get_built_model(Linear(width=4))
        self.assertIs(tcbase.get_built_model(Linear(width=8)), first)
        self.assertEqual(tcbase.cache_info().audited_hits, 0)


AUDITED_SUITE = """
import dataclasses, unittest
import torch
import tcbase


@dataclasses.dataclass
class Linear:
    width: int = 4


tcbase.register_builder(
    Linear, lambda c: torch.nn.Linear(object.__getattribute__(c, "width"), 2)
)


class Wrong(tcbase.TensorCastTestCase):
    def test_first(self):
        self.built_model(Linear(width=4))

    def test_second(self):
        self.built_model(Linear(width=8))
"""


class AuditSwitchTest(unittest.TestCase):
    def run_suite(self, args, **env):
        directory = scratch_dir(self)
        write_files(directory, {"test_wrong.py": AUDITED_SUITE})
        return run_python(args, cwd=directory, **env), directory

    def test_the_pytest_option_turns_audit_on(self):
        finished, directory = self.run_suite(
            [
                "-m",
                "pytest",
                "-p",
                "no:cacheprovider",
                "--tcbase-audit",
                "--tcbase-report=r.json",
            ]
        )
        self.assertEqual(finished.returncode, 1, finished.stdout)
        self.assertIn("AuditMismatch", finished.stdout)
        self.assertIn("1 failed, 1 passed", finished.stdout)
        with open(os.path.join(directory, "r.json"), encoding="utf-8") as stream:
            self.assertEqual(json.load(stream)["audited_hits"], 1)

    def test_the_environment_variable_turns_audit_on_under_unittest(self):
        finished, _ = self.run_suite(
            ["-m", "tcbase", "discover", "-s", "."], TCBASE_AUDIT="1"
        )
        self.assertEqual(finished.returncode, 1, finished.stderr)
        self.assertIn("AuditMismatch", finished.stderr)
        self.assertIn("audited hits 1", finished.stderr)

    def test_audit_is_off_by_default(self):
        finished, _ = self.run_suite(["-m", "tcbase", "discover", "-s", "."])
        self.assertEqual(finished.returncode, 0, finished.stderr)
