"""The open batch of meeting writes of a process, one per store.

Every crawler of a process that stores into the same database adds its finished meetings to
one batch, committed in one transaction every ``STORE_BATCH_SIZE`` meetings or
``STORE_BATCH_SECONDS`` seconds, whichever comes first, and whenever one of the crawlers
closes.  With a batch per crawler, a hundred portals crawled side by side committed a
hundred transactions of one or two meetings each second, and the commits cost more than the
meetings (bench/many.py).  Each meeting's outcome goes back to the pipeline that added it.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any

from twisted.internet import task

logger = logging.getLogger(__name__)

# One writer per Store object, gone with it.
_writers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class Entry:
    """A meeting waiting in the batch: its fields, the URLs that redirected to it, the
    adder's own key for it, and whom to tell how it went: ``done(entry, outcome, result)``,
    or ``failed(entry, error)`` when the batch could not be written at all."""

    __slots__ = ("fields", "aliases", "key", "done", "failed")

    def __init__(self, fields: dict, aliases: list[str], key: Any, done: Callable, failed: Callable):
        self.fields, self.aliases, self.key, self.done, self.failed = fields, aliases, key, done, failed


class BatchWriter:
    def __init__(self, store, size: int, seconds: float):
        self.store = store
        self.size = max(1, size)
        self.seconds = seconds
        self.pending: list[Entry] = []
        self.users: set[int] = set()
        self.timer: task.LoopingCall | None = None

    @classmethod
    def of(cls, store, settings) -> BatchWriter:
        """The writer of ``store``; the first user's settings size it."""
        writer = _writers.get(store)
        if writer is None:
            writer = _writers[store] = cls(store, settings.getint("STORE_BATCH_SIZE", 100),
                                           settings.getfloat("STORE_BATCH_SECONDS", 1.0))
        return writer

    def open(self, user: Any) -> None:
        self.users.add(id(user))
        if self.seconds > 0 and self.timer is None:
            self.timer = task.LoopingCall(self.flush)
            # flush() never raises: a failing batch is reported to its entries' owners.
            self.timer.start(self.seconds, now=False)

    def close(self, user: Any) -> None:
        """``user`` is done: its meetings (and the others' in the batch) are committed now."""
        self.flush()
        self.users.discard(id(user))
        if not self.users and self.timer is not None:
            if self.timer.running:
                self.timer.stop()
            self.timer = None

    def add(self, entry: Entry) -> None:
        self.pending.append(entry)
        if len(self.pending) >= self.size:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        try:
            results = self.store.upsert_each([(e.fields, e.aliases) for e in batch])
        except Exception as e:  # noqa: BLE001 - every owner hears of it; the timer goes on
            for entry in batch:
                entry.failed(entry, e)
            return
        for entry, (outcome, result) in zip(batch, results):
            entry.done(entry, outcome, result)
