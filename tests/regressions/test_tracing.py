"""Regressions: the traced copy leaks, and whole-instance access breaks builds."""

from __future__ import annotations

import dataclasses
import pickle
import threading

import tcbase
from tests.support import IsolatedCacheTest


@dataclasses.dataclass
class Config:
    layers: int = 2


class _Box:
    pass


class TracingLeaksTest(IsolatedCacheTest):
    def test_a_builder_may_pickle_its_config(self):
        # DESIGN: "Access to the whole instance (... copying) counts as reading
        # every field"; tracing.py: "Copies and pickles made during the build
        # are of the plain class". actual: PicklingError "args[0] from
        # __newobj__ args has the wrong class", wrapped in ArtifactError.
        tcbase.register_builder(Config, lambda c: pickle.loads(pickle.dumps(c)))
        model = tcbase.get_built_model(Config(3))
        self.assertIs(type(model), Config)
        self.assertEqual(model.layers, 3)

    def test_dataclasses_replace_inside_a_build_gives_a_plain_instance(self):
        # DESIGN: "Once the build returns, the traced copy is a plain instance
        # of its own class again (a model may keep a reference to it)."
        def build(config):
            box = _Box()
            box.draft = dataclasses.replace(config, layers=1)
            return box

        tcbase.register_builder(Config, build)
        box = tcbase.get_built_model(Config(3))
        self.assertIs(type(box.draft), Config)  # actual: the traced subclass
        self.assertEqual(box.draft, Config(1))  # actual: not equal
        pickle.dumps(box.draft)  # actual: PicklingError

    def test_type_of_config_called_inside_a_build_gives_a_plain_instance(self):
        def build(config):
            box = _Box()
            box.other = type(config)(layers=config.layers + 1)
            return box

        tcbase.register_builder(Config, build)
        box = tcbase.get_built_model(Config(3))
        self.assertIs(type(box.other), Config)


@dataclasses.dataclass
class HoldsObject:
    layers: int = 2
    extra: object = None


class IdentityHashedFieldTest(IsolatedCacheTest):
    def test_identical_requests_with_a_tensor_field_share_or_fail_clearly(self):
        import torch

        builds = []

        def build(config):
            builds.append(1)
            return (config.layers, tuple(config.extra.shape))

        tcbase.register_builder(HoldsObject, build)
        config = HoldsObject(extra=torch.zeros(3))
        try:
            for _ in range(3):
                tcbase.get_built_model(config)
        except TypeError as error:  # a clear "cannot be frozen" is fine too
            self.assertIn("extra", str(error))
            return
        # actual: 3 builds and 3 cache entries for one and the same config: a
        # tensor hashes by identity, the stored key holds a deep copy.
        self.assertEqual(len(builds), 1)


class UncopyableFieldTest(IsolatedCacheTest):
    def test_an_uncopyable_field_is_named_in_the_error(self):
        tcbase.register_builder(HoldsObject, lambda c: (c.layers,))
        with self.assertRaises(Exception) as raised:
            tcbase.get_built_model(HoldsObject(extra=threading.Lock()))
        # actual: bare TypeError "cannot pickle '_thread.lock' object" from
        # copy.deepcopy, naming neither the config nor the field.
        self.assertIn("extra", str(raised.exception))
