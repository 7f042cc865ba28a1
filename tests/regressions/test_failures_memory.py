"""Regressions: remembered failures and odd builder exceptions."""

from __future__ import annotations

import dataclasses
import gc
import io
import unittest
import weakref

import tcbase
from tests.support import IsolatedCacheTest


@dataclasses.dataclass
class Config:
    layers: int = 2


class RememberedFailureMemoryTest(IsolatedCacheTest):
    def test_a_remembered_failure_does_not_keep_the_test_alive(self):
        def build(config):
            raise ValueError("cannot build")

        tcbase.register_builder(Config, build)
        seen = []

        class Inner(tcbase.TensorCastTestCase):
            def test_x(self):
                seen.append(weakref.ref(self))
                self.payload = bytearray(10_000_000)  # e.g. other models
                with self.assertRaises(tcbase.errors.ArtifactError):
                    self.built_model(Config())

        unittest.TextTestRunner(stream=io.StringIO()).run(
            unittest.TestLoader().loadTestsFromTestCase(Inner)
        )
        gc.collect()
        # actual: alive: the stored exception's traceback holds the test's frame
        # until clear_cache()
        self.assertIsNone(seen[0]())


class SkipInBuilderTest(IsolatedCacheTest):
    def test_a_builder_raising_skiptest_skips_the_test(self):
        def build(config):
            raise unittest.SkipTest("needs a device this machine lacks")

        tcbase.register_builder(Config, build)

        class Inner(tcbase.TensorCastTestCase):
            def test_x(self):
                self.built_model(Config())

        result = unittest.TextTestRunner(stream=io.StringIO()).run(
            unittest.TestLoader().loadTestsFromTestCase(Inner)
        )
        # actual: an error (ArtifactError wrapping SkipTest), remembered for the
        # session
        self.assertEqual((len(result.skipped), len(result.errors)), (1, 0))
