"""The cache report: as text for people, as JSON for tools, merged across workers.

Everything here works on plain dicts (``cache_info`` fields plus ``builds``), the
form in which xdist workers send their figures to the controller.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from .stats import COUNTERS

COSTLIEST_SHOWN = 5
_written = [False]


def local_report() -> dict[str, Any]:
    """Return this process's figures as a plain dict."""
    from .cache import build_records, cache_info

    report = cache_info().as_dict()
    report["builds"] = build_records()
    report["workers"] = []
    return report


def merge(workers: Iterable[tuple[str, dict[str, Any] | None]]) -> dict[str, Any]:
    """Sum the figures of xdist workers; ``workers`` has ``(id, report)`` pairs.

    A worker that sent nothing (``None``) gets a record with ``sent: False``.
    """
    merged: dict[str, Any] = dict.fromkeys(COUNTERS, 0)
    merged["entries"] = 0
    merged["builds"] = []
    merged["workers"] = []
    for worker_id, report in sorted(workers, key=lambda pair: pair[0]):
        if report is None:
            merged["workers"].append({"id": worker_id, "sent": False})
            continue
        record = {"id": worker_id, "sent": True}
        for name in (*COUNTERS, "entries"):
            merged[name] += report.get(name, 0)
            record[name] = report.get(name, 0)
        merged["workers"].append(record)
        merged["builds"].extend(
            dict(build, worker=worker_id) for build in report.get("builds", [])
        )
    return merged


def built_on_several_workers(report: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Return ``(model, workers)`` for each model built by more than one worker."""
    seen: dict[tuple, set[str]] = {}
    for build in report["builds"]:
        fields = tuple(sorted(build["key_fields"].items()))
        where = seen.setdefault(
            (build["model_id"], build.get("builder"), fields), set()
        )
        where.add(build.get("worker", "?"))
    return [
        (_describe(model_id, builder, dict(fields)), sorted(workers))
        for (model_id, builder, fields), workers in sorted(seen.items(), key=repr)
        if len(workers) > 1
    ]


def _shown_id(model_id: str) -> str:
    if os.path.isabs(model_id):
        relative = os.path.relpath(model_id)
        if not relative.startswith(".."):
            return relative
    return model_id


def _describe(model_id: str, builder: str | None, key_fields: dict) -> str:
    fields = ", ".join(
        f"{name}={value}" for name, value in key_fields.items() if name != "model_id"
    )
    return f"{_shown_id(model_id)} [{builder or '?'}]" + (
        f" ({fields})" if fields else ""
    )


def format_text(report: dict[str, Any]) -> list[str]:
    """Return the report as short lines of text."""
    lines = [
        f"model builds {report['model_builds']} ({report['build_seconds']:.2f} s), "
        f"model hits {report['model_hits']} "
        f"(saved {report['seconds_saved']:.2f} s); "
        f"config loads {report['config_loads']}, config hits {report['config_hits']}",
        f"evictions {report['evictions']}, "
        f"guard violations {report['guard_violations']}, "
        f"audited hits {report.get('audited_hits', 0)}, "
        f"cached models {report['entries']}",
    ]
    for worker in report.get("workers", []):
        if not worker["sent"]:
            lines.append(f"worker {worker['id']}: sent no figures")
            continue
        lines.append(
            f"worker {worker['id']}: model builds {worker['model_builds']}, "
            f"model hits {worker['model_hits']}, "
            f"build seconds {worker['build_seconds']:.2f}"
        )
    for model, workers in built_on_several_workers(report):
        lines.append(f"built on {len(workers)} workers ({', '.join(workers)}): {model}")
    costliest = sorted(report["builds"], key=lambda b: b["seconds"], reverse=True)
    if costliest:
        lines.append("costliest builds:")
        for build in costliest[:COSTLIEST_SHOWN]:
            worker = f" on {build['worker']}" if build.get("worker") else ""
            described = _describe(
                build["model_id"], build.get("builder"), build["key_fields"]
            )
            lines.append(f"  {build['seconds']:7.2f} s  {described}{worker}")
    return lines


def write_json(path: str, report: dict[str, Any]) -> None:
    """Write the report as JSON, with a ``workers`` list (empty without xdist)."""
    document = dict(report)
    document.setdefault("workers", [])
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(document, stream, indent=2, sort_keys=True, default=repr)
        stream.write("\n")
    _written[0] = True


def write_at_exit(path: str) -> None:
    """Write this process's report, unless a runner already wrote one."""
    if not _written[0]:
        write_json(path, local_report())


def claim() -> None:
    """Tell the exit hook that a runner (pytest, ``python -m tcbase``) writes."""
    _written[0] = True
