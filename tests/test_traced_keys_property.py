"""Property: with traced keys, a second config hits exactly when it should.

The builder's reads depend on the values it reads. The oracle below is written
by hand from the builder's code, not derived from tcbase: two configs must
share a model exactly when they agree on every field the first build read.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import types

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tcbase
from tests.support import IsolatedCacheTest


class Kind(enum.Enum):
    DENSE = "dense"
    MOE = "moe"
    HYBRID = "hybrid"


@dataclasses.dataclass
class Config:
    kind: Kind
    layers: int
    experts: int
    widths: list
    scale: float
    options: dict
    name: str
    batch_size: int


def build(config: Config):
    """Read ``kind`` then branch; each branch reads other fields."""
    if config.kind is Kind.DENSE:
        parts = ("dense", config.layers)
        if config.layers > 2:
            parts += (config.scale,)
    elif config.kind is Kind.MOE:
        parts = ("moe", config.experts, tuple(config.widths))
        if config.experts % 2:
            parts += (sorted(config.options.items()),)
    else:
        parts = ("hybrid", config.name, config.layers, config.experts)
    return types.SimpleNamespace(parts=parts)


def same(a, b) -> bool:
    """Equal values of the same type, a NaN equal to a NaN, dicts in one order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict):
        return list(a.items()) == list(b.items())
    return a == b


def read_by_build(config: Config) -> dict:
    """The fields ``build`` reads for this config, with their values."""
    read = {"kind": config.kind}
    if config.kind is Kind.DENSE:
        read["layers"] = config.layers
        if config.layers > 2:
            read["scale"] = config.scale
    elif config.kind is Kind.MOE:
        read["experts"] = config.experts
        read["widths"] = config.widths
        if config.experts % 2:
            read["options"] = config.options
    else:
        read.update(name=config.name, layers=config.layers, experts=config.experts)
    return read


def should_share(first: Config, second: Config) -> bool:
    return all(
        same(value, getattr(second, field))
        for field, value in read_by_build(first).items()
    )


small_ints = st.integers(min_value=0, max_value=4)
configs = st.builds(
    Config,
    kind=st.sampled_from(Kind),
    layers=small_ints,
    experts=small_ints,
    widths=st.lists(st.integers(0, 2), max_size=2),
    scale=st.sampled_from([0.0, 1.0, math.nan, 2.5]),
    options=st.dictionaries(st.sampled_from("ab"), st.integers(0, 1), max_size=2),
    name=st.sampled_from(["x", "y"]),
    batch_size=small_ints,
)


def near(config: Config) -> st.SearchStrategy[Config]:
    """A second config that differs from the first in one or two fields."""
    fields = [f.name for f in dataclasses.fields(Config)]
    return st.tuples(
        configs, st.sets(st.sampled_from(fields), min_size=1, max_size=2)
    ).map(
        lambda drawn: dataclasses.replace(
            config, **{name: getattr(drawn[0], name) for name in drawn[1]}
        )
    )


pairs = configs.flatmap(lambda first: st.tuples(st.just(first), near(first)))


class TracedKeyPropertyTest(IsolatedCacheTest):
    @settings(
        max_examples=1200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(pairs)
    def test_no_false_hit_and_no_missed_hit(self, pair):
        first, second = pair
        tcbase.clear_cache()
        tcbase.register_builder(Config, build)
        model_first = tcbase.get_built_model(first)
        model_second = tcbase.get_built_model(second)
        shared = model_first is model_second
        self.assertEqual(shared, should_share(first, second), (first, second))
        if shared:
            self.assertEqual(
                build(first).parts.__repr__(), build(second).parts.__repr__()
            )
