"""Scrapy's downloader, with its per-slot concurrency limit kept when DOWNLOAD_DELAY is 0.

Scrapy 2.19 starts a queued request as a coroutine that marks it as transferring only when
it first runs; with no download delay, ``_process_queue`` loops on ``free_transfer_slots()``
before any of them has run, so every queued request of a slot starts at once and
``CONCURRENT_REQUESTS_PER_DOMAIN`` is not enforced (with a delay the loop stops after one
request, which is why it goes unnoticed).  A crawler of small government servers must keep
its per-portal limit, so a request counts as transferring from the moment it is started.
"""

from __future__ import annotations

from time import monotonic

from scrapy.core.downloader import Downloader as ScrapyDownloader
from scrapy.utils.defer import _schedule_coro


class Downloader(ScrapyDownloader):
    def _process_queue(self, slot) -> None:
        if slot.latercall or slot.download_delay():
            # Delayed slots start one request per delay: Scrapy's own path is right.
            return super()._process_queue(slot)
        now = monotonic()
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            # `_download` adds it again (a set) and removes it when the transfer ends.
            slot.transferring.add(request)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
