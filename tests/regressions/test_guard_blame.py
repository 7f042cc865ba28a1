"""Regressions: the guard blames the wrong test, or misses the change entirely."""

from __future__ import annotations

import io
import unittest

import torch

import tcbase
from tests.support import (
    REPO,
    TINY_LLAMA,
    IsolatedCacheTest,
    run_python,
    scratch_dir,
    write_files,
)


def _run(klass):
    result = unittest.TextTestRunner(stream=io.StringIO()).run(
        unittest.TestLoader().loadTestsFromTestCase(klass)
    )
    failed = sorted(
        test.id().rsplit(".", 1)[-1] for test, _ in result.failures + result.errors
    )
    return failed


class SetUpClassBlameTest(IsolatedCacheTest):
    def test_the_test_that_changed_a_setupclass_model_is_blamed(self):
        spec = tcbase.ModelSpec(TINY_LLAMA, dtype="float32")

        class Inner(tcbase.TensorCastTestCase):
            @classmethod
            def setUpClass(cls):
                super().setUpClass()
                cls.model = cls.built_model(spec)

            def test_a_mutates(self):
                self.model.lm_head = torch.nn.Identity()

            def test_b_innocent(self):
                self.built_model(spec)  # only asks for the same model

        # actual: ['test_b_innocent']: the change made by test_a_mutates is
        # reported as test_b_innocent's, and test_a_mutates passes.
        self.assertNotIn("test_b_innocent", _run(Inner))


class GuardFalseNegativeTest(IsolatedCacheTest):
    def changed_by(self, change):
        spec = tcbase.ModelSpec(TINY_LLAMA, dtype="float32")

        class Inner(tcbase.TensorCastTestCase):
            def test_change(self):
                change(self.built_model(spec))

        return _run(Inner)

    def test_monkeypatching_a_submodule_forward_is_caught(self):
        def change(model):
            model.model.layers[0].mlp.forward = lambda x: x * 0

        # actual: [] (the patched forward stays in the shared model)
        self.assertEqual(self.changed_by(change), ["test_change"])

    def test_changing_the_models_hf_config_is_caught(self):
        def change(model):
            model.config.num_hidden_layers = 99

        # actual: [] (every later test sees num_hidden_layers == 99)
        self.assertEqual(self.changed_by(change), ["test_change"])


PYTEST_MODULE_FIXTURE = """
import torch, tcbase, pytest
SPEC = tcbase.ModelSpec({path!r}, dtype="float32")

@pytest.fixture(scope="module")
def shared():
    return tcbase.get_built_model(SPEC)

def test_1_uses(shared):
    assert shared is not None

def test_2_mutates(shared):
    shared.lm_head = torch.nn.Identity()

def test_3_innocent(built_model):
    built_model(SPEC)
"""

LEGACY_SETUPCLASS = """
import unittest, torch, tcbase
from tcbase.compat import get_built_model
SPEC = tcbase.ModelSpec({path!r}, dtype="float32")

class ALegacy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = get_built_model(SPEC)
    def test_a_mutates(self):
        self.model.lm_head = torch.nn.Identity()

class BLater(unittest.TestCase):
    def test_b(self):
        self.assertIsInstance(get_built_model(SPEC).lm_head, torch.nn.Linear)
"""


class RunnerBlameTest(IsolatedCacheTest):
    def test_pytest_module_fixture_mutation_is_not_blamed_on_a_later_test(self):
        where = scratch_dir(self)
        write_files(
            where, {"test_mod.py": PYTEST_MODULE_FIXTURE.format(path=TINY_LLAMA)}
        )
        done = run_python(
            ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mod.py"], where
        )
        # actual: "FAILED test_mod.py::test_3_innocent - SharedModelMutated"
        self.assertFalse(
            "FAILED test_mod.py::test_3_innocent" in done.stdout,
            "the innocent test_3 is blamed for test_2_mutates's change",
        )

    def test_python_m_tcbase_guards_legacy_setupclass_models(self):
        where = scratch_dir(self)
        write_files(
            where, {"test_legacy.py": LEGACY_SETUPCLASS.format(path=TINY_LLAMA)}
        )
        done = run_python(["-m", "tcbase", "test_legacy"], where, PYTHONPATH=REPO)
        output = done.stdout + done.stderr
        # pytest fails the mutating class; python -m tcbase lets the change
        # through and fails BLater.test_b twice (its own assertion, then the
        # guard blaming it for ALegacy.test_a_mutates's change).
        self.assertFalse(
            "FAIL: test_b" in output,
            "ALegacy.test_a_mutates's change reached BLater.test_b, which is blamed",
        )
