"""Single flight: concurrent requests for one key build once, others in parallel."""

from __future__ import annotations

import dataclasses
import threading
import time
import types

import tcbase
from tests.support import IsolatedCacheTest


@dataclasses.dataclass
class Slow:
    model_id: str = "slow"
    name: str = "a"
    needs: str = ""
    query_len: int = 1


class SlowBuilder:
    def __init__(self, seconds=0.2, barrier=None):
        self.seconds = seconds
        self.barrier = barrier
        self.builds = []
        self.lock = threading.Lock()

    def __call__(self, config):
        with self.lock:
            self.builds.append(config.name)
        if self.barrier is not None:
            # Both builds must be under way at once, or this times out.
            self.barrier.wait(timeout=30)
        time.sleep(self.seconds)
        inner = (
            tcbase.get_built_model(Slow(name=config.needs)) if config.needs else None
        )
        return types.SimpleNamespace(name=config.name, inner=inner)


def ask_from_threads(count, make_config):
    results = [None] * count
    errors = []
    start = threading.Barrier(count)

    def ask(index):
        try:
            start.wait(timeout=30)
            results[index] = tcbase.get_built_model(make_config(index))
        except BaseException as error:  # reported by the test
            errors.append(error)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


class SingleFlightTest(IsolatedCacheTest):
    def test_8_and_32_threads_asking_for_one_key_cause_one_build(self):
        for count in (8, 32):
            with self.subTest(threads=count):
                tcbase.clear_cache()
                builder = SlowBuilder()
                tcbase.register_builder(Slow, builder)
                results, errors = ask_from_threads(count, lambda i: Slow(query_len=i))
                self.assertEqual(errors, [])
                self.assertEqual(builder.builds, ["a"])
                self.assertTrue(all(model is results[0] for model in results))
                info = tcbase.cache_info()
                self.assertEqual((info.model_builds, info.model_hits), (1, count - 1))

    def test_two_keys_from_two_threads_build_in_parallel(self):
        builder = SlowBuilder(seconds=0.0, barrier=threading.Barrier(2))
        tcbase.register_builder(Slow, builder)
        results, errors = ask_from_threads(2, lambda i: Slow(name="ab"[i]))
        self.assertEqual(errors, [])
        self.assertEqual(sorted(builder.builds), ["a", "b"])
        self.assertEqual(sorted(model.name for model in results), ["a", "b"])

    def test_a_builder_asking_the_cache_for_another_model_does_not_deadlock(self):
        builder = SlowBuilder(seconds=0.05)
        tcbase.register_builder(Slow, builder)
        results, errors = ask_from_threads(
            4,
            lambda i: (
                Slow(name="outer", needs="inner") if i % 2 else Slow(name="inner")
            ),
        )
        self.assertEqual(errors, [])
        self.assertEqual(sorted(builder.builds), ["inner", "outer"])
        outer = next(model for model in results if model.name == "outer")
        self.assertIs(outer.inner, tcbase.get_built_model(Slow(name="inner")))

    def test_a_builder_asking_for_its_own_key_is_an_error_not_a_hang(self):
        tcbase.register_builder(Slow, lambda c: tcbase.get_built_model(Slow()))
        with self.assertRaises(tcbase.errors.ArtifactError) as raised:
            tcbase.get_built_model(Slow())
        self.assertIsInstance(raised.exception.__cause__, RecursionError)

    def test_a_failure_reaches_every_waiting_thread_after_one_build(self):
        calls = []

        def failing(config):
            calls.append(config.name)
            time.sleep(0.2)
            raise OSError("disk on fire")

        tcbase.register_builder(Slow, failing)
        _, errors = ask_from_threads(8, lambda i: Slow())
        self.assertEqual(calls, ["a"])
        self.assertEqual(len(errors), 8)
        self.assertTrue(all("disk on fire" in str(error) for error in errors))
