"""Scrapy's downloader, with the per-portal limits it promises kept.

Concurrency with no delay.  Scrapy 2.19 starts a queued request as a coroutine that marks it
as transferring only when it first runs; with no download delay, ``_process_queue`` loops on
``free_transfer_slots()`` before any of them has run, so every queued request of a slot starts
at once and ``CONCURRENT_REQUESTS_PER_DOMAIN`` is not enforced.  A crawler of small government
servers must keep its per-portal limit, so a request counts as transferring from the moment it
is started.

The delay with jitter.  Scrapy draws a new random delay (``DOWNLOAD_DELAY`` ±
``DOWNLOAD_DELAY_JITTER``) every time it looks at a slot, not once per request: when the timer
set for the first draw fires, a second draw above the first sets another timer, and so on.
The gap between two requests is then the largest of several draws, about 1.22 × the delay on
average with the default ±50 %, so a portal asked to be crawled at one request per 0.25 s got
one per 0.30 s.  Here the random factor is drawn once, when a request is sent, and holds until
the next one is; the gaps then average the delay and stay within its jitter, as documented.
AutoThrottle still sets ``slot.delay``: the factor scales whatever delay the slot has.
"""

from __future__ import annotations

import random
from time import monotonic

from scrapy.core.downloader import Downloader as ScrapyDownloader
from scrapy.core.downloader import Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


class PacedSlot(Slot):
    """A slot that remembers the random factor of its current gap between requests."""

    __slots__ = ("gap_factor",)

    def __init__(self, concurrency: int, delay: float, jitter: float) -> None:
        super().__init__(concurrency, delay, jitter)
        self.gap_factor: float | None = None  # drawn when the last request was sent


class Downloader(ScrapyDownloader):
    def _get_slot(self, request, spider=None):
        key, slot = super()._get_slot(request)
        if type(slot) is Slot:  # just made by Scrapy, still empty: made a paced one instead
            slot = self.slots[key] = PacedSlot(slot.concurrency, slot.delay, slot.jitter)
        return key, slot

    def _process_queue(self, slot) -> None:
        if slot.latercall:
            return  # the slot waits for its timer
        now = monotonic()
        delay = self._gap(slot)
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            if isinstance(slot, PacedSlot):
                slot.gap_factor = None  # the next gap gets a draw of its own
            request, queue_dfd = slot.queue.popleft()
            # `_download` adds it again (a set) and removes it when the transfer ends.
            slot.transferring.add(request)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                # One request per gap: set the timer for the next one now.
                self._process_queue(slot)
                break

    @staticmethod
    def _gap(slot) -> float:
        """The slot's current wait between two requests, drawn once per gap."""
        if not slot.delay:
            return 0.0
        if not slot.jitter or not isinstance(slot, PacedSlot):
            return slot.download_delay()
        if slot.gap_factor is None:
            slot.gap_factor = 1 + random.uniform(-slot.jitter, slot.jitter)  # noqa: S311 - pacing, not secrecy
        factor = slot.gap_factor
        # A jitter above 1 would reach into negative delays, floored at 0 (as Scrapy does).
        return max(0.0, slot.delay * factor)
