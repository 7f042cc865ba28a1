"""Regressions: lexical normalisation of '..' through a symbolic link."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import unittest

import tcbase
from tests.support import TINY_LLAMA, IsolatedCacheTest, scratch_dir


class DotDotThroughSymlinkTest(IsolatedCacheTest):
    def setUp(self):
        super().setUp()
        root = scratch_dir(self)
        # root/work/x: 3 layers; root/real/x: 2 layers; root/work/link -> ../real/deep
        os.makedirs(os.path.join(root, "work"))
        os.makedirs(os.path.join(root, "real", "deep"))
        shutil.copytree(TINY_LLAMA, os.path.join(root, "work", "x"))
        other = os.path.join(root, "real", "x")
        shutil.copytree(TINY_LLAMA, other)
        with open(os.path.join(other, "config.json"), encoding="utf-8") as stream:
            data = json.load(stream)
        data["num_hidden_layers"] = 2
        with open(os.path.join(other, "config.json"), "w", encoding="utf-8") as stream:
            json.dump(data, stream)
        os.symlink(
            os.path.join("..", "real", "deep"), os.path.join(root, "work", "link")
        )
        self.linked = os.path.join(root, "work", "link", "..", "x")

    def test_the_config_the_filesystem_names_is_loaded(self):
        with open(os.path.join(self.linked, "config.json"), encoding="utf-8") as stream:
            self.assertEqual(json.load(stream)["num_hidden_layers"], 2)
        try:
            config = tcbase.get_hf_config(self.linked)
        except tcbase.errors.ArtifactError:
            return  # refusing a linked path is fine (tensor_cast does)
        # actual: 3: os.path.abspath drops 'link/..' and loads work/x instead
        self.assertEqual(config.num_hidden_layers, 2)

    @unittest.skipUnless(importlib.util.find_spec("tensor_cast"), "needs tensor_cast")
    def test_tensor_cast_still_refuses_a_path_through_a_symlink(self):
        from tensor_cast.transformers.utils import AutoModelConfigLoader

        with self.assertRaises(ValueError):
            AutoModelConfigLoader().load_config(self.linked)  # tensor_cast refuses
        # actual: loads work/x: tcbase's normalisation removed the link first
        with self.assertRaises(tcbase.errors.ArtifactError):
            tcbase.get_hf_config(self.linked)
