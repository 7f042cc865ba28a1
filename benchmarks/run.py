"""Measure tcbase's speed and memory goals and print them side by side as ratios.

    python benchmarks/run.py            # every section, about two minutes
    python benchmarks/run.py hit guard  # some sections

Nothing here asserts: the goals are read off the table (see the README).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
CONFIGS = os.path.join(REPO, "examples", "configs")
HAVE_TENSOR_CAST = importlib.util.find_spec("tensor_cast") is not None

import tcbase  # noqa: E402
from tcbase import cache, fingerprint, guard  # noqa: E402
from tcbase.freeze import freeze  # noqa: E402

ROWS: list[tuple[str, str, str, str]] = []


def row(measure: str, value: str, ratio: str, goal: str = "") -> None:
    ROWS.append((measure, value, ratio, goal))
    print(f"  {measure}: {value}  {ratio}", file=sys.stderr)


def best_of(function, number: int, repeat: int = 5) -> float:
    """Seconds per call, the best of ``repeat`` runs of ``number`` calls."""
    return min(timeit.repeat(function, number=number, repeat=repeat)) / number


def read_fields(config) -> list[str]:
    [key] = [k for k in cache._BUILT_MODEL_CACHE if cache._ENTRIES[k].config == config]
    return [field for field, _ in key[1][1:]]


def hit_cost(label: str, config) -> None:
    tcbase.get_built_model(config)
    fields = read_fields(config)

    def hash_read_values():
        return hash(tuple(freeze(getattr(config, field)) for field in fields))

    bare = best_of(hash_read_values, 20000)
    hit = best_of(lambda: tcbase.get_built_model(config), 20000)
    row(
        f"model hit vs hashing its {len(fields)} read values ({label})",
        f"{hit * 1e6:.2f} us vs {bare * 1e6:.2f} us",
        f"{hit / bare:.2f}x",
        "<= 3x",
    )


def section_hit() -> None:
    tcbase.clear_cache()
    hit_cost("ModelSpec", tcbase.ModelSpec(os.path.join(CONFIGS, "qwen3-0.6b")))
    if HAVE_TENSOR_CAST:
        from tensor_cast.core.user_config import UserInputConfig

        config = UserInputConfig(
            model_id=os.path.join(CONFIGS, "qwen3-0.6b"),
            num_queries=1,
            query_len=32,
            context_length=32,
        )
        hit_cost("tensor_cast UserInputConfig", config)
    model_id = os.path.join(CONFIGS, "deepseek-v3")
    cached = tcbase.get_hf_config(model_id)
    bare = best_of(lambda: copy.deepcopy(cached), 500)
    hit = best_of(lambda: tcbase.get_hf_config(model_id), 500)
    row(
        "config hit vs a bare deepcopy (DeepSeek-V3 config)",
        f"{hit * 1e6:.0f} us vs {bare * 1e6:.0f} us",
        f"{hit / bare:.2f}x",
        "about 1x",
    )


def guard_cost(label: str, build, goal: str) -> None:
    started = time.perf_counter()
    model = build()
    seconds = time.perf_counter() - started
    stored = guard.take(model, frozenset())

    def check() -> float:
        began = time.perf_counter()
        now = guard.take(model, frozenset())
        fingerprint.same(stored[0], now[0]) and stored[1] == now[1]
        return time.perf_counter() - began

    # The first check after a build runs on cold caches. Then five rounds of
    # checks (31 each, fewer for a model whose check takes long): the median of
    # the quietest round is the figure, the noisiest round's is shown beside it,
    # since neighbours on a shared machine slow whole rounds, not the code.
    per_round = max(3, min(31, int(0.5 / check())))
    medians = [statistics.median(check() for _ in range(per_round)) for _ in range(5)]
    quietest, noisiest = min(medians), max(medians)
    row(
        f"guard check vs build ({label}; {len(stored[0])} entries)",
        f"{quietest * 1e3:.2f} ms vs {seconds:.2f} s "
        f"(noisiest round {noisiest * 1e3:.2f} ms)",
        f"{100 * quietest / seconds:.3f} %",
        goal,
    )


def _transformers_build(name: str):
    def build():
        return cache.fresh_model(tcbase.ModelSpec(os.path.join(CONFIGS, name)))

    return build


def section_guard() -> None:
    tcbase.clear_cache()
    cache.fresh_model(tcbase.ModelSpec(os.path.join(CONFIGS, "qwen3-0.6b")))
    guard_cost(
        "Qwen3-0.6B, transformers", _transformers_build("qwen3-0.6b"), "< 0.5 ms"
    )
    guard_cost(
        "DeepSeek-V3, transformers", _transformers_build("deepseek-v3"), "<= 2 %"
    )
    if HAVE_TENSOR_CAST:
        from tensor_cast.core.user_config import UserInputConfig

        def tensor_cast_build():
            return cache.fresh_model(
                UserInputConfig(
                    model_id=os.path.join(CONFIGS, "deepseek-v3"),
                    num_queries=1,
                    query_len=32,
                    context_length=32,
                    disable_repetition=True,
                )
            )

        guard_cost(
            "DeepSeek-V3, tensor_cast, no repetition", tensor_cast_build, "<= 2 %"
        )
    else:
        row("guard check vs tensor_cast build", "skipped", "-", "tensor_cast absent")


def example_requests() -> list[tcbase.ModelSpec]:
    """The specs the example suites ask for, as often as they ask."""
    from examples import _models

    specs = list(_models.model_specs().values())
    return [spec for _ in range(10) for spec in specs]


def section_suite() -> None:
    import torch  # noqa: F401 - imported before timing, as in a real run

    requests = example_requests()
    tcbase.clear_cache()
    started = time.perf_counter()
    for spec in requests:
        cache.fresh_model(spec)
    bare = time.perf_counter() - started

    # The hand-written cache of the legacy helpers: a tuple of the fields
    # somebody remembered (here model_id and dtype, not the layer override).
    hand: dict = {}
    wrong = 0
    started = time.perf_counter()
    for spec in requests:
        key = (spec.model_id, spec.dtype)
        if key not in hand:
            hand[key] = cache.fresh_model(spec)
        expected = (
            spec.num_hidden_layers
            or tcbase.get_hf_config(spec.model_id).num_hidden_layers
        )
        wrong += len(hand[key].model.layers) != expected
    hand_seconds = time.perf_counter() - started

    tcbase.clear_cache()
    started = time.perf_counter()
    for spec in requests:
        tcbase.get_built_model(spec)
    cached = time.perf_counter() - started
    builds = tcbase.cache_info().model_builds
    row(
        f"example suite, {len(requests)} requests: builds without a cache / hand tuple / tcbase",
        f"{len(requests)} / {len(hand)} ({wrong} wrong models) / {builds}",
        f"{bare:.2f} s / {hand_seconds:.2f} s / {cached:.2f} s",
        "tcbase: builds = distinct specs, 0 wrong",
    )


def run_pytest_examples(*options: str) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "report.json")
        subprocess.run(
            [sys.executable, "-m", "pytest", "examples", "-q", "-p", "no:cacheprovider",
             *options, f"--tcbase-report={path}"],
            cwd=REPO, check=True, capture_output=True,
        )  # fmt: skip
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)


def section_xdist() -> None:
    # One process builds each distinct model once: that is the floor.
    distinct = run_pytest_examples()["model_builds"]
    for dist in ("load", "loadscope"):
        report = run_pytest_examples("-n", "2", "--dist", dist)
        row(
            f"pytest examples -n 2 --dist {dist}: builds vs distinct specs",
            f"{report['model_builds']} vs {distinct}",
            f"{report['model_builds'] / distinct:.2f}x",
            "loadscope <= load",
        )


MEMORY_PROBE = """
import os, sys, dataclasses, psutil, torch, tcbase
from tcbase import settings

@dataclasses.dataclass
class Wide:
    index: int

def build(config):
    model = torch.nn.Linear(512, 512)
    model.index = config.index
    return model

tcbase.register_builder(Wide, build)
bound = sys.argv[1]
settings.current.max_models = None if bound == "none" else int(bound)
process, samples = psutil.Process(), []
for index in range(500):
    tcbase.get_built_model(Wide(index))
    if index + 1 in (50, 250, 500):
        samples.append(process.memory_info().rss / 2**20)
print(" ".join(f"{mb:.0f}" for mb in samples), tcbase.cache_info().entries)
"""


def section_memory() -> None:
    for bound in ("8", "none"):
        finished = subprocess.run(
            [sys.executable, "-c", MEMORY_PROBE, bound],
            check=True,
            capture_output=True,
            text=True,
        )
        *samples, entries = finished.stdout.split()
        row(
            f"resident MB after 50 / 250 / 500 distinct 1 MB models, bound {bound}",
            " / ".join(samples),
            f"{float(samples[-1]) / float(samples[0]):.2f}x from 50 to 500",
            f"entries {entries}; flat with a bound",
        )


SECTIONS = {
    "hit": section_hit,
    "guard": section_guard,
    "suite": section_suite,
    "xdist": section_xdist,
    "memory": section_memory,
}


def main(names: list[str]) -> None:
    for name in names or list(SECTIONS):
        print(f"{name} ...", file=sys.stderr)
        SECTIONS[name]()
    widths = [max(len(r[i]) for r in ROWS) for i in range(4)]
    header = ("measure", "value", "ratio", "goal")
    for line in (header, tuple("-" * w for w in widths), *ROWS):
        print(
            " | ".join(
                cell.ljust(width) for cell, width in zip(line, widths, strict=True)
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
