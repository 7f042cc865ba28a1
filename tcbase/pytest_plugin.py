"""The pytest face of tcbase: fixtures over the same dictionaries, and the report.

Loaded through the ``pytest11`` entry point. The fixtures ``hf_config`` and
``built_model`` are factories taking the same arguments as the mixin's methods.
"""

from __future__ import annotations

import dataclasses
import os
import unittest
from collections.abc import Callable
from typing import Any

import pytest

from . import cache, guard, report, settings
from .context import set_current_test
from .testcase import CachedArtifactsMixin

REPORT_ENV = "TCBASE_REPORT"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tcbase", "tcbase artifact cache")
    group.addoption(
        "--tcbase-report",
        dest="tcbase_report",
        metavar="PATH",
        default=None,
        help=f"write the cache report as JSON to PATH (also ${REPORT_ENV})",
    )
    group.addoption(
        "--tcbase-audit",
        dest="tcbase_audit",
        action="store_true",
        default=None,
        help="rebuild on every cache hit and fail when the fresh build differs "
        "from the shared model (also $TCBASE_AUDIT=1)",
    )

    group.addoption(
        "--tcbase-guard",
        dest="tcbase_guard",
        metavar="MODE",
        default=None,
        help="on (default), off, or strict (plain attribute changes fail too); "
        "also $TCBASE_GUARD",
    )

    group.addoption(
        "--tcbase-max-models",
        dest="tcbase_max_models",
        metavar="N",
        default=None,
        help="keep at most N built models, least recently used out first "
        "(also $TCBASE_MAX_MODELS and the ini key tcbase_max_models)",
    )
    parser.addini(
        "tcbase_max_models",
        "keep at most this many built models (0: no bound)",
        default=None,
    )


_WORKER_REPORTS = pytest.StashKey[dict]()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


_SETTINGS_BEFORE = pytest.StashKey[settings.Settings]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_SETTINGS_BEFORE] = dataclasses.replace(settings.current)
    report.claim()
    config.stash[_WORKER_REPORTS] = {}
    if config.getoption("tcbase_audit"):
        settings.current.audit = True
    bound, source = config.getoption("tcbase_max_models"), "--tcbase-max-models"
    if bound is None and config.getini("tcbase_max_models") not in (None, ""):
        bound, source = config.getini("tcbase_max_models"), "tcbase_max_models"
    if bound is not None:
        settings.current.max_models = _parsed(settings.parse_max_models, bound, source)
    guard_mode = config.getoption("tcbase_guard")
    if guard_mode is not None:
        settings.current.guard = _parsed(
            settings.parse_guard, guard_mode, "--tcbase-guard"
        )


def _parsed(parse: Callable[[str, str], Any], value: str, source: str) -> Any:
    """Parse an option's value; a bad one is a usage error naming the option."""
    try:
        return parse(value, source)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


def _is_unittest_item(item: pytest.Item) -> bool:
    klass = getattr(item, "cls", None)
    return isinstance(klass, type) and issubclass(klass, unittest.TestCase)


def _checks_itself(item: pytest.Item) -> bool:
    # A TensorCastTestCase checks its models in a cleanup of its own run.
    klass = getattr(item, "cls", None)
    return isinstance(klass, type) and issubclass(klass, CachedArtifactsMixin)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Any:
    # A pytest function's fixtures belong to its test; a unittest item's setup
    # phase runs setUpClass, whose models belong to the class.
    previous = set_current_test(item.nodeid)
    token = None if _is_unittest_item(item) else guard.enter_test()
    try:
        return (yield)
    finally:
        if token is not None:
            guard.leave_test(token)
        set_current_test(previous)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    token = guard.enter_test() if _is_unittest_item(item) else None
    scope = _scope_of(item)
    guard.precheck_held(scope, f"the set-up of {getattr(scope, '__qualname__', scope)}")
    try:
        result = yield
        if not _checks_itself(item):
            guard.check_test(item.nodeid)
        return result
    finally:
        if token is not None:
            guard.leave_test(token)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Any:
    # A class-, module- or session-scoped fixture's models outlive the test
    # that first set it up: they are held, and checked after every test.
    if fixturedef.scope == "function":
        return (yield)
    with guard.outside_tests():
        return (yield)


def _scope_of(item: Any) -> Any:
    return getattr(item, "cls", None) or getattr(item, "module", None)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: Any) -> Any:
    result = yield
    # The call phase checked the held models; here only what teardown got.
    guard.check_test(item.nodeid, held=False)
    if nextitem is None or _scope_of(nextitem) is not _scope_of(item):
        guard.check_outside(f"{item.nodeid} (end of its class or module)")
    return result


@pytest.fixture
def hf_config() -> Callable[..., Any]:
    """Factory: ``hf_config(model_id, *, remote_source=None)``, a deep copy."""
    return cache.get_hf_config


@pytest.fixture
def built_model() -> Callable[[Any], Any]:
    """Factory: ``built_model(user_config)``, the shared read-only model."""
    return cache.get_built_model


@pytest.fixture
def fresh_model() -> Callable[[Any], Any]:
    """Factory: ``fresh_model(user_config)``, a private build never cached."""
    return cache.fresh_model


@pytest.fixture
def tcbase_cache() -> Any:
    """The ``tcbase.cache`` module: ``cache_info()``, ``clear_cache()``, the dicts."""
    return cache


def _report_path(config: pytest.Config) -> str | None:
    return config.getoption("tcbase_report") or os.environ.get(REPORT_ENV) or None


def pytest_unconfigure(config: pytest.Config) -> None:
    # Options hold for this session only (pytest.main may run several).
    before = config.stash.get(_SETTINGS_BEFORE, None)
    if before is not None:
        settings.current.__dict__.update(before.__dict__)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """Controller: keep what an xdist worker sent (nothing, if it crashed)."""
    worker_id = node.workerinput.get("workerid", "?")
    sent = getattr(node, "workeroutput", {}).get("tcbase")
    node.config.stash[_WORKER_REPORTS][worker_id] = sent


def _session_report(config: pytest.Config) -> dict[str, Any]:
    workers = config.stash.get(_WORKER_REPORTS, {})
    if workers:
        return report.merge(workers.items())
    return report.local_report()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if _is_worker(config):
        return
    terminalreporter.write_sep("-", "tcbase")
    for line in report.format_text(_session_report(config)):
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if _is_worker(config):
        config.workeroutput["tcbase"] = report.local_report()
        return
    path = _report_path(config)
    if path:
        report.write_json(path, _session_report(config))
