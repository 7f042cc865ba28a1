"""Reports: the same figures from every runner, merged across xdist workers."""

from __future__ import annotations

import json
import os
import unittest

from tests.support import TINY_LLAMA, TINY_QWEN3, run_python, scratch_dir, write_files

COUNTING_MODELS = """
import dataclasses, os, torch, tcbase

@dataclasses.dataclass
class Net:
    width: int
    batch: int = 1

def build(config):
    with open(os.environ["BUILD_LOG"], "a") as log:
        log.write(f"{os.getpid()} {config.width}\\n")
    return torch.nn.Linear(config.width, 2)

tcbase.register_builder(Net, build)
"""

# Two classes over the same widths; loadscope keeps each class on one worker.
SUITE = """
import tcbase
from models import Net


class First(tcbase.TensorCastTestCase):
    def test_1(self): self.built_model(Net(1))
    def test_2(self): self.built_model(Net(2, batch=5))
    def test_3(self): self.built_model(Net(1, batch=9))
    def test_4(self): self.built_model(Net(2))


class Second(tcbase.TensorCastTestCase):
    def test_1(self): self.built_model(Net(3))
    def test_2(self): self.built_model(Net(3))
    def test_3(self): self.built_model(Net(1))


def test_function(built_model, hf_config):
    built_model(Net(2))
    hf_config(QWEN3)
""".replace("QWEN3", repr(TINY_QWEN3))


XDIST_WITH_REPORT = [
    "-m",
    "pytest",
    "-p",
    "no:cacheprovider",
    "-n",
    "2",
    "--tcbase-report=r.json",
]


def read_json(path):
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


class ReportTest(unittest.TestCase):
    def setUp(self):
        self.directory = scratch_dir(self)
        self.log = os.path.join(self.directory, "builds.log")
        write_files(
            self.directory, {"models.py": COUNTING_MODELS, "test_suite.py": SUITE}
        )

    def run_here(self, args, **env):
        return run_python(args, cwd=self.directory, BUILD_LOG=self.log, **env)

    def real_builds(self):
        with open(self.log, encoding="utf-8") as stream:
            return len(stream.readlines())

    def test_the_json_report_has_the_documented_keys(self):
        finished = self.run_here(
            ["-m", "pytest", "-p", "no:cacheprovider", "--tcbase-report=r.json"]
        )
        self.assertEqual(finished.returncode, 0, finished.stdout)
        document = read_json(os.path.join(self.directory, "r.json"))
        self.assertEqual(
            sorted(document),
            [
                "audited_hits",
                "build_seconds",
                "builds",
                "config_hits",
                "config_loads",
                "entries",
                "evictions",
                "guard_violations",
                "model_builds",
                "model_hits",
                "seconds_saved",
                "workers",
            ],
        )
        self.assertEqual((document["model_builds"], document["model_hits"]), (3, 5))
        self.assertEqual(
            sorted(b["key_fields"]["width"] for b in document["builds"]),
            ["1", "2", "3"],
        )
        self.assertEqual(
            sorted(document["builds"][0]),
            ["builder", "key_fields", "model_id", "seconds"],
        )

    def test_under_xdist_the_controller_sums_what_the_workers_built(self):
        finished = self.run_here(XDIST_WITH_REPORT)
        self.assertEqual(finished.returncode, 0, finished.stdout + finished.stderr)
        document = read_json(os.path.join(self.directory, "r.json"))
        self.assertEqual(document["model_builds"], self.real_builds())
        self.assertEqual(document["model_builds"] + document["model_hits"], 8)
        self.assertEqual(len(document["workers"]), 2)
        self.assertEqual(sorted(w["id"] for w in document["workers"]), ["gw0", "gw1"])
        self.assertEqual(
            sum(w["model_builds"] for w in document["workers"]),
            document["model_builds"],
        )
        self.assertEqual(finished.stdout.count(" tcbase "), 1)
        self.assertIn("worker gw0: model builds", finished.stdout)
        self.assertIn("worker gw1: model builds", finished.stdout)

    def test_models_built_on_several_workers_are_named(self):
        finished = self.run_here(
            ["-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadscope"]
        )
        self.assertEqual(finished.returncode, 0, finished.stdout + finished.stderr)
        # First builds widths 1 and 2, Second builds 3 and 1, the function 2:
        # loadscope keeps each class whole, so width 1 is built on both workers
        # exactly when the classes went to different workers.
        lines = [
            line for line in finished.stdout.splitlines() if line.startswith("built on")
        ]
        for line in lines:
            self.assertRegex(
                line,
                r"^built on 2 workers \(gw0, gw1\): Net \[models.build\] \(width=[12]\)$",
            )

    def test_a_worker_that_sent_nothing_is_reported(self):
        write_files(
            self.directory,
            {"test_crash.py": "import os\n\ndef test_crash():\n    os._exit(3)\n"},
        )
        finished = self.run_here(XDIST_WITH_REPORT)
        self.assertIn("sent no figures", finished.stdout)
        document = read_json(os.path.join(self.directory, "r.json"))
        self.assertIn(False, [w["sent"] for w in document["workers"]])

    def test_python_m_tcbase_and_plain_unittest_give_the_same_figures(self):
        tcbase_run = self.run_here(
            ["-m", "tcbase", "test_suite"], TCBASE_REPORT="a.json"
        )
        self.assertEqual(tcbase_run.returncode, 0, tcbase_run.stderr)
        os.remove(self.log)
        plain_run = self.run_here(
            ["-m", "unittest", "test_suite"], TCBASE_REPORT="b.json"
        )
        self.assertEqual(plain_run.returncode, 0, plain_run.stderr)
        first = read_json(os.path.join(self.directory, "a.json"))
        second = read_json(os.path.join(self.directory, "b.json"))
        for figures in (first, second):
            for name in ("build_seconds", "seconds_saved"):
                figures.pop(name)
            for build in figures["builds"]:
                build.pop("seconds")
        self.assertEqual(first, second)
        self.assertEqual((first["model_builds"], first["model_hits"]), (3, 4))


class TextReportTest(unittest.TestCase):
    def test_the_text_report_lists_the_costliest_builds(self):
        directory = scratch_dir(self)
        write_files(
            directory,
            {
                "test_two.py": f"""
                import tcbase

                def test_two(built_model):
                    built_model(tcbase.ModelSpec({TINY_QWEN3!r}))
                    built_model(tcbase.ModelSpec({TINY_LLAMA!r}, num_hidden_layers=1))
                """
            },
        )
        finished = run_python(["-m", "pytest", "-p", "no:cacheprovider"], cwd=directory)
        self.assertIn("costliest builds:", finished.stdout)
        self.assertRegex(
            finished.stdout, r"\d+\.\d\d s  .*tiny-qwen3 \[tcbase.ModelSpec\]\n"
        )
        self.assertRegex(
            finished.stdout, r"tiny-llama \[tcbase.ModelSpec\] \(num_hidden_layers=1\)"
        )
