"""The memory bound: at most N models, least recently used out, truly freed."""

from __future__ import annotations

import dataclasses
import gc
import io
import unittest
import weakref

import torch

import tcbase
from tcbase import settings
from tests.support import IsolatedCacheTest, run_python, scratch_dir, write_files


@dataclasses.dataclass
class Sized:
    name: str = "a"


def build(config):
    model = torch.nn.Linear(64, 64)
    model.name = config.name
    return model


class BoundTest(IsolatedCacheTest):
    def setUp(self):
        super().setUp()
        tcbase.register_builder(Sized, build)
        self.addCleanup(
            setattr, settings.current, "max_models", settings.current.max_models
        )
        settings.current.max_models = 2

    def test_the_least_recently_used_model_goes_first(self):
        a = tcbase.get_built_model(Sized("a"))
        tcbase.get_built_model(Sized("b"))
        self.assertIs(tcbase.get_built_model(Sized("a")), a)
        tcbase.get_built_model(Sized("c"))
        info = tcbase.cache_info()
        self.assertEqual((info.entries, info.evictions), (2, 1))
        self.assertIs(tcbase.get_built_model(Sized("a")), a)
        self.assertEqual(tcbase.cache_info().model_builds, 3)
        tcbase.get_built_model(Sized("b"))
        self.assertEqual(tcbase.cache_info().model_builds, 4)

    def test_entries_never_exceed_the_bound(self):
        for index in range(20):
            tcbase.get_built_model(Sized(str(index)))
            self.assertLessEqual(tcbase.cache_info().entries, 2)
        self.assertEqual(tcbase.cache_info().evictions, 18)

    def test_an_eviction_is_logged_at_warning(self):
        tcbase.get_built_model(Sized("a"))
        tcbase.get_built_model(Sized("b"))
        with self.assertLogs("tcbase", "WARNING") as logged:
            tcbase.get_built_model(Sized("c"))
        self.assertEqual(
            logged.output, ["WARNING:tcbase:evicted Sized to keep the cache bound"]
        )

    def test_nothing_of_tcbase_keeps_an_evicted_model_alive(self):
        def in_a_test(case):
            case.built_model(Sized("first"))

        klass = type("Sample", (tcbase.TensorCastTestCase,), {"test_one": in_a_test})
        suite = unittest.TestLoader().loadTestsFromTestCase(klass)
        test_instance = weakref.ref(next(iter(suite)))
        unittest.TextTestRunner(stream=io.StringIO()).run(suite)
        first = weakref.ref(tcbase.get_built_model(Sized("first")))
        tcbase.get_built_model(Sized("second"))
        tcbase.get_built_model(Sized("third"))
        del suite
        gc.collect()
        self.assertIsNone(first(), "the evicted model is still referenced")
        self.assertIsNone(
            test_instance(), "the finished test instance is still referenced"
        )


class BoundSettingTest(unittest.TestCase):
    def test_the_environment_variable_bounds_a_unittest_run(self):
        directory = scratch_dir(self)
        write_files(
            directory,
            {
                "test_many.py": """
                import dataclasses, torch, tcbase

                @dataclasses.dataclass
                class Net:
                    width: int

                tcbase.register_builder(Net, lambda c: torch.nn.Linear(c.width, 1))

                class Many(tcbase.TensorCastTestCase):
                    def test_many(self):
                        for width in range(1, 11):
                            self.built_model(Net(width))
                        self.assertEqual(tcbase.cache_info().entries, 3)
                """
            },
        )
        finished = run_python(
            ["-m", "tcbase", "test_many"], cwd=directory, TCBASE_MAX_MODELS="3"
        )
        self.assertEqual(finished.returncode, 0, finished.stderr)
        self.assertIn("evictions 7", finished.stderr)

    def test_a_bad_bound_names_the_setting(self):
        finished = run_python(
            ["-c", "import tcbase"], cwd=scratch_dir(self), TCBASE_MAX_MODELS="many"
        )
        self.assertIn(
            "TCBASE_MAX_MODELS='many' is not a number of models", finished.stderr
        )
        with_pytest = run_python(
            ["-m", "pytest", "--tcbase-max-models=-2", "-p", "no:cacheprovider"],
            cwd=scratch_dir(self),
        )
        self.assertEqual(with_pytest.returncode, 4)
        self.assertIn(
            "--tcbase-max-models='-2' is not a number of models", with_pytest.stderr
        )
