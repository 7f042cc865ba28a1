"""Regressions: configs that build different models but are handed the same one.

Each test registers a deterministic builder whose result depends only on what
it reads from its config, asks for two configs that the builder tells apart,
and expects two different results.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import math

import tcbase
from tests.support import IsolatedCacheTest


class _Box:
    """A stand-in model: plain objects are accepted by the cache."""

    def __init__(self, value):
        self.value = value


class ClassAttributeOverrideTest(IsolatedCacheTest):
    def test_an_instance_override_of_a_class_attribute_splits(self):
        class Config:
            mode = "fast"  # class-level default

            def __init__(self, layers):
                self.layers = layers

        tcbase.register_builder(Config, lambda c: _Box((c.mode, c.layers)))
        default = Config(2)
        slow = Config(2)
        slow.mode = "slow"  # instance attribute, read by the build
        self.assertEqual(tcbase.get_built_model(default).value, ("fast", 2))
        # actual: ('fast', 2), the model built for mode='fast'
        self.assertEqual(tcbase.get_built_model(slow).value, ("slow", 2))


class SameQualnameClassesTest(IsolatedCacheTest):
    def test_two_classes_with_one_qualname_do_not_share(self):
        def make(kind):
            @dataclasses.dataclass
            class Config:
                layers: int = 2

                def kind(self):
                    return kind

            return Config

        first, second = make("dense"), make("moe")
        build = lambda c: _Box((c.kind(), c.layers))  # noqa: E731
        tcbase.register_builder(first, build)
        tcbase.register_builder(second, build)
        self.assertEqual(tcbase.get_built_model(first()).value, ("dense", 2))
        # actual: ('dense', 2): the second class's build is thrown away and the
        # first class's model returned, since the cache key names the class by
        # module and qualname only
        self.assertEqual(tcbase.get_built_model(second()).value, ("moe", 2))


@dataclasses.dataclass
class ValueConfig:
    value: object = None


class FrozenValueCollisionTest(IsolatedCacheTest):
    def setUp(self):
        super().setUp()
        self.builds = []

        def build(config):
            result = self.describe(config.value)
            self.builds.append(result)
            return _Box(result)

        tcbase.register_builder(ValueConfig, build)

    describe = staticmethod(repr)

    def assert_split(self, first, second):
        a = tcbase.get_built_model(ValueConfig(first)).value
        b = tcbase.get_built_model(ValueConfig(second)).value
        self.assertNotEqual(
            a, b, f"{first!r} and {second!r} build differently but share one model"
        )

    def test_dict_insertion_order_is_read_by_builds(self):
        # A builder that creates one layer per entry, in order.
        self.describe = lambda value: list(value)
        self.assert_split({"attn": 1, "mlp": 2}, {"mlp": 2, "attn": 1})

    def test_negative_zero(self):
        self.describe = lambda value: math.copysign(1.0, value)
        self.assert_split(0.0, -0.0)

    def test_negative_zero_in_a_set(self):
        self.describe = lambda value: [math.copysign(1.0, v) for v in value]
        self.assert_split({0.0}, {-0.0})

    def test_flag_pseudo_members(self):
        class Feature(enum.IntFlag):
            A = 1
            B = 2

        # Feature(8) and Feature(16) have no name (None): they freeze equal.
        self.describe = int
        self.assert_split(Feature(8), Feature(16))

    def test_redefined_enum_with_the_same_name(self):
        class Mode(enum.Enum):
            X = 1

        old = Mode

        class Mode(enum.Enum):  # noqa: F811 (same module and qualname)
            X = 2

        self.describe = lambda value: value.value
        self.assert_split(old.X, Mode.X)


class UntracedContainersTest(IsolatedCacheTest):
    def test_a_namedtuple_config_is_keyed_on_its_fields(self):
        Config = collections.namedtuple("Config", "layers hidden")
        tcbase.register_builder(Config, lambda c: _Box((c.layers, c.hidden)))
        self.assertEqual(tcbase.get_built_model(Config(2, 8)).value, (2, 8))
        # actual: (2, 8): namedtuple fields are class-level properties, so the
        # traced build reads "nothing" and every namedtuple shares one model
        self.assertEqual(tcbase.get_built_model(Config(4, 16)).value, (4, 16))

    def test_a_dict_config_is_keyed_on_its_items(self):
        # dict cannot be traced; the fallback "keys on all of its fields",
        # and a dict has none, so every dict shares the first model.
        tcbase.register_builder(dict, lambda c: _Box(c["layers"]))
        self.assertEqual(tcbase.get_built_model({"layers": 2}).value, 2)
        self.assertEqual(tcbase.get_built_model({"layers": 4}).value, 4)


class ReregisteredBuilderTest(IsolatedCacheTest):
    def test_a_new_builder_for_the_same_type_is_used(self):
        @dataclasses.dataclass
        class Config:
            layers: int = 2

        tcbase.register_builder(Config, lambda c: _Box(("v1", c.layers)))
        self.assertEqual(tcbase.get_built_model(Config()).value, ("v1", 2))
        tcbase.register_builder(Config, lambda c: _Box(("v2", c.layers)))
        # actual: ('v1', 2): both lambdas get the default name
        # '<module>.<lambda>', entries are grouped by builder name, so the model
        # of the replaced builder is served.
        self.assertEqual(tcbase.get_built_model(Config()).value, ("v2", 2))
