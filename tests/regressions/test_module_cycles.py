"""Regressions: a model whose module graph has a cycle.

A submodule that keeps a reference to its model (``layer.owner = model``) registers
the model as its own submodule. torch's named_modules() copes; the fingerprint's
walk used to loop without end (and audit mode recursed until RecursionError).
"""

from __future__ import annotations

import dataclasses
import io
import unittest

import torch
from torch import nn

import tcbase
from tcbase import settings
from tests.support import IsolatedCacheTest


@dataclasses.dataclass
class Config:
    width: int = 4


def build(config: Config) -> nn.Module:
    model = nn.Sequential(nn.Linear(config.width, config.width, device="meta"))
    model[0].owner = model
    return model


def run(case: type[unittest.TestCase]) -> unittest.TestResult:
    suite = unittest.TestLoader().loadTestsFromTestCase(case)
    return unittest.TextTestRunner(stream=io.StringIO()).run(suite)


class ModuleCycleTest(IsolatedCacheTest):
    def setUp(self) -> None:
        super().setUp()
        tcbase.register_builder(Config, build)

    def test_an_unchanged_model_with_a_cycle_passes_the_guard(self) -> None:
        class Inner(tcbase.TensorCastTestCase):
            def test_reads(self) -> None:
                self.assertEqual(self.built_model(Config()).owner[0].in_features, 4)

        result = run(Inner)
        self.assertEqual((result.testsRun, len(result.failures)), (1, 0))
        self.assertEqual(tcbase.cache_info().guard_violations, 0)

    def test_a_change_inside_the_cycle_is_named(self) -> None:
        class Inner(tcbase.TensorCastTestCase):
            def test_writes(self) -> None:
                with torch.no_grad():
                    self.built_model(Config())[0].weight.mul_(2)

        result = run(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("0.weight: written in place", result.failures[0][1])

    def test_audit_mode_compares_a_model_with_a_cycle(self) -> None:
        previous = settings.current.audit
        settings.current.audit = True
        self.addCleanup(setattr, settings.current, "audit", previous)
        tcbase.get_built_model(Config())
        tcbase.get_built_model(Config())  # audited: rebuilt and compared
        self.assertEqual(tcbase.cache_info().audited_hits, 1)
