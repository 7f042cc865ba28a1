"""The guard under real pytest and ``python -m tcbase`` runs, styles mixed."""

from __future__ import annotations

import unittest

from tests.support import run_python, scratch_dir, write_files

MODELS = """
import dataclasses
import torch
import tcbase


@dataclasses.dataclass
class Net:
    width: int = 4


def build(config):
    return torch.nn.Sequential(torch.nn.Linear(config.width, 2)).eval()


tcbase.register_builder(Net, build)
"""

PYTEST_SUITE = """
import torch
from models import Net
from tcbase import compat


def test_a_mutates(built_model):
    built_model(Net())[0].to(torch.float64)


def test_b_gets_a_fresh_model(built_model):
    assert built_model(Net())[0].weight.dtype == torch.float32


def test_c_legacy_free_function_mutates():
    compat.get_built_model(Net()).train()


def test_d_fresh_again():
    assert not compat.get_built_model(Net()).training
"""

LEGACY_UNITTEST = """
import unittest
import torch
from models import Net
from tcbase import compat


class Legacy(unittest.TestCase):
    def test_a_mutates(self):
        compat.get_built_model(Net())[0].weight.requires_grad_(False)

    def test_b_fresh(self):
        self.assertTrue(compat.get_built_model(Net())[0].weight.requires_grad)
"""


class GuardUnderRunnersTest(unittest.TestCase):
    def setUp(self):
        self.directory = scratch_dir(self)
        write_files(
            self.directory,
            {
                "models.py": MODELS,
                "test_functions.py": PYTEST_SUITE,
                "test_legacy.py": LEGACY_UNITTEST,
            },
        )

    def pytest(self, *args):
        return run_python(
            ["-m", "pytest", "-p", "no:cacheprovider", "-rA", *args], cwd=self.directory
        )

    def test_pytest_fails_exactly_the_mutating_tests(self):
        finished = self.pytest()
        self.assertIn("3 failed, 3 passed", finished.stdout)
        for name in (
            "test_functions.py::test_a_mutates",
            "test_functions.py::test_c_legacy_free_function_mutates",
            "test_legacy.py::Legacy::test_a_mutates",
        ):
            self.assertIn(f"FAILED {name} - ", finished.stdout)
        self.assertIn("0.weight: dtype torch.float32 -> torch.float64", finished.stdout)
        self.assertIn("Sequential: training False -> True", finished.stdout)
        self.assertEqual(finished.stdout.count("SharedModelMutated: test_"), 3)
        self.assertIn("0.weight: requires_grad True -> False", finished.stdout)
        self.assertIn("guard violations 3", finished.stdout)

    def test_with_the_guard_off_pytest_shows_the_pollution(self):
        finished = self.pytest("--tcbase-guard=off")
        self.assertIn("3 failed, 3 passed", finished.stdout)
        for name in (
            "test_functions.py::test_b_gets_a_fresh_model",
            "test_functions.py::test_d_fresh_again",
            "test_legacy.py::Legacy::test_b_fresh",
        ):
            self.assertIn(f"FAILED {name} - ", finished.stdout)
        self.assertNotIn("SharedModelMutated", finished.stdout)

    def test_a_bad_guard_mode_is_a_usage_error(self):
        finished = self.pytest("--tcbase-guard=maybe")
        self.assertEqual(finished.returncode, 4)
        self.assertIn("--tcbase-guard='maybe' is not a guard mode", finished.stderr)

    def test_python_m_tcbase_guards_a_legacy_unittest_suite(self):
        finished = run_python(["-m", "tcbase", "test_legacy"], cwd=self.directory)
        self.assertEqual(finished.returncode, 1, finished.stderr)
        self.assertIn("FAIL: test_a_mutates", finished.stderr)
        self.assertIn("FAILED (failures=1)", finished.stderr)
        self.assertIn("guard violations 1", finished.stderr)

    def test_python_m_tcbase_reports_a_guarded_test_once(self):
        finished = run_python(["-m", "tcbase", "-v", "test_legacy"], cwd=self.directory)
        self.assertIn(
            "test_a_mutates (test_legacy.Legacy.test_a_mutates) ... FAIL",
            finished.stderr,
        )
        self.assertNotIn(
            "test_a_mutates (test_legacy.Legacy.test_a_mutates) ... ok", finished.stderr
        )
        self.assertIn(
            "test_b_fresh (test_legacy.Legacy.test_b_fresh) ... ok", finished.stderr
        )

    def test_the_environment_turns_the_guard_off_under_unittest(self):
        finished = run_python(
            ["-m", "tcbase", "test_legacy"], cwd=self.directory, TCBASE_GUARD="0"
        )
        self.assertIn("FAIL: test_b_fresh", finished.stderr)
        self.assertIn("guard violations 0", finished.stderr)
