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

Balanced draws.  Free draws add up as a random walk: 59 gaps of 0.25 s ± 50 % sum to 14.75 s
with a standard deviation of 0.55 s, and of 100 portals crawled together the unluckiest ends
about 1.4 s after its pace promised (measured: 15.9 s of sends for 60 requests).  Each draw is
therefore taken from the part of the jitter's range that keeps the slot's running sum of
deviations within one jitter: every gap is still random and within 0.125–0.375 s, and n
requests take n × delay ± 0.125 s.

The pace under load.  Scrapy counts each gap from the moment the last request was sent.  In a
process crawling many portals, a timer fires when the reactor gets to it, a few to a few
tens of milliseconds late, and every late send pushed all later ones back: 60 requests at
0.25 s took 20 s instead of 15.  Here a gap counts from the last request's turn (its send
when it did not wait: a portal idle for a while gets no burst), so requests keep their turns
after a stall of the reactor, making up at most ``CATCH_UP`` gaps of it; and no two requests
come closer than the shortest gap the jitter allows (0.125 s for 0.25 s ± 50 %): the portal
sees the pace it was promised, on average and in every gap.
"""

from __future__ import annotations

import random
from time import monotonic

from scrapy.core.downloader import Downloader as ScrapyDownloader
from scrapy.core.downloader import Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro


# How many gaps' worth of lateness a slot may make up, at the jitter's shortest gap.
CATCH_UP = 4


class PacedSlot(Slot):
    """A slot that remembers the random factor of its current gap between requests."""

    __slots__ = ("drift", "gap_factor", "gap_start", "planned")

    def __init__(self, concurrency: int, delay: float, jitter: float) -> None:
        super().__init__(concurrency, delay, jitter)
        self.drift = 0.0  # the sum of the factors' deviations from 1 so far, within ±jitter
        self.gap_factor: float | None = None  # drawn when the last request was sent
        self.gap_start = 0.0  # when the last request was due (its send time if none waited)
        self.planned: float | None = None  # when the queued request is due, if it waits


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
        paced = isinstance(slot, PacedSlot)
        if delay:
            if paced:
                scheduled = slot.gap_start + delay
                # Never closer to the last request sent than the shortest gap the jitter allows.
                due = max(scheduled, slot.lastseen + max(0.0, slot.delay * (1 - slot.jitter)))
            else:
                due = slot.lastseen + delay
            if due > now:
                if paced and slot.queue:  # a request waits for its turn
                    slot.planned = scheduled
                slot.latercall = call_later(due - now, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            if paced:
                # The next gap counts from when this request's turn was, not from when a busy
                # reactor got round to sending it, so one stall does not push back every later
                # request; a stall longer than CATCH_UP gaps is not made up.
                turn = slot.planned if slot.planned is not None else now
                slot.gap_start = max(turn, now - CATCH_UP * slot.delay)
                # A request that waited for its turn used up its gap's draw; one sent as it came
                # (the first, or after an idle spell) starts the pace, and the balance, afresh.
                waited = slot.planned is not None and slot.gap_factor is not None
                slot.drift = slot.drift + slot.gap_factor - 1 if waited else 0.0
                slot.planned = None
                slot.gap_factor = None  # the next gap gets a draw of its own
            request, queue_dfd = slot.queue.popleft()
            # `_download` adds it again (a set) and removes it when the transfer ends.
            slot.transferring.add(request)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                # One request per gap: set the timer for the next one now.
                self._process_queue(slot)
                break

    def _latercall(self, slot) -> None:
        if isinstance(slot, PacedSlot) and not slot.queue:
            slot.planned = None  # nothing waited: the next request's gap counts from its send
        super()._latercall(slot)

    @staticmethod
    def _gap(slot) -> float:
        """The slot's current wait between two requests, drawn once per gap."""
        if not slot.delay:
            return 0.0
        if not slot.jitter or not isinstance(slot, PacedSlot):
            return slot.download_delay()
        if slot.gap_factor is None:
            # The range that keeps the running sum of deviations within ±jitter.
            low = max(-slot.jitter, -slot.jitter - slot.drift)
            high = min(slot.jitter, slot.jitter - slot.drift)
            slot.gap_factor = 1 + random.uniform(low, high)  # noqa: S311 - pacing, not secrecy
        factor = slot.gap_factor
        # A jitter above 1 would reach into negative delays, floored at 0 (as Scrapy does).
        return max(0.0, slot.delay * factor)
