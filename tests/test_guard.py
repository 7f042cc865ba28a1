"""The mutation guard: a test that changes a shared model fails, alone."""

from __future__ import annotations

import dataclasses
import io
import unittest
import warnings

import torch

import tcbase
from tcbase import settings
from tests.support import TINY_QWEN3, IsolatedCacheTest


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 4, dtype=torch.bfloat16)
        self.register_buffer("scale", torch.ones(4, dtype=torch.bfloat16))
        self.act = torch.nn.ReLU()
        self.scaling = 0.5
        self.returns_tuple = False

    def forward(self, x):
        self.returns_tuple = True  # a memo of the first forward pass
        return self.act(self.proj(x)) * self.scale


@dataclasses.dataclass
class BlockConfig:
    model_id: str = "block"
    compiled: bool = False


def build_block(config):
    model = torch.nn.Sequential(Block(), Block()).eval()
    return torch.compile(model) if config.compiled else model


def run_tests(*methods, setup_class=None):
    """Run the given test functions, in order, in one TestCase class."""
    body = {f"test_{index}": method for index, method in enumerate(methods)}
    if setup_class is not None:
        body["setUpClass"] = classmethod(setup_class)
    klass = type("Sample", (tcbase.TensorCastTestCase,), body)
    suite = unittest.TestLoader().loadTestsFromTestCase(klass)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = unittest.TextTestRunner(stream=io.StringIO()).run(suite)
    guard_warnings = [
        str(w.message) for w in caught if w.category is tcbase.TcbaseWarning
    ]
    return result, guard_warnings


def failed_tests(result):
    return [test.id().rsplit(".", 1)[-1] for test, _ in result.failures + result.errors]


def failure_text(result):
    return "\n".join(text for _, text in result.failures + result.errors)


class GuardTest(IsolatedCacheTest):
    def setUp(self):
        super().setUp()
        tcbase.register_builder(
            BlockConfig, build_block, guard_ignore=["returns_tuple"]
        )
        self.seen = []

    def mutating_then_checking(self, mutate):
        """Test 0 mutates the shared model; test 1 records what it then gets."""
        seen = self.seen

        def test_mutates(case):
            model = case.built_model(BlockConfig())
            seen.append(model)
            mutate(model)

        def test_after(case):
            seen.append(case.built_model(BlockConfig()))

        return run_tests(test_mutates, test_after)

    def assert_structural(self, mutate, expected):
        result, _ = self.mutating_then_checking(mutate)
        self.assertEqual(failed_tests(result), ["test_0"])
        self.assertIn("SharedModelMutated", failure_text(result))
        self.assertIn(expected, failure_text(result))
        self.assertIsNot(self.seen[1], self.seen[0], "the next test gets a fresh build")
        self.assertEqual(tcbase.cache_info().guard_violations, 1)
        self.assertEqual(tcbase.cache_info().model_builds, 2)

    def test_a_dtype_change_fails_the_mutating_test_and_names_it(self):
        self.assert_structural(
            lambda m: m[0].proj.to(torch.float32),
            "0.proj.weight: dtype torch.bfloat16 -> torch.float32",
        )

    def test_a_replaced_parameter(self):
        def replace(model):
            model[1].proj.weight = torch.nn.Parameter(torch.zeros(4, 4))

        self.assert_structural(replace, "1.proj.weight: replaced")

    def test_an_added_parameter(self):
        def add(model):
            model[0].register_parameter("extra", torch.nn.Parameter(torch.zeros(1)))

        self.assert_structural(add, "0.extra: added")

    def test_a_deleted_buffer(self):
        def delete(model):
            del model[0].scale

        self.assert_structural(delete, "0.scale: deleted")

    def test_a_requires_grad_flip(self):
        self.assert_structural(
            lambda m: m[0].proj.bias.requires_grad_(False),
            "0.proj.bias: requires_grad True -> False",
        )

    def test_an_in_place_write(self):
        def write(model):
            with torch.no_grad():
                model[1].proj.weight.add_(1)

        self.assert_structural(
            write, "1.proj.weight: written in place (version 1 -> 2)"
        )

    def test_a_train_eval_flip(self):
        self.assert_structural(lambda m: m.train(), "training False -> True")

    def test_a_replaced_submodule(self):
        def replace(model):
            model[0].act = torch.nn.GELU()

        self.assert_structural(replace, "0: submodule act replaced (ReLU -> GELU)")

    def test_a_removed_submodule(self):
        def remove(model):
            del model[1].act

        self.assert_structural(remove, "1: submodule act removed")

    def test_a_registered_hook(self):
        self.assert_structural(
            lambda m: m[0].register_forward_hook(lambda *a: None),
            "0: forward hook registered",
        )

    def test_a_changed_plain_attribute_warns_and_keeps_the_model(self):
        def change(model):
            model[0].scaling = 1.0

        result, caught = self.mutating_then_checking(change)
        self.assertTrue(result.wasSuccessful(), failure_text(result))
        self.assertEqual(len(caught), 1)
        self.assertIn("0.scaling: 0.5 -> 1.0", caught[0])
        self.assertIs(self.seen[1], self.seen[0])
        self.assertEqual(tcbase.cache_info().guard_violations, 0)

    def test_a_plain_attribute_change_fails_in_strict_mode(self):
        self.addCleanup(setattr, settings.current, "guard", settings.current.guard)
        settings.current.guard = "strict"

        def change(model):
            model[0].scaling = 1.0

        self.assert_structural(change, "0.scaling: 0.5 -> 1.0")

    def test_a_forward_pass_memoising_declared_attributes_is_silent(self):
        def forward(model):
            model(torch.zeros(2, 4, dtype=torch.bfloat16))

        result, caught = self.mutating_then_checking(forward)
        self.assertTrue(result.wasSuccessful(), failure_text(result))
        self.assertEqual(caught, [])
        self.assertIs(self.seen[1], self.seen[0])

    def test_a_compiled_model_is_guarded_through_the_module_it_wraps(self):
        seen = self.seen

        def test_mutates(case):
            model = case.built_model(BlockConfig(compiled=True))
            seen.append(model)
            model._orig_mod[0].proj.to(torch.float16)

        result, _ = run_tests(test_mutates)
        self.assertEqual(failed_tests(result), ["test_0"])
        self.assertIn(
            "0.proj.weight: dtype torch.bfloat16 -> torch.float16", failure_text(result)
        )

    def test_with_the_guard_off_the_next_test_inherits_the_pollution(self):
        self.addCleanup(setattr, settings.current, "guard", settings.current.guard)
        settings.current.guard = "off"
        tcbase.clear_cache()
        result, _ = self.mutating_then_checking(lambda m: m[0].proj.to(torch.float32))
        self.assertTrue(result.wasSuccessful())
        self.assertIs(self.seen[1], self.seen[0])
        self.assertEqual(self.seen[1][0].proj.weight.dtype, torch.float32)

    def test_dirtied_evicts_without_a_failure(self):
        def change_and_declare(model):
            model[0].proj.to(torch.float32)
            self.assertTrue(tcbase.dirtied(model))

        result, _ = self.mutating_then_checking(change_and_declare)
        self.assertTrue(result.wasSuccessful(), failure_text(result))
        self.assertIsNot(self.seen[1], self.seen[0])
        self.assertEqual(tcbase.cache_info().guard_violations, 0)
        self.assertFalse(tcbase.dirtied(torch.nn.Linear(1, 1)))

    def test_a_fresh_model_is_private_and_may_change(self):
        seen = self.seen

        def test_changes_its_own(case):
            model = case.fresh_model(BlockConfig())
            model[0].proj.to(torch.float32)
            seen.append(model)

        def test_shared(case):
            seen.append(case.built_model(BlockConfig()))

        result, _ = run_tests(test_changes_its_own, test_shared)
        self.assertTrue(result.wasSuccessful(), failure_text(result))
        self.assertEqual(seen[1][0].proj.weight.dtype, torch.bfloat16)

    def test_a_setupclass_model_changed_by_a_test_fails_that_test(self):
        def setup_class(cls):
            cls.model = cls.built_model(BlockConfig())

        def test_reads(case):
            case.assertEqual(case.model[0].proj.weight.dtype, torch.bfloat16)

        def test_mutates(case):
            case.model[0].proj.to(torch.float32)

        def test_asks_again(case):
            case.assertIsNot(case.built_model(BlockConfig()), case.model)

        result, _ = run_tests(
            test_reads, test_mutates, test_asks_again, setup_class=setup_class
        )
        self.assertEqual(failed_tests(result), ["test_1"])
        self.assertIn(
            "tests.test_guard.Sample.test_1 changed the shared model",
            failure_text(result),
        )
        self.assertEqual(tcbase.cache_info().guard_violations, 1)

    def test_a_setupclass_model_changed_in_setupclass_fails_the_class(self):
        def setup_class(cls):
            cls.model = cls.built_model(BlockConfig())
            cls.model.train()

        def test_reads(case):
            pass

        result, _ = run_tests(test_reads, setup_class=setup_class)
        self.assertIn("Sample.setUpClass", failure_text(result))
        self.assertEqual(tcbase.cache_info().guard_violations, 1)

    def test_models_from_the_free_function_are_guarded_in_mixin_tests(self):
        def test_mutates(case):
            tcbase.get_built_model(BlockConfig())[0].proj.to(torch.float32)

        result, _ = run_tests(test_mutates)
        self.assertEqual(failed_tests(result), ["test_0"])

    def test_a_forward_pass_on_a_real_transformers_model_is_silent(self):
        def forward(case):
            model = case.built_model(tcbase.ModelSpec(TINY_QWEN3))
            model(input_ids=torch.zeros(1, 4, dtype=torch.long, device="meta"))

        result, caught = run_tests(forward, forward)
        self.assertTrue(result.wasSuccessful(), failure_text(result))
        self.assertEqual(caught, [])
        self.assertEqual(tcbase.cache_info().model_builds, 1)
