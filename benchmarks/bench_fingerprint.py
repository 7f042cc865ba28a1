"""Time tcbase.fingerprint's guard check against the time it takes to build a model.

For each example config, builds the full model on the meta device in bfloat16 (as a
cached test model is built), then times the check a guard does after a test: take a
new fingerprint and compare it with the stored one. Prints a table; asserts nothing.

    python benchmarks/bench_fingerprint.py [--builds 7] [--runs 140] [name ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CONFIGS = os.path.join(REPO, "examples", "configs")
if REPO not in sys.path:  # run from a checkout without installing tcbase
    sys.path.insert(0, REPO)
DEFAULT_MODELS = ("qwen3-0.6b", "deepseek-v3")


def build(name: str):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(os.path.join(CONFIGS, name))
    started = time.perf_counter()
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    return model, time.perf_counter() - started


def time_checks(model, stored, runs: int, before=None) -> list[float]:
    """Seconds of each of ``runs`` take() + ==, calling ``before()`` untimed first."""
    from tcbase.fingerprint import take

    times = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        equal = take(model) == stored
        times.append(time.perf_counter() - started)
        if not equal:
            raise RuntimeError("the model changed while being timed")
    return times


def measure(name: str, builds: int, runs: int) -> dict:
    import torch

    from tcbase.fingerprint import take

    # A hook registered on another module moves torch's hook-handle counter, which
    # makes take() look at every module's hook dicts instead of trusting the plan.
    other = torch.nn.Identity()

    def unrelated_hook() -> None:
        other.register_forward_hook(lambda *args: None).remove()

    model, _ = build(name)  # the first build also pays for imports: not counted
    # Builds and checks take turns, so that both see the same load on the machine.
    build_times, first_takes, first_checks, checks, hooked = [], [], [], [], []
    share = max(1, runs // builds)
    for _ in range(builds):
        del model
        model, seconds = build(name)
        build_times.append(seconds)
        started = time.perf_counter()
        stored = take(model)
        first_takes.append(time.perf_counter() - started)
        first_checks += time_checks(model, stored, 1)
        checks += time_checks(model, stored, share)
        hooked += time_checks(model, stored, share, before=unrelated_hook)
    build_median = statistics.median(build_times)

    def ms(times: list[float]) -> str:
        return f"{statistics.median(times) * 1e3:.3f}"

    def percent(times: list[float]) -> str:
        return f"{100 * statistics.median(times) / build_median:.2f}"

    return {
        "model": name,
        "build s": f"{build_median:.3f}",
        "modules": f"{stored.modules}",
        "entries": f"{stored.entries}",
        "first take ms": ms(first_takes),
        "check ms": ms(checks),
        "check/build %": percent(checks),
        "first check ms": ms(first_checks),
        "first check %": percent(first_checks),
        "hooks moved ms": ms(hooked),
        "hooks moved %": percent(hooked),
    }


def print_table(rows: list[dict]) -> None:
    columns = list(rows[0])
    width = {
        name: max(len(name), *(len(row[name]) for row in rows)) for name in columns
    }
    print("  ".join(name.rjust(width[name]) for name in columns))
    for row in rows:
        print("  ".join(row[name].rjust(width[name]) for name in columns))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(DEFAULT_MODELS))
    parser.add_argument("--builds", type=int, default=7, help="timed builds per model")
    parser.add_argument(
        "--runs", type=int, default=140, help="timed checks of each kind per model"
    )
    options = parser.parse_args()
    rows = [measure(name, options.builds, options.runs) for name in options.models]
    print_table(rows)
    print(
        f"build s: median of {options.builds} builds (after an untimed first one)."
        "\nfirst take: the slow first fingerprint, stored on each build."
        f"\ncheck: take(model) == stored, median of {options.runs} runs spread over "
        "the builds;\nfirst check: the first one after each build (colder caches);"
        "\nhooks moved: a hook was registered elsewhere before each run, so take() "
        "reads every module's hook dicts. %: of the build time."
    )


if __name__ == "__main__":
    main()
