"""Example suites for tcbase: real model configs built on the meta device.

Run from the repository root with either runner::

    python -m tcbase discover -s examples -t .
    python -m pytest examples

This folder is a package so that both runners import its modules as
``examples.<name>`` and the shared helpers in ``examples._models`` resolve the same
way under each of them.
"""
