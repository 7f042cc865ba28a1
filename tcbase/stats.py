"""Counters and build records: what the cache did in this process.

Plain numbers and strings only, so that nothing here keeps a model or a test
alive, and every record travels as JSON (to the report and between xdist
processes).
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any


@dataclasses.dataclass(frozen=True)
class CacheInfo:
    """A snapshot of the cache's counters (see ``tcbase.cache_info``)."""

    config_loads: int
    config_hits: int
    model_builds: int
    model_hits: int
    build_seconds: float
    seconds_saved: float
    evictions: int
    guard_violations: int
    entries: int
    audited_hits: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


COUNTERS = (
    "config_loads",
    "config_hits",
    "model_builds",
    "model_hits",
    "build_seconds",
    "seconds_saved",
    "evictions",
    "guard_violations",
    "audited_hits",
)


class Stats:
    """Thread-safe counters plus one record per build."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._counts: dict[str, float] = dict.fromkeys(COUNTERS, 0)
            self._builds: list[dict[str, Any]] = []

    def add(self, counter: str, amount: float = 1) -> None:
        with self._lock:
            self._counts[counter] += amount

    def add_hit(self, seconds_saved: float) -> None:
        with self._lock:
            self._counts["model_hits"] += 1
            self._counts["seconds_saved"] += seconds_saved

    def record_build(
        self, model_id: str, builder: str, seconds: float, key_fields: dict
    ) -> None:
        with self._lock:
            self._counts["model_builds"] += 1
            self._counts["build_seconds"] += seconds
            self._builds.append(
                {
                    "model_id": model_id,
                    "builder": builder,
                    "seconds": seconds,
                    "key_fields": key_fields,
                }
            )

    def snapshot(self, entries: int) -> CacheInfo:
        with self._lock:
            counts = dict(self._counts)
        for name in COUNTERS:
            if name not in ("build_seconds", "seconds_saved"):
                counts[name] = int(counts[name])
        return CacheInfo(entries=entries, **counts)

    def builds(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(record) for record in self._builds]
