"""``python -m tcbase ARGS``: ``python -m unittest ARGS``, then the cache report."""

from __future__ import annotations

import sys
import unittest

from . import guard, report, settings


class _GuardedResult(unittest.TextTestResult):
    """A result that guards models plain ``TestCase`` tests got from the cache.

    ``TensorCastTestCase`` checks its own models inside the test; this catches
    the rest (a legacy suite on ``tcbase.compat``), failing the test after it
    ran.
    """

    def startTest(self, test: unittest.TestCase) -> None:
        # Models a plain class got in setUpClass stay held for the rest of the
        # run (unittest tells a result nothing of class boundaries), and are
        # checked after every test.
        self._tcbase_token = guard.enter_test()
        super().startTest(test)

    _tcbase_passed: unittest.TestCase | None = None

    def addSuccess(self, test: unittest.TestCase) -> None:
        # Reported in stopTest, once the guard has had its say.
        self._tcbase_passed = test

    def stopTest(self, test: unittest.TestCase) -> None:
        passed, self._tcbase_passed = self._tcbase_passed is test, None
        try:
            guard.check_test(test.id())
        except AssertionError:
            self.addFailure(test, sys.exc_info())
        else:
            if passed:
                super().addSuccess(test)
        finally:
            guard.leave_test(self._tcbase_token)
        super().stopTest(test)


class _GuardedRunner(unittest.TextTestRunner):
    resultclass = _GuardedResult


def main(argv: list[str] | None = None) -> int:
    """Run unittest with ``argv`` and print the cache report; return its status."""
    arguments = sys.argv[1:] if argv is None else argv
    program = unittest.main(
        module=None,
        argv=["python -m tcbase", *arguments],
        exit=False,
        testRunner=_GuardedRunner,
    )
    result = program.result
    figures = report.local_report()
    if settings.current.report_path:
        report.write_json(settings.current.report_path, figures)
    print("\ntcbase:", file=sys.stderr)
    for line in report.format_text(figures):
        print(f"  {line}", file=sys.stderr)
    if not result.wasSuccessful():
        return 1
    if sys.version_info >= (3, 12) and result.testsRun == 0 and not result.skipped:
        return 5
    return 0


if __name__ == "__main__":
    sys.exit(main())
