"""The per-portal concurrency limit holds with no download delay (crawler/runtime/downloader.py)."""

import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SPIDER = textwrap.dedent("""
    import scrapy

    class Many(scrapy.Spider):
        name = "many"
        allowed_domains = ["127.0.0.1"]

        async def start(self):
            for i in range(8):
                yield scrapy.Request(f"{self.origin}/page/{i}", dont_filter=True)

        def parse(self, response):
            pass
""")


class Server:
    """Counts requests in flight; each answer takes a while, so overlaps show."""

    def __init__(self):
        self.lock = threading.Lock()
        self.active = self.peak = self.total = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    server.active += 1
                    server.total += 1
                    server.peak = max(server.peak, server.active)
                time.sleep(0.2)
                with server.lock:
                    server.active -= 1
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "13")
                self.end_headers()
                self.wfile.write(b"<html></html>")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()


@pytest.mark.parametrize("limit", [1, 2])
def test_per_domain_limit_holds_without_download_delay(tmp_path, limit):
    server = Server()
    try:
        spider = tmp_path / "many.py"
        spider.write_text(SPIDER)
        cmd = [str(Path(sys.executable).parent / "scrapy"), "runspider", str(spider),
               "-a", f"origin={server.origin}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
               "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={limit}", "-s", "ROBOTSTXT_OBEY=0", "-s", "MEETINGS_DB=",
               "-s", "HEALTH_ENABLED=0"]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=120)
    finally:
        server.close()
    assert server.total == 8
    assert server.peak == limit


def _paced_gaps(downloader_cls, monkeypatch, sends=3000, jitter=0.5, delay=0.25, late=0.0, pause=None, stall=None):
    """Drive a real Downloader's slot on a simulated clock: ``sends`` queued requests, the
    slot looked at again (as each finished transfer makes Scrapy do) between timer firings,
    each timer firing up to ``late`` seconds after its time (a busy reactor); ``pause``
    (n, seconds): the first n requests queued, the rest that long after the n-th was sent;
    ``stall`` (n, seconds): the timer of the n-th request fires that late.
    Returns the gaps between the times the requests were sent."""
    import asyncio
    import heapq
    import random

    from scrapy import Request
    from scrapy.utils.test import get_crawler

    import crawler.runtime.downloader as ours

    random.seed(7)
    clock = [1000.0]
    timers: list = []
    sent: list[float] = []

    class Timer:
        def __init__(self, at, func, args):
            self.at, self.func, self.args, self.cancelled = at, func, args, False

        def cancel(self):
            self.cancelled = True

        def __lt__(self, other):
            return self.at < other.at

    def call_later(delay, func, *args):
        timer = Timer(clock[0] + delay, func, args)
        heapq.heappush(timers, timer)
        return timer

    def schedule(coro):
        coro.close()  # nothing is downloaded: the send time is what is measured
        sent.append(clock[0])

    for module in {ours.__name__, downloader_cls.__module__}:
        monkeypatch.setattr(f"{module}.monotonic", lambda: clock[0], raising=False)
        monkeypatch.setattr(f"{module}.call_later", call_later, raising=False)
        monkeypatch.setattr(f"{module}._schedule_coro", schedule, raising=False)
    # No download handler is built: nothing is fetched.
    crawler = get_crawler(settings_dict={"DOWNLOAD_DELAY": delay, "DOWNLOAD_DELAY_JITTER": jitter,
                                         "DOWNLOAD_HANDLERS_BASE": {}, "CONCURRENT_REQUESTS_PER_DOMAIN": sends})

    def drive():
        downloader = downloader_cls(crawler)
        _, slot = downloader._get_slot(Request("http://www.example.gov.cn/a"))
        waiting = pause
        first = pause[0] if pause else sends
        for i in range(first):
            slot.queue.append((Request(f"http://www.example.gov.cn/{i}"), None))
        downloader._process_queue(slot)
        while len(sent) < sends:
            if waiting and len(sent) == first and not slot.queue:
                clock[0] += waiting[1]  # idle: whatever timer was set fires with nothing to send
                while timers:
                    timer = heapq.heappop(timers)
                    if not timer.cancelled:
                        timer.func(*timer.args)
                for i in range(first, sends):
                    slot.queue.append((Request(f"http://www.example.gov.cn/{i}"), None))
                downloader._process_queue(slot)
                waiting = None
                continue
            timer = heapq.heappop(timers)
            if timer.cancelled:
                continue
            # A finished transfer in mid-gap looks at the slot again, as Scrapy's downloader does.
            clock[0] = max(clock[0], timer.at - 0.01)
            downloader._process_queue(slot)
            lateness = stall[1] if stall and len(sent) == stall[0] else random.uniform(0, late)
            clock[0] = max(clock[0], timer.at + lateness)
            timer.func(*timer.args)
        slot.queue.clear()
        downloader.close()

    async def in_loop():  # Scrapy's downloader wants a running event loop
        drive()

    asyncio.run(in_loop())
    return [b - a for a, b in zip(sent, sent[1:])]


def test_download_delay_jitter_averages_the_delay(monkeypatch):
    """DOWNLOAD_DELAY 0.25 ± 50 %: every gap between two requests of a portal is drawn once,
    lies within 0.125–0.375 s, and the gaps average 0.25 s (Scrapy's own downloader redraws at
    every look at the slot and averages about 0.30 s)."""
    from crawler.runtime.downloader import Downloader

    gaps = _paced_gaps(Downloader, monkeypatch)
    assert len(gaps) == 2999
    assert min(gaps) >= 0.125 - 1e-9 and max(gaps) <= 0.375 + 1e-9
    assert abs(sum(gaps) / len(gaps) - 0.25) < 0.005
    assert len({round(g, 6) for g in gaps}) > 2000  # drawn, not fixed


def test_download_delay_without_jitter_is_exact(monkeypatch):
    from crawler.runtime.downloader import Downloader

    gaps = _paced_gaps(Downloader, monkeypatch, sends=50, jitter=0)
    assert all(abs(g - 0.25) < 1e-9 for g in gaps)


def test_a_busy_reactor_does_not_slow_a_portal_down_nor_crowd_it(monkeypatch):
    """Timers up to 80 ms late: the gaps still average the delay (Scrapy's own would average
    0.25 + its lateness), and none is shorter than the jitter's shortest, 0.125 s."""
    from crawler.runtime.downloader import Downloader

    gaps = _paced_gaps(Downloader, monkeypatch, late=0.08)
    assert abs(sum(gaps) / len(gaps) - 0.25) < 0.01
    assert min(gaps) >= 0.125 - 1e-9


def test_an_idle_portal_gets_no_burst_after_it(monkeypatch):
    """Ten requests, ten idle seconds, then forty: no catching up on the idle time."""
    from crawler.runtime.downloader import Downloader

    gaps = _paced_gaps(Downloader, monkeypatch, sends=50, late=0.08, pause=(10, 10.0))
    after = gaps[10:]
    assert len(after) == 39 and min(after) >= 0.125 - 1e-9
    assert sum(after) / len(after) > 0.2


def test_a_long_stall_is_made_up_only_in_part(monkeypatch):
    """The reactor stalls 3 s before the 20th request: the portal makes up CATCH_UP gaps of
    it at the shortest gap the jitter allows (0.125 s), never the whole 3 s in a burst.  The
    jitter's draws are all 0 here, so that every gap is known."""
    import random

    from crawler.runtime.downloader import CATCH_UP, Downloader

    monkeypatch.setattr(random, "uniform", lambda a, b: 0.0)
    gaps = _paced_gaps(Downloader, monkeypatch, sends=60, stall=(20, 3.0))
    stalled = gaps.index(max(gaps))
    assert gaps[stalled] > 3.0 and all(g == 0.25 for g in gaps[:stalled])
    after = gaps[stalled + 1:stalled + 25]
    assert min(after) == 0.125
    assert abs((len(after) * 0.25 - sum(after)) - CATCH_UP * 0.25) < 1e-9


def test_a_portal_keeps_its_pace_over_many_gaps_not_only_on_average(monkeypatch):
    """Each gap is drawn within 0.125–0.375 s, yet n requests take n × 0.25 s ± 0.125 s: free
    draws would stray as a random walk (0.55 s for 59 gaps, 1.8 s for 3000), and the slowest
    of 100 portals crawled together would end well after its pace."""
    from crawler.runtime.downloader import Downloader

    gaps = _paced_gaps(Downloader, monkeypatch)
    elapsed = 0.0
    for n, gap in enumerate(gaps, 1):
        elapsed += gap
        assert abs(elapsed - n * 0.25) <= 0.125 + 1e-9, n
    assert min(gaps) >= 0.125 - 1e-9 and max(gaps) <= 0.375 + 1e-9
    # Still drawn: spread over the jitter's range, not pinned near the delay.
    assert sum(1 for g in gaps if g < 0.17) > 200 and sum(1 for g in gaps if g > 0.33) > 200
