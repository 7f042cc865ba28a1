"""The lookup structure that maps a config to the built model it may share.

Every build is stored under the fields it depends on, in the order it read them.
The index is a tree: each node asks for one field, and branches on its frozen
value, so a lookup freezes only the fields on the path to one entry, however many
entries a builder has.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

MISSING = ("missing",)
"""The frozen stand-in for a field a config does not have."""

Path = tuple[tuple[str, Any], ...]


class _Node:
    __slots__ = ("branches", "leaf")

    def __init__(self) -> None:
        self.branches: dict[str, dict[Any, _Node]] = {}
        self.leaf: Any = None


class KeyIndex:
    """A tree of read-field paths per builder, with a leaf at each path's end."""

    def __init__(self) -> None:
        self._roots: dict[str, _Node] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._roots.clear()

    def insert(self, builder: str, path: Iterable[tuple[str, Any]], leaf: Any) -> None:
        """Store ``leaf`` at the end of ``path``, replacing what was there."""
        with self._lock:
            node = self._roots.setdefault(builder, _Node())
            for field, frozen in path:
                node = node.branches.setdefault(field, {}).setdefault(frozen, _Node())
            node.leaf = leaf

    def lookup(self, builder: str, value_of: Callable[[str], Any]) -> Any:
        """Return the leaf whose whole path agrees with ``value_of``, or None.

        ``value_of(field)`` returns the frozen value of a field of the config asked
        for; each field is asked at most once.
        """
        node = self._roots.get(builder)
        seen: dict[str, Any] = {}
        while node is not None:
            if node.leaf is not None:
                return node.leaf
            following = None
            for field, children in node.branches.items():
                if field not in seen:
                    seen[field] = value_of(field)
                following = children.get(seen[field])
                if following is not None:
                    break
            node = following
        return None

    def remove_leaves(self, predicate: Callable[[Any], bool]) -> None:
        """Forget every leaf for which ``predicate`` is true."""
        with self._lock:
            stack = list(self._roots.values())
            while stack:
                node = stack.pop()
                if node.leaf is not None and predicate(node.leaf):
                    node.leaf = None
                for children in node.branches.values():
                    stack.extend(children.values())
