"""``import tcbase`` stays light and exposes exactly the public names."""

from __future__ import annotations

import unittest

from tests.support import REPO, run_python


class ImportTest(unittest.TestCase):
    def test_import_tcbase_loads_no_torch_transformers_or_tensor_cast(self):
        probe = (
            "import tcbase, sys; print(sorted(m for m in "
            "('torch', 'transformers', 'tensor_cast') if m in sys.modules))"
        )
        finished = run_python(["-c", probe], cwd=REPO)
        self.assertEqual(finished.returncode, 0, finished.stderr)
        self.assertEqual(finished.stdout.strip(), "[]")

    def test_importing_the_pytest_plugin_loads_no_torch(self):
        probe = (
            "import tcbase.pytest_plugin, tcbase.compat, sys; "
            "print('torch' in sys.modules, 'transformers' in sys.modules)"
        )
        finished = run_python(["-c", probe], cwd=REPO)
        self.assertEqual(finished.stdout.strip(), "False False", finished.stderr)

    def test_warning_class_is_a_user_warning_importable_without_pytest(self):
        import tcbase

        self.assertTrue(issubclass(tcbase.TcbaseWarning, UserWarning))
        self.assertTrue(issubclass(tcbase.SharedModelMutated, AssertionError))
