"""Tests of tcbase.fingerprint on real torch modules and a small transformers model."""

from __future__ import annotations

import dataclasses
import gc
import os
import subprocess
import sys
import unittest
import weakref

import torch
from torch import nn

from tcbase import fingerprint as fingerprints
from tcbase.fingerprint import Changes, Fingerprint, diff, same, take

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up_proj = nn.Linear(4, 8, bias=False)
        self.act_fn = nn.SiLU()
        self.down_proj = nn.Linear(8, 4)
        self.scaling = 0.5
        self.name = "block"


def tiny() -> nn.Sequential:
    """Six modules on meta in bfloat16: Sequential(Block, LayerNorm)."""
    with torch.device("meta"):
        return nn.Sequential(Block(), nn.LayerNorm(4)).to(torch.bfloat16)


def tiny_qwen3() -> nn.Module:
    from transformers import AutoModelForCausalLM, Qwen3Config

    config = Qwen3Config(
        vocab_size=128,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
    )
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)


class Stage:
    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.rank = 0


class Pipeline:
    """Like tensor_cast's PipelineModel: not a module, holds stages with .model."""

    def __init__(self, *models: nn.Module) -> None:
        self.stages = [Stage(model) for model in models]
        self.name = "pipeline"


class Holder:
    """A plain object with modules in its attributes."""


@dataclasses.dataclass
class EqualityHolder:
    """A dataclass with eq=True: unhashable, so it cannot key a weak dictionary."""

    model: nn.Module


class TinyModelTest(unittest.TestCase):
    def setUp(self) -> None:
        self.model = tiny()
        self.before = take(self.model)

    def changes(self, **options) -> Changes:
        return diff(self.before, take(self.model, **options))

    def assertOnly(self, structural: list[str], plain: list[str] = ()) -> None:
        after = take(self.model)
        self.assertNotEqual(self.before, after)
        changes = diff(self.before, after)
        self.assertEqual(changes.structural, structural)
        self.assertEqual(changes.plain, list(plain))
        self.assertEqual(changes.total, len(structural) + len(plain))

    def test_unchanged_model_is_equal(self) -> None:
        after = take(self.model)
        self.assertEqual(self.before, after)
        self.assertTrue(same(self.before, after))
        self.assertFalse(diff(self.before, after))

    def test_unchanged_model_stays_equal_over_many_takes(self) -> None:
        for _ in range(3):
            self.assertEqual(self.before, take(self.model))

    def test_counts_what_it_records(self) -> None:
        self.assertEqual(self.before.modules, 6)
        self.assertEqual(self.before.tensors, 6)
        self.assertEqual(self.before.plain_attributes, 10)
        self.assertEqual(self.before.entries, 22)
        self.assertEqual(len(self.before), 22)

    def test_to_float32_changes_dtype_but_keeps_the_parameters(self) -> None:
        self.model.to(torch.float32)
        self.assertOnly(
            [
                "0.up_proj.weight: dtype torch.bfloat16 -> torch.float32",
                "0.down_proj.weight: dtype torch.bfloat16 -> torch.float32",
                "0.down_proj.bias: dtype torch.bfloat16 -> torch.float32",
                "1.weight: dtype torch.bfloat16 -> torch.float32",
                "1.bias: dtype torch.bfloat16 -> torch.float32",
            ]
        )

    def test_in_place_write_bumps_the_version(self) -> None:
        with torch.no_grad():
            self.model[0].up_proj.weight.add_(1)
        self.assertOnly(["0.up_proj.weight: written in place (version 1 -> 2)"])

    def test_data_assignment_changes_shape(self) -> None:
        self.model[0].up_proj.weight.data = torch.empty(2, 2, device="meta")
        self.assertOnly(
            [
                "0.up_proj.weight: shape (8, 4) -> (2, 2)",
                "0.up_proj.weight: dtype torch.bfloat16 -> torch.float32",
            ]
        )

    def test_requires_grad_false(self) -> None:
        self.model[0].up_proj.weight.requires_grad_(False)
        self.assertOnly(["0.up_proj.weight: requires_grad True -> False"])

    def test_replacing_a_parameter(self) -> None:
        new = torch.empty(8, 4, device="meta", dtype=torch.bfloat16)
        self.model[0].up_proj.weight = nn.Parameter(new)
        self.assertOnly(["0.up_proj.weight: replaced"])

    def test_deleting_a_parameter(self) -> None:
        del self.model[0].down_proj.bias
        self.assertOnly(["0.down_proj.bias: deleted"])

    def test_setting_a_parameter_to_none(self) -> None:
        self.model[0].down_proj.bias = None
        self.assertOnly(["0.down_proj.bias: set to None"])

    def test_adding_a_buffer(self) -> None:
        self.model[0].register_buffer("mask", torch.zeros(2, device="meta"))
        self.assertOnly(["0.mask: added"])

    def test_eval_flips_training_everywhere(self) -> None:
        self.model.eval()
        self.assertOnly(
            [
                "Sequential: training True -> False",
                "0: training True -> False",
                "0.up_proj: training True -> False",
                "0.act_fn: training True -> False",
                "0.down_proj: training True -> False",
                "1: training True -> False",
            ]
        )

    def test_adding_a_submodule(self) -> None:
        self.model[0].extra = nn.ReLU()
        self.assertOnly(["0: submodule extra added"])

    def test_removing_a_submodule(self) -> None:
        del self.model[0].act_fn
        self.assertOnly(["0: submodule act_fn removed"])

    def test_replacing_a_submodule_by_another_class(self) -> None:
        self.model[0].act_fn = nn.GELU()
        self.assertOnly(["0: submodule act_fn replaced (SiLU -> GELU)"])

    def test_replacing_a_submodule_by_the_same_class(self) -> None:
        self.model[0].act_fn = nn.SiLU()
        self.assertOnly(["0: submodule act_fn replaced"])

    def test_replacing_a_submodule_reports_nothing_inside_it(self) -> None:
        with torch.device("meta"):
            self.model[0] = Block().to(torch.bfloat16)
        self.assertOnly(["Sequential: submodule 0 replaced"])

    def test_setting_a_submodule_to_none(self) -> None:
        self.model[0].act_fn = None
        self.assertOnly(["0: submodule act_fn set to None"])

    def test_class_change(self) -> None:
        self.model[1].__class__ = type("OtherNorm", (nn.LayerNorm,), {})
        self.assertOnly(["1: class LayerNorm -> OtherNorm"])

    def test_registering_a_forward_hook(self) -> None:
        self.model[0].register_forward_hook(lambda *args: None)
        self.assertOnly(["0: forward hook registered"])

    def test_registering_hooks_of_other_kinds(self) -> None:
        self.model[0].register_forward_pre_hook(lambda *args: None)
        self.model.register_full_backward_hook(lambda *args: None)
        self.model[1].register_forward_hook(lambda *args: None)
        self.model[1].register_forward_hook(lambda *args: None)
        self.assertOnly(
            [
                "Sequential: backward hook registered",
                "0: forward pre-hook registered",
                "1: 2 forward hooks registered",
            ]
        )

    def test_removing_a_hook_that_was_there_first(self) -> None:
        handle = self.model[0].register_forward_hook(lambda *args: None)
        self.before = take(self.model)
        handle.remove()
        self.assertOnly(["0: forward hook removed"])

    def test_removing_a_hook_restores_equality(self) -> None:
        handle = self.model[0].register_forward_hook(lambda *args: None)
        self.assertNotEqual(self.before, take(self.model))
        handle.remove()
        self.assertEqual(self.before, take(self.model))

    def test_a_hook_on_another_model_changes_nothing(self) -> None:
        other = nn.Linear(2, 2)
        other.register_forward_hook(lambda *args: None)
        self.assertEqual(self.before, take(self.model))

    def test_plain_attribute_changed(self) -> None:
        self.model[0].scaling = 1.0
        self.assertOnly([], ["0.scaling: 0.5 -> 1.0"])

    def test_plain_attribute_set(self) -> None:
        self.model[0].count = 3
        self.assertOnly([], ["0.count: set to 3"])

    def test_plain_tuple_attribute_set(self) -> None:
        self.model[1].kernel = (3, (1, "x"))
        self.assertOnly([], ["1.kernel: set to (3, (1, 'x'))"])

    def test_plain_attribute_deleted(self) -> None:
        del self.model[0].name
        self.assertOnly([], ["0.name: deleted"])

    def test_plain_attribute_deleted_and_set_again_is_unchanged(self) -> None:
        del self.model[0].name
        self.model[0].name = "block"
        self.assertEqual(self.before, take(self.model))

    def test_non_plain_attribute_is_not_recorded(self) -> None:
        self.model[0].table = {"a": 1}
        self.model[0].helper = lambda x: x
        self.assertEqual(self.before, take(self.model))

    def test_an_attribute_that_becomes_plain_is_named_after_the_plan(self) -> None:
        self.model[0].table = {"a": 1}  # one attribute that is not plain
        self.model[1].table = {"a": 1}  # and two
        self.model[1].helper = print
        before = take(self.model)
        take(self.model)  # the second take reads through the per-model plan
        self.model[0].table = 3
        self.model[1].helper = "x"
        self.assertEqual(
            diff(before, take(self.model)).plain,
            ["0.table: set to 3", "1.helper: set to 'x'"],
        )

    def test_an_attribute_that_was_not_plain_deleted_is_no_change(self) -> None:
        self.model[1].table = {"a": 1}
        self.model[1].helper = print
        before = take(self.model)
        take(self.model)
        del self.model[1].helper
        self.assertEqual(before, take(self.model))

    def test_forward_patched_on_an_instance(self) -> None:
        self.model[0].forward = lambda x: x
        patched = take(self.model)
        self.assertEqual(
            diff(self.before, patched).structural,
            ["0: forward replaced on the instance"],
        )
        self.model[0].forward = lambda x: x + 1
        self.assertEqual(
            diff(patched, take(self.model)).structural,
            ["0: forward replaced on the instance"],
        )
        del self.model[0].forward
        after = take(self.model)
        self.assertEqual(
            diff(patched, after).structural, ["0: forward restored on the instance"]
        )
        self.assertEqual(self.before, after)

    def test_forward_patched_on_the_root(self) -> None:
        self.model.forward = None
        self.assertEqual(
            diff(self.before, take(self.model)).lines(),
            ["Sequential: forward replaced on the instance"],
        )

    def test_plain_attribute_turned_into_a_tensor_is_no_longer_recorded(self) -> None:
        value = torch.tensor(1.0)
        gone = weakref.ref(value)
        self.model[0].scaling = value
        after = take(self.model)
        self.assertEqual(diff(self.before, after).plain, ["0.scaling: deleted"])
        del value, self.model[0].scaling
        gc.collect()
        self.assertIsNone(gone())
        self.assertEqual(diff(self.before, after).plain, ["0.scaling: deleted"])

    def test_ignored_names_produce_nothing(self) -> None:
        ignore = frozenset({"scaling", "mask", "bias"})
        self.before = take(self.model, ignore)
        self.model[0].scaling = 2.0
        self.model[0].register_buffer("mask", torch.zeros(2, device="meta"))
        self.model[0].down_proj.bias = None
        after = take(self.model, ignore)
        self.assertEqual(self.before, after)
        self.assertFalse(diff(self.before, after))

    def test_ignored_names_do_not_hide_other_changes(self) -> None:
        ignore = frozenset({"scaling"})
        self.before = take(self.model, ignore)
        self.model[0].scaling = 2.0
        self.model[0].name = "other"
        self.assertEqual(
            self.changes(ignore=ignore).plain, ["0.name: 'block' -> 'other'"]
        )

    def test_limit_caps_each_list_and_keeps_the_totals(self) -> None:
        self.model.eval()
        self.model[0].scaling = 1.0
        self.model[0].name = "x"
        self.model[1].eps = 0.1
        changes = diff(self.before, take(self.model), limit=2)
        self.assertEqual(
            changes.structural,
            ["Sequential: training True -> False", "0: training True -> False"],
        )
        self.assertEqual(changes.structural_total, 6)
        self.assertEqual(
            changes.plain, ["0.name: 'block' -> 'x'", "0.scaling: 0.5 -> 1.0"]
        )
        self.assertEqual(changes.plain_total, 3)
        self.assertEqual(changes.total, 9)
        self.assertEqual(
            changes.lines(),
            [
                "Sequential: training True -> False",
                "0: training True -> False",
                "... and 4 more",
                "0.name: 'block' -> 'x'",
                "0.scaling: 0.5 -> 1.0",
                "... and 1 more",
            ],
        )

    def test_changes_are_seen_after_many_unchanged_takes(self) -> None:
        for _ in range(3):
            take(self.model)
        self.model[0].scaling = 2.0
        self.model.register_buffer("mask", torch.zeros(2, device="meta"))
        changes = diff(self.before, take(self.model))
        self.assertEqual(changes.structural, ["mask: added"])
        self.assertEqual(changes.plain, ["0.scaling: 0.5 -> 2.0"])

    def test_a_module_reachable_by_two_names_is_recorded_once_under_the_first(
        self,
    ) -> None:
        shared = nn.Linear(2, 2, device="meta")
        model = nn.Sequential(shared, shared)
        before = take(model)
        self.assertEqual(before.modules, 2)
        self.assertEqual(before.tensors, 2)
        with torch.no_grad():
            shared.bias.zero_()
        self.assertEqual(
            diff(before, take(model)).structural,
            ["0.bias: written in place (version 1 -> 2)"],
        )

    def test_a_module_that_is_its_own_descendant_is_walked_once(self) -> None:
        inner = nn.Linear(2, 2, device="meta")
        model = nn.Sequential(inner)
        inner.owner = model  # a Module attribute registers a submodule: a cycle
        before = take(model)
        self.assertEqual(before.modules, 2)
        self.assertEqual(before, take(model))
        inner.out_features = 3
        self.assertEqual(diff(before, take(model)).plain, ["0.out_features: 2 -> 3"])

    def test_a_cycle_made_after_the_first_take_is_named(self) -> None:
        before = take(self.model)
        take(self.model)  # the quick walk, guided by the last snapshot
        self.model[0].back = self.model
        self.assertEqual(
            diff(before, take(self.model)).structural, ["0: submodule back added"]
        )
        del self.model[0].back
        self.assertEqual(before, take(self.model))

    def test_takes_with_and_without_ignored_names_may_alternate(self) -> None:
        ignoring = take(self.model, "scaling")
        self.model[0].scaling = 2.0
        for _ in range(2):
            self.assertEqual(ignoring, take(self.model, "scaling"))
            changes = diff(self.before, take(self.model))
            self.assertEqual(changes.plain, ["0.scaling: 0.5 -> 2.0"])

    def test_a_single_ignored_name_may_be_a_string(self) -> None:
        self.before = take(self.model, "scaling")
        self.model[0].scaling = 2.0
        self.assertEqual(self.before, take(self.model, "scaling"))

    def test_leaves_the_garbage_collector_as_it_was(self) -> None:
        take(self.model)
        self.assertTrue(gc.isenabled())
        gc.disable()
        try:
            take(self.model)
            self.assertFalse(gc.isenabled())
        finally:
            gc.enable()

    def test_holds_no_strong_reference_to_the_model(self) -> None:
        model = tiny()
        first = take(model)
        take(model)  # the second take goes through the per-model plan
        gone = weakref.ref(model)
        del model
        gc.collect()
        self.assertIsNone(gone())
        self.assertEqual(first, first)
        self.assertFalse(diff(first, first))


def _mutations(model: nn.Sequential) -> list:
    block, norm = model[0], model[1]

    def write() -> None:
        with torch.no_grad():
            norm.weight.add_(1)

    return [
        lambda: setattr(block, "scaling", 2.0),
        lambda: setattr(block, "name", None),
        lambda: setattr(block, "count", 3),
        lambda: delattr(block, "count"),
        lambda: setattr(norm, "eps", (1, 2)),
        lambda: model.eval(),
        write,
        lambda: norm.weight.requires_grad_(False),
        lambda: setattr(norm, "weight", nn.Parameter(torch.empty(4, device="meta"))),
        lambda: norm.register_buffer("mask", torch.zeros(1, device="meta")),
        lambda: block.register_forward_hook(lambda *args: None),
        lambda: setattr(block, "act_fn", nn.GELU()),
        lambda: setattr(block, "scaling", torch.tensor(1.0)),
        lambda: setattr(block, "scaling", 0.5),
        lambda: setattr(block, "table", {"a": 1}),
        lambda: setattr(block, "table", None),
        lambda: setattr(block, "table", [1]),
        lambda: (delattr(block, "table"), setattr(block, "flag", True)),
        lambda: setattr(norm, "pair", (nn.ReLU(), 1)),
        lambda: setattr(norm, "pair", (2, 1)),
        lambda: model.train(),
        lambda: setattr(norm, "forward", lambda x: x),
        lambda: setattr(norm, "forward", lambda x: x),
        lambda: (delattr(norm, "forward"), setattr(norm, "other", 1)),
        lambda: (delattr(norm, "other"), setattr(block, "forward", None)),
        lambda: (delattr(block, "forward"), setattr(block, "count", 3)),
    ]


class FastPathTest(unittest.TestCase):
    """take() reuses what it learnt from the last take of a model; the result must
    be the one a first take gives."""

    def test_matches_a_first_take_after_each_mutation(self) -> None:
        from tcbase import fingerprint

        model = tiny()
        take(model)
        for index, mutate in enumerate(_mutations(model)):
            mutate()
            with self.subTest(mutation=index):
                fast = take(model)
                fingerprint._plans.pop(model, None)  # forget what it learnt
                self.assertEqual(fast, take(model))


class CompiledTest(unittest.TestCase):
    def setUp(self) -> None:
        self.model = tiny()
        self.compiled = torch.compile(self.model)  # lazy: nothing compiles yet

    def test_fingerprints_the_wrapped_module(self) -> None:
        fingerprint = take(self.compiled)
        self.assertEqual(fingerprint, take(self.model))
        self.assertEqual(fingerprint.label, "Sequential")
        self.assertEqual(fingerprint.modules, 6)

    def test_sees_changes_to_the_wrapped_module(self) -> None:
        before = take(self.compiled)
        self.compiled._orig_mod[0].scaling = 1.0
        self.assertEqual(
            diff(before, take(self.compiled)).plain, ["0.scaling: 0.5 -> 1.0"]
        )

    def test_records_the_wrappers_own_hooks(self) -> None:
        before = take(self.compiled)
        self.compiled.register_forward_hook(lambda *args: None)
        changes = diff(before, take(self.compiled))
        self.assertEqual(
            changes.structural, ["OptimizedModule: forward hook registered"]
        )

    def test_holds_no_strong_reference_to_the_model(self) -> None:
        take(self.compiled)
        take(self.compiled)
        gone = weakref.ref(self.model)
        del self.model, self.compiled
        gc.collect()
        self.assertIsNone(gone())


class ContainerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.pipeline = Pipeline(tiny(), tiny())
        self.before = take(self.pipeline)

    def test_fingerprints_the_modules_of_each_stage(self) -> None:
        self.assertEqual(self.before.modules, 12)
        self.assertEqual(self.before.label, "Pipeline")
        self.assertEqual(self.before, take(self.pipeline))

    def test_roots_that_change_are_walked_with_care(self) -> None:
        # As many child ids in the same order, and fewer modules met, than last
        # time, but from other roots: the second root is also the first's child.
        holder = Holder()
        holder.first = nn.Sequential(nn.Linear(2, 2, device="meta"))
        holder.relu, holder.tanh = nn.ReLU(), nn.Tanh()
        before = take(holder)
        take(holder)  # the next take is guided by this one's plan
        del holder.relu, holder.tanh
        holder.second = holder.first[0]
        after = take(holder)
        self.assertEqual(after.modules, 2)
        self.assertEqual(
            diff(before, after).structural,
            ["relu: removed", "tanh: removed", "second: added"],
        )
        fingerprints._plans.pop(holder, None)  # a take with no plan walks with care
        self.assertEqual(after, take(holder))

    def test_names_changes_by_attribute_path(self) -> None:
        with torch.no_grad():
            self.pipeline.stages[1].model[1].weight.add_(1)
        self.pipeline.stages[0].model.eval()
        changes = diff(self.before, take(self.pipeline), limit=1)
        self.assertEqual(changes.structural, ["stages.0.model: training True -> False"])
        self.assertEqual(changes.structural_total, 7)
        self.assertEqual(
            diff(self.before, take(self.pipeline)).structural[-1],
            "stages.1.model.1.weight: written in place (version 1 -> 2)",
        )

    def test_a_replaced_stage_model(self) -> None:
        self.pipeline.stages[1].model = tiny()
        changes = diff(self.before, take(self.pipeline))
        self.assertEqual(changes.structural, ["stages.1.model: replaced"])

    def test_module_attribute_of_a_plain_object(self) -> None:
        holder = Stage(tiny())
        before = take(holder)
        holder.model[0].name = "renamed"
        self.assertEqual(
            diff(before, take(holder)).plain, ["model.0.name: 'block' -> 'renamed'"]
        )

    def test_an_unhashable_holder(self) -> None:
        holder = EqualityHolder(tiny())
        before = take(holder)
        self.assertEqual(before, take(holder))
        holder.model[1].eps = 0.5
        self.assertEqual(
            diff(before, take(holder)).plain, ["model.1.eps: 1e-05 -> 0.5"]
        )

    def test_nothing_found_gives_an_empty_fingerprint(self) -> None:
        empty = take(object())
        self.assertEqual(empty.modules, 0)
        self.assertEqual(empty.entries, 0)
        self.assertEqual(empty, take({"a": 1}))
        self.assertIsInstance(empty, Fingerprint)


class TransformersModelTest(unittest.TestCase):
    def setUp(self) -> None:
        self.model = tiny_qwen3()
        self.before = take(self.model)

    def test_unchanged_model_is_equal(self) -> None:
        self.assertEqual(self.before, take(self.model))
        self.assertEqual(self.before.label, "Qwen3ForCausalLM")

    def test_attention_scaling_changed(self) -> None:
        self.model.model.layers[0].self_attn.scaling = 1.0
        changes = diff(self.before, take(self.model))
        self.assertEqual(
            changes.plain, ["model.layers.0.self_attn.scaling: 0.25 -> 1.0"]
        )
        self.assertEqual(changes.structural, [])

    def test_submodule_to_float32(self) -> None:
        self.model.model.layers[1].mlp.up_proj.to(torch.float32)
        changes = diff(self.before, take(self.model))
        self.assertEqual(
            changes.structural,
            [
                "model.layers.1.mlp.up_proj.weight: dtype torch.bfloat16 -> torch.float32"
            ],
        )

    def test_eval_is_named_by_the_root_class(self) -> None:
        self.model.eval()
        changes = diff(self.before, take(self.model), limit=1)
        self.assertEqual(
            changes.structural, ["Qwen3ForCausalLM: training True -> False"]
        )
        self.assertEqual(changes.structural_total, self.before.modules)

    def test_replaced_activation(self) -> None:
        self.model.model.layers[0].mlp.act_fn = nn.GELU()
        changes = diff(self.before, take(self.model))
        self.assertEqual(
            changes.structural,
            ["model.layers.0.mlp: submodule act_fn replaced (SiLUActivation -> GELU)"],
        )


class ImportTest(unittest.TestCase):
    def test_importing_the_module_does_not_import_torch(self) -> None:
        code = "import sys, tcbase.fingerprint; print('torch' in sys.modules)"
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "False")


if __name__ == "__main__":
    unittest.main()
