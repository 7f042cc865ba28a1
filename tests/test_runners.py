"""Real pytest and unittest runs over suites mixing both styles share one cache."""

from __future__ import annotations

import json
import os
import unittest

from tests.support import TINY_LLAMA, TINY_QWEN3, run_python, scratch_dir, write_files

UNITTEST_FILE = f"""
import tcbase

QWEN3 = {TINY_QWEN3!r}


class UsesQwen(tcbase.TensorCastTestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = cls.built_model(tcbase.ModelSpec(QWEN3))

    def test_layers(self):
        self.assertEqual(len(self.model.model.layers), 2)

    def test_again(self):
        self.assertIs(self.built_model(tcbase.ModelSpec(QWEN3)), self.model)
"""

PYTEST_FILE = f"""
import tcbase

QWEN3 = {TINY_QWEN3!r}
LLAMA = {TINY_LLAMA!r}


def test_same_model_as_the_unittest_class(built_model):
    assert len(built_model(tcbase.ModelSpec(QWEN3)).model.layers) == 2


def test_another_model(built_model, hf_config):
    assert hf_config(LLAMA).hidden_size == 32
    assert built_model(tcbase.ModelSpec(LLAMA)).lm_head.weight.shape == (128, 32)


def test_cache_fixture(tcbase_cache):
    assert tcbase_cache.cache_info().entries >= 1
"""


class PytestRunTest(unittest.TestCase):
    def test_one_session_of_both_styles_builds_each_model_once(self):
        directory = scratch_dir(self)
        write_files(
            directory, {"test_a_unit.py": UNITTEST_FILE, "test_b_func.py": PYTEST_FILE}
        )
        finished = run_python(
            ["-m", "pytest", "-p", "no:cacheprovider", "--tcbase-report=out/r.json"],
            cwd=directory,
        )
        self.assertEqual(finished.returncode, 0, finished.stdout + finished.stderr)
        self.assertIn("5 passed", finished.stdout)
        with open(os.path.join(directory, "out", "r.json"), encoding="utf-8") as f:
            report = json.load(f)
        self.assertEqual(report["model_builds"], 2)
        self.assertEqual(report["model_hits"], 2)
        self.assertEqual(report["config_loads"], 2)
        self.assertEqual(report["entries"], 2)
        self.assertEqual(report["workers"], [])
        self.assertEqual(len(report["builds"]), 2)
        self.assertEqual(
            sorted(os.path.basename(b["model_id"]) for b in report["builds"]),
            ["tiny-llama", "tiny-qwen3"],
        )
        self.assertEqual(finished.stdout.count(" tcbase "), 1)
        self.assertIn("model builds 2", finished.stdout)
        self.assertIn("model hits 2", finished.stdout)

    def test_report_path_can_come_from_the_environment(self):
        directory = scratch_dir(self)
        write_files(directory, {"test_b_func.py": PYTEST_FILE})
        finished = run_python(
            ["-m", "pytest", "-p", "no:cacheprovider", "-q"],
            cwd=directory,
            TCBASE_REPORT="env.json",
        )
        self.assertEqual(finished.returncode, 0, finished.stdout + finished.stderr)
        with open(os.path.join(directory, "env.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["model_builds"], 2)


class UnittestRunTest(unittest.TestCase):
    def test_python_m_tcbase_runs_unittest_and_prints_the_report(self):
        directory = scratch_dir(self)
        write_files(
            directory, {"test_a_unit.py": UNITTEST_FILE, "test_b_func.py": PYTEST_FILE}
        )
        finished = run_python(["-m", "tcbase", "discover", "-s", "."], cwd=directory)
        self.assertEqual(finished.returncode, 0, finished.stderr)
        self.assertIn("Ran 2 tests", finished.stderr)
        self.assertIn("model builds 1", finished.stderr)
        self.assertIn("model hits 1", finished.stderr)
        self.assertIn("tiny-qwen3", finished.stderr)

    def test_python_m_tcbase_takes_unittest_arguments_and_exit_status(self):
        directory = scratch_dir(self)
        write_files(
            directory,
            {
                "test_fails.py": """
                import unittest

                class Fails(unittest.TestCase):
                    def test_no(self):
                        self.fail("on purpose")

                    def test_yes(self):
                        pass
                """
            },
        )
        failing = run_python(["-m", "tcbase", "test_fails"], cwd=directory)
        self.assertEqual(failing.returncode, 1)
        self.assertIn("on purpose", failing.stderr)
        self.assertIn("model builds 0", failing.stderr)
        passing = run_python(
            ["-m", "tcbase", "-v", "test_fails.Fails.test_yes"], cwd=directory
        )
        self.assertEqual(passing.returncode, 0, passing.stderr)
        self.assertIn("test_yes (test_fails.Fails", passing.stderr)
