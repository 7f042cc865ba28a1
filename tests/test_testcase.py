"""``TensorCastTestCase`` and the mixin, run by a real unittest runner."""

from __future__ import annotations

import io
import unittest

from parameterized import parameterized

import tcbase
from tests.support import TINY_LLAMA, TINY_QWEN3, IsolatedCacheTest


def run_suite(*classes: type) -> unittest.TestResult:
    loader = unittest.TestLoader()
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(c) for c in classes)
    return unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)


def sample_classes():
    """Define the sample test classes here, so that runners do not collect them."""

    class UsesSetUpClass(tcbase.TensorCastTestCase):
        @classmethod
        def setUpClass(cls):
            super().setUpClass()
            cls.model = cls.built_model(tcbase.ModelSpec(TINY_QWEN3))
            cls.config = cls.hf_config(TINY_QWEN3)

        def test_class_model_is_the_shared_one(self):
            self.assertIs(self.model, self.built_model(tcbase.ModelSpec(TINY_QWEN3)))

        def test_class_config_is_a_copy(self):
            self.assertIsNot(self.config, self.hf_config(TINY_QWEN3))
            self.assertEqual(self.config.hidden_size, 64)

    class Parameterised(tcbase.TensorCastTestCase):
        @parameterized.expand(
            [
                ("qwen3", TINY_QWEN3, 2),
                ("llama", TINY_LLAMA, 3),
                ("qwen3_again", TINY_QWEN3, 2),
            ]
        )
        def test_layers(self, _name, model_id, layers):
            model = self.built_model(tcbase.ModelSpec(model_id))
            self.assertEqual(len(model.model.layers), layers)

    class OwnBase(unittest.TestCase):
        marker = "own"

    class MixedIn(tcbase.CachedArtifactsMixin, OwnBase):
        def test_uses_the_mixin(self):
            self.assertEqual(self.hf_config(TINY_LLAMA).hidden_size, 32)

    return UsesSetUpClass, Parameterised, MixedIn


UsesSetUpClass, Parameterised, MixedIn = None, None, None


class TestCaseTest(IsolatedCacheTest):
    def setUp(self):
        super().setUp()
        global UsesSetUpClass, Parameterised, MixedIn
        UsesSetUpClass, Parameterised, MixedIn = sample_classes()

    def test_setupclass_and_tests_share_one_build(self):
        result = run_suite(UsesSetUpClass)
        self.assertEqual((result.testsRun, result.errors, result.failures), (2, [], []))
        info = tcbase.cache_info()
        self.assertEqual((info.model_builds, info.model_hits), (1, 1))
        self.assertEqual((info.config_loads, info.config_hits), (1, 2))

    def test_parameterized_expand_names_are_kept_and_models_shared(self):
        names = unittest.TestLoader().getTestCaseNames(Parameterised)
        self.assertEqual(
            names,
            ["test_layers_0_qwen3", "test_layers_1_llama", "test_layers_2_qwen3_again"],
        )
        result = run_suite(Parameterised)
        self.assertTrue(result.wasSuccessful(), result.failures + result.errors)
        self.assertEqual(tcbase.cache_info().model_builds, 2)
        self.assertEqual(tcbase.cache_info().model_hits, 1)

    def test_the_mixin_works_beside_another_base_class(self):
        result = run_suite(MixedIn)
        self.assertTrue(result.wasSuccessful(), result.failures + result.errors)
        self.assertEqual(MixedIn.marker, "own")

    def test_methods_work_on_the_class_itself(self):
        model = UsesSetUpClass.built_model(tcbase.ModelSpec(TINY_LLAMA))
        self.assertIs(model, tcbase.get_built_model(tcbase.ModelSpec(TINY_LLAMA)))
        self.assertEqual(UsesSetUpClass.hf_config(TINY_LLAMA).num_hidden_layers, 3)

    def test_fresh_model_is_private_and_not_counted_as_a_cache_build(self):
        shared = tcbase.get_built_model(tcbase.ModelSpec(TINY_LLAMA))
        private = UsesSetUpClass.fresh_model(tcbase.ModelSpec(TINY_LLAMA))
        self.assertIsNot(private, shared)
        self.assertEqual(tcbase.cache_info().model_builds, 1)
        self.assertEqual(tcbase.cache_info().entries, 1)
