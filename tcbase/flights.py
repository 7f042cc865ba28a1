"""Single flight: however many threads ask for a missing entry, one builds it.

A load has an exact key, so its waiters wait on that key. A traced build's key
is known only when it ends, so a request waits on a build under way only while
that build has read nothing on which the request's config differs; once it has,
the request builds its own model, in parallel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

POLL_SECONDS = 0.01
"""How often a waiter looks again at what a build under way has read."""

ValueOf = Callable[[str], Any]


class Flight:
    """One load or build under way."""

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.done = threading.Event()
        self._read_fields: Callable[[], list[str]] | None = None
        self._value_of: ValueOf | None = None
        self._frozen: dict[str, Any] = {}
        self.full_key: Any = None

    def follow(self, read_fields: Callable[[], list[str]], value_of: ValueOf) -> None:
        """Expose the build's reads so far, and its config's frozen values."""
        self._value_of = value_of
        self._read_fields = read_fields

    def may_produce(self, fields: list[str], value_of: ValueOf) -> bool:
        """Return False once the build read a field the asker's config differs in."""
        read_fields, theirs = self._read_fields, self._value_of
        if read_fields is None or theirs is None:
            return True
        for field in [*fields, *read_fields()]:
            if field not in self._frozen:
                self._frozen[field] = theirs(field)
            if value_of(field) != self._frozen[field]:
                return False
        return True

    def wait(self, what: str, timeout: float | None = None) -> None:
        if self.owner == threading.get_ident():
            raise RecursionError(
                f"{what} was asked for by its own builder while it was being built"
            )
        self.done.wait(timeout)


class ExactFlights:
    """Flights keyed by an exact key (config loads, explicit model keys)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Any, Flight] = {}

    def join_or_start(self, key: Any, what: str) -> Flight | None:
        """Return a new flight the caller must fly, or None after waiting."""
        with self._lock:
            flight = self._flights.get(key)
            if flight is None:
                flight = self._flights[key] = Flight()
                return flight
        flight.wait(what)
        return None

    def land(self, key: Any, flight: Flight) -> None:
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        flight.done.set()


class TracedFlights:
    """Flights of traced builds, per builder."""

    def __init__(self, always_compared: list[str]) -> None:
        self._lock = threading.Lock()
        self._flights: dict[Any, list[Flight]] = {}
        self._always = always_compared

    def join_or_start(
        self, builder: Any, value_of: ValueOf, full_key: Any, what: str
    ) -> Flight | None:
        """Return a new flight the caller must fly, or None after a wait.

        After None the caller looks the cache up again and asks again.
        ``full_key`` (every field, frozen; None if unfreezable) tells a builder
        asking for its very own config from one asking for another.
        """
        me = threading.get_ident()
        blocking = None
        with self._lock:
            for flight in self._flights.get(builder, ()):
                if flight.owner == me:
                    if full_key is not None and flight.full_key == full_key:
                        blocking = flight
                        break
                    continue
                if flight.may_produce(self._always, value_of):
                    blocking = flight
                    break
            if blocking is None:
                flight = Flight()
                flight.full_key = full_key
                self._flights.setdefault(builder, []).append(flight)
                return flight
        blocking.wait(what, POLL_SECONDS)
        return None

    def land(self, builder: Any, flight: Flight) -> None:
        with self._lock:
            running = self._flights.get(builder, [])
            if flight in running:
                running.remove(flight)
        flight.done.set()
