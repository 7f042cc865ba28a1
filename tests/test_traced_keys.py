"""Traced keys: a build is keyed on exactly the fields it read."""

from __future__ import annotations

import copy
import dataclasses
import enum
import math
import types
import warnings

import tcbase
from tcbase import cache
from tcbase.errors import UnfreezableValue
from tests.support import IsolatedCacheTest


class Mode(enum.Enum):
    DENSE = 1
    MOE = 2


@dataclasses.dataclass
class Inner:
    width: int = 4
    tags: tuple = ()


@dataclasses.dataclass
class Plain:
    model_id: str = "m"
    layers: int = 2
    mode: Mode = Mode.DENSE
    experts: int = 8
    widths: list = dataclasses.field(default_factory=lambda: [1, 2])
    extras: dict = dataclasses.field(default_factory=dict)
    inner: Inner = dataclasses.field(default_factory=Inner)
    scale: float = 1.0
    batch_size: int = 1
    query_len: int = 32
    payload: object = None

    @property
    def is_moe(self):
        return self.mode is Mode.MOE


@dataclasses.dataclass(frozen=True)
class Frozen:
    model_id: str = "f"
    layers: int = 2
    batch_size: int = 1


@dataclasses.dataclass(slots=True)
class Slotted:
    model_id: str = "s"
    layers: int = 2
    batch_size: int = 1


class Ordinary:
    def __init__(self, layers=2, batch_size=1):
        self.model_id = "o"
        self.layers = layers
        self.batch_size = batch_size


def build_reading_layers_then_branching(config):
    """Read ``layers``; read ``experts`` only for MoE (through a property)."""
    result = {"layers": config.layers}
    if config.is_moe:
        result["experts"] = config.experts
    return types.SimpleNamespace(**result)


def build_layers(config):
    return types.SimpleNamespace(layers=config.layers)


class TracedKeyTest(IsolatedCacheTest):
    def setUp(self):
        super().setUp()
        tcbase.register_builder(Plain, build_reading_layers_then_branching)
        for klass in (Frozen, Slotted, Ordinary):
            tcbase.register_builder(klass, build_layers)

    def assert_shared(self, first, second):
        self.assertIs(tcbase.get_built_model(first), tcbase.get_built_model(second))

    def assert_split(self, first, second):
        self.assertIsNot(tcbase.get_built_model(first), tcbase.get_built_model(second))

    def read_fields(self):
        [key] = [k for k in cache._BUILT_MODEL_CACHE]
        return [field for field, _ in key[1]]

    def test_the_key_holds_the_fields_read_in_reading_order(self):
        tcbase.get_built_model(Plain(mode=Mode.MOE))
        self.assertEqual(self.read_fields(), ["__class__", "layers", "mode", "experts"])

    def test_fields_never_read_do_not_split(self):
        self.assert_shared(Plain(batch_size=1, query_len=32), Plain(batch_size=64))
        self.assert_shared(Plain(widths=[1]), Plain(widths=[9, 9], extras={"a": [1]}))
        self.assertEqual(tcbase.cache_info().model_builds, 1)

    def test_a_field_read_only_on_one_branch_splits_there_and_only_there(self):
        self.assert_shared(Plain(experts=8), Plain(experts=64))
        self.assert_split(
            Plain(mode=Mode.MOE, experts=8), Plain(mode=Mode.MOE, experts=64)
        )

    def test_a_field_the_build_read_always_splits(self):
        self.assert_split(Plain(layers=2), Plain(layers=3))

    def test_values_of_different_types_never_collide(self):
        self.assert_split(Plain(layers=1), Plain(layers=True))
        self.assert_split(Plain(layers=1), Plain(layers=1.0))

    def test_frozen_slotted_and_ordinary_classes_are_traced(self):
        for make in (Frozen, Slotted, Ordinary):
            with self.subTest(config=make.__name__):
                self.assert_shared(make(batch_size=1), make(batch_size=7))
                self.assert_split(make(layers=2), make(layers=5))

    def test_the_callers_config_is_never_mutated_or_retained(self):
        def writes_its_config(config):
            config.layers = 100
            config.widths.append(3)
            return types.SimpleNamespace(config=config)

        tcbase.register_builder(Plain, writes_its_config)
        mine = Plain()
        model = tcbase.get_built_model(mine)
        self.assertEqual((mine.layers, mine.widths), (2, [1, 2]))
        self.assertIsNot(model.config, mine)
        self.assertIs(tcbase.get_built_model(Plain()), model)
        self.assertEqual((mine.layers, mine.widths), (2, [1, 2]))

    def test_the_copy_a_model_keeps_is_a_plain_instance_afterwards(self):
        tcbase.register_builder(Plain, lambda c: types.SimpleNamespace(config=c))
        model = tcbase.get_built_model(Plain())
        self.assertIs(type(model.config), Plain)
        self.assertEqual(model.config, Plain())
        self.assertIs(type(copy.deepcopy(model.config)), Plain)

    def test_copies_made_during_the_build_are_of_the_plain_class(self):
        tcbase.register_builder(
            Plain, lambda c: types.SimpleNamespace(kept=copy.copy(c))
        )
        model = tcbase.get_built_model(Plain())
        self.assertIs(type(model.kept), Plain)

    def test_whole_instance_access_counts_as_reading_every_field(self):
        readers = {
            "asdict": dataclasses.asdict,
            "vars": lambda c: dict(vars(c)),
            "deepcopy": copy.deepcopy,
            "copy": copy.copy,
        }
        for name, read_all in readers.items():
            with self.subTest(access=name):
                tcbase.clear_cache()
                tcbase.register_builder(Plain, lambda c, read_all=read_all: read_all(c))
                self.assert_split(Plain(query_len=1), Plain(query_len=2))

    def test_list_enum_dict_nested_and_nan_fields_share_and_split_by_value(self):
        def reads_them(config):
            return (
                config.widths,
                config.mode,
                config.extras,
                config.inner,
                config.scale,
            )

        tcbase.register_builder(Plain, reads_them)
        self.assert_shared(Plain(scale=math.nan), Plain(scale=float("nan")))
        self.assert_shared(Plain(extras={"a": 1}), Plain(extras={"a": 1}))
        # A build may iterate a dict, so the order of its keys counts.
        self.assert_split(
            Plain(extras={"a": 1, "b": 2}), Plain(extras={"b": 2, "a": 1})
        )
        self.assert_shared(
            Plain(inner=Inner(tags=("x",))), Plain(inner=Inner(tags=("x",)))
        )
        self.assert_split(Plain(widths=[1, 2]), Plain(widths=[2, 1]))
        self.assert_split(Plain(widths=[1, 2]), Plain(widths=(1, 2)))
        self.assert_split(Plain(mode=Mode.DENSE), Plain(mode=Mode.MOE))
        self.assert_split(Plain(extras={"a": 1}), Plain(extras={"a": 2}))
        self.assert_split(Plain(inner=Inner(width=4)), Plain(inner=Inner(width=5)))
        self.assert_split(Plain(scale=math.nan), Plain(scale=1.0))

    def test_an_unfreezable_read_value_is_a_clear_error_and_caches_nothing(self):
        tcbase.register_builder(Plain, lambda c: c.payload)
        with self.assertRaises(UnfreezableValue) as raised:
            tcbase.get_built_model(Plain(payload=bytearray(b"x")))
        message = str(raised.exception)
        self.assertIn("Plain.payload", message)
        self.assertIn("builtins.bytearray", message)
        self.assertIn("register_builder(config_type, build, key=...)", message)
        self.assertEqual(cache._BUILT_MODEL_CACHE, {})

    def test_an_unfreezable_value_in_a_field_never_read_is_harmless(self):
        self.assert_shared(Plain(payload=bytearray(b"x")), Plain(payload=bytearray()))

    def test_a_missing_attribute_the_build_asked_for_is_part_of_the_key(self):
        def optional_read(config):
            return types.SimpleNamespace(extra=getattr(config, "extra", None))

        tcbase.register_builder(Ordinary, optional_read)
        plain = Ordinary()
        with_extra = Ordinary()
        with_extra.extra = 5
        self.assert_split(plain, with_extra)
        self.assert_shared(plain, Ordinary(layers=9))

    def test_an_untraceable_type_falls_back_to_all_fields_with_one_warning(self):
        class Untraceable:
            def __init__(self, layers=2, batch_size=1):
                self.layers, self.batch_size = layers, batch_size

            def __init_subclass__(cls, **kwargs):
                raise TypeError("no subclasses")

        tcbase.register_builder(Untraceable, build_layers)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.assert_split(Untraceable(batch_size=1), Untraceable(batch_size=2))
            self.assert_shared(Untraceable(), Untraceable())
        messages = [
            str(w.message) for w in caught if w.category is tcbase.TcbaseWarning
        ]
        self.assertEqual(len(messages), 1)
        self.assertIn("Untraceable", messages[0])
        self.assertIn("keyed on all of its fields", messages[0])


class ExplicitKeyTest(IsolatedCacheTest):
    def test_an_explicit_key_decides_sharing(self):
        tcbase.register_builder(Plain, build_layers, key=lambda c: c.model_id)
        self.assertIs(
            tcbase.get_built_model(Plain(layers=2)),
            tcbase.get_built_model(Plain(layers=9)),
        )
        self.assertIsNot(
            tcbase.get_built_model(Plain(model_id="a")),
            tcbase.get_built_model(Plain(model_id="b")),
        )
        self.assertEqual(tcbase.cache_info().model_builds, 3)
        self.assertEqual(tcbase.cache_info().model_hits, 1)

    def test_an_explicit_key_may_be_unhashable_but_freezable(self):
        tcbase.register_builder(
            Plain, build_layers, key=lambda c: [c.model_id, c.extras]
        )
        first = tcbase.get_built_model(Plain(extras={"x": [1]}))
        self.assertIs(tcbase.get_built_model(Plain(extras={"x": [1]}, layers=5)), first)
