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


def local_report() -> dict[str, Any]:
    """Return this process's figures as a plain dict."""
    from .cache import build_records, cache_info

    report = cache_info().as_dict()
    report["builds"] = build_records()
    return report


def merge(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Sum the counters of several processes' reports and join their builds."""
    merged: dict[str, Any] = dict.fromkeys(COUNTERS, 0)
    merged["entries"] = 0
    merged["builds"] = []
    for report in reports:
        for name in (*COUNTERS, "entries"):
            merged[name] += report.get(name, 0)
        merged["builds"].extend(report.get("builds", []))
    return merged


def _shown_id(model_id: str) -> str:
    if os.path.isabs(model_id):
        relative = os.path.relpath(model_id)
        if not relative.startswith(".."):
            return relative
    return model_id


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
    costliest = sorted(report["builds"], key=lambda b: b["seconds"], reverse=True)
    if costliest:
        lines.append("costliest builds:")
        for build in costliest[:COSTLIEST_SHOWN]:
            fields = ", ".join(
                f"{name}={value}"
                for name, value in build["key_fields"].items()
                if name != "model_id"
            )
            worker = f" on {build['worker']}" if build.get("worker") else ""
            lines.append(
                f"  {build['seconds']:7.2f} s  {_shown_id(build['model_id'])}"
                f" [{build.get('builder', '?')}]"
                f"{' (' + fields + ')' if fields else ''}{worker}"
            )
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
