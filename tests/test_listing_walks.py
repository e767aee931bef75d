"""Listing walks against hostile portals (issue 14): the replica's walk fault modes
(``bomb``, ``bad_href``, ``endless_total``, ``cut_group``) and a page cap, through
``PORTAL_MIRROR``, with the real spiders in ``scrapy crawl`` subprocesses.

For every case: the faulty run's health names what went wrong (a failure or a counted
warning), nothing partial is stored, and the next clean run — incremental, into the same
store — completes the set with one record per meeting; the run after that stops at the
first known listing page again.
"""

from __future__ import annotations

import contextlib
import re
import subprocess

import pytest

from crawler.extract.links import absolute_url
from crawler.replica import build_site
from crawler.replica.faults import apply_faults
from crawler.replica.process import running_replica
from tests.test_faults import SCRAPY, ROOT, check_stored, run_all, snapshot
from tests.test_faults import crawl_cmd as fault_crawl_cmd

ARTICLES, SEED = 60, 4
# One fault per portal per replica.
REPLICAS = [
    {"laishan": "bomb:9437184", "beipiao": "bad_href", "zhanqian": "endless_total", "jining": "bomb:9437184",
     "yingkou": "bad_href"},
    {"laishan": "cut_group", "zhanqian": "bad_href", "jining": "bad_href", "beipiao": "bomb:9437184"},
    {"laishan": "endless_total", "zhanqian": "bomb:9437184", "yingkou": "bomb:9437184"},
    {"laishan": "bad_href"},
]
def crawl_cmd(name: str, origin: str, db: str) -> list[str]:
    # test_faults' short timeout is for its slow mode; here a loaded machine inflating bombs
    # must not time out a healthy page.
    return fault_crawl_cmd(name, origin, db) + ["-s", "DOWNLOAD_TIMEOUT=60"]


# A clean portal walked under a page cap of 2.
CAPPED = ("beipiao", "page_cap")


@pytest.fixture(scope="module")
def walks(tmp_path_factory):
    """{(portal, mode): {"fault", "clean", "again": snapshots, "expected", "affected"}}"""
    base = tmp_path_factory.mktemp("walks")
    site = build_site(ARTICLES, SEED)
    out, jobs = {}, {}
    with contextlib.ExitStack() as stack:
        origins = [stack.enter_context(running_replica(ARTICLES, SEED, faults=f)) for f in REPLICAS]
        clean = stack.enter_context(running_replica(ARTICLES, SEED))
        for i, (faults, origin) in enumerate(zip(REPLICAS, origins)):
            hooks = apply_faults(build_site(ARTICLES, SEED), faults)
            for portal, spec in faults.items():
                mode = spec.partition(":")[0]
                db = f"sqlite:///{base}/{portal}-{mode}.db"
                out[(portal, mode)] = {"db": db, "affected": set(hooks[portal].affected)}
                jobs[(portal, mode)] = crawl_cmd(portal, origin, db)
        db = f"sqlite:///{base}/capped.db"
        out[CAPPED] = {"db": db, "affected": set()}
        jobs[CAPPED] = crawl_cmd(CAPPED[0], clean, db) + ["-s", "LISTING_MAX_PAGES=2"]
        for key, log in run_all(jobs).items():
            out[key].update(log=log, fault=snapshot(out[key]["db"]),
                            expected={e["url"]: e for e in site.expected_items(key[0])})
        # The next clean run, then one more: each into the same store.
        for phase in ("clean", "again"):
            run_all({key: crawl_cmd(key[0], clean, r["db"]) for key, r in out.items()})
            for r in out.values():
                r[phase] = snapshot(r["db"])
    return out


def health(snap) -> tuple[str, list[str], list[str]]:
    s = snap["stats"]
    return s["health/status"], s["health/failures"], s["health/warnings"]


def assert_next_runs_complete_the_set(r):
    """The clean run walks the whole listing and stores the rest, one record per meeting; the
    run after it stops at the first listing page again."""
    clean, again = r["clean"]["stats"], r["again"]["stats"]
    assert check_stored(r, "clean") == set(r["expected"])
    assert clean["health/status"] == "ok", clean["health/failures"] + clean["health/warnings"]
    assert clean["listing/walk_complete"] is True
    assert clean.get("store/new", 0) == len(r["expected"]) - len(r["fault"]["items"])
    assert again.get("store/new", 0) == 0 and again.get("incremental/stopped_listings", 0) >= 1
    assert "incremental/listing_stop_disabled" not in again


def lost_counts(stats, kind):
    prefix = f"ledger/{kind}/lost/"
    return {k[len(prefix):]: v for k, v in stats.items() if k.startswith(prefix)}


# --- 1 and 7: a listing page or an article lost to a gzip bomb -------------------------------------


@pytest.mark.parametrize("portal", ["laishan", "jining", "beipiao", "zhanqian", "yingkou"])
def test_bombed_listing_page_and_articles_fail_the_run_and_the_next_run_completes(walks, portal):
    r = walks[(portal, "bomb")]
    s = r["fault"]["stats"]
    status, failures, _ = health(r["fault"])
    assert status == "fail"
    assert any(f.startswith("listing_incomplete: 1 listing request(s) came to nothing (decompressed_maxsize 1)")
               for f in failures), failures
    stored = check_stored(r, "fault")
    # Every article request the listing made either reached parse_meeting or is named lost.
    lost = lost_counts(s, "article")
    assert set(lost) == {"decompressed_maxsize"} and lost["decompressed_maxsize"] > 0
    assert not stored & r["affected"]
    assert s["ledger/article/arrived"] + lost["decompressed_maxsize"] == s["ledger/article/requested"]
    assert s["ledger/article/arrived"] == s["article/parsed"] == len(stored)
    assert any(f.startswith(f"articles_lost: {lost['decompressed_maxsize']} of {s['ledger/article/requested']}")
               for f in failures), failures
    assert s["listing/walk_complete"] is False
    # The pages after the bombed one were never reached: the fault run left meetings out.
    assert len(stored) < len(r["expected"]) - lost["decompressed_maxsize"]
    assert r["clean"]["stats"]["incremental/listing_stop_disabled"] == 1
    assert_next_runs_complete_the_set(r)


# --- 2: links that cannot be requested -----------------------------------------------------------------


@pytest.mark.parametrize("portal", ["laishan", "beipiao", "jining", "zhanqian", "yingkou"])
def test_bad_links_are_counted_drops_and_lose_nothing(walks, portal):
    r = walks[(portal, "bad_href")]
    s = r["fault"]["stats"]
    assert health(r["fault"])[0] == "ok", health(r["fault"])
    assert check_stored(r, "fault") == set(r["expected"])
    assert not [k for k in s if k.startswith("spider_exceptions/")]
    pages = s["listing/pages"]
    # Four bad copies of a meeting entry on every page.  (beipiao and jining also link 下一页
    # to javascript:; on their last page, which the static pager reads as no next page.)
    assert s["listing/bad_links"] == 4 * pages
    assert s["ledger/article/requested"] == s["ledger/article/arrived"] == len(r["expected"])
    assert s["listing/walk_complete"] is True
    assert "Traceback" not in r["log"]
    # Nothing new for the clean run to do; it stops at the first page.
    assert r["clean"]["stats"].get("store/new", 0) == 0
    assert r["clean"]["stats"].get("incremental/stopped_listings", 0) >= 1


def test_bad_href_listing_shows_every_kind_of_bad_link():
    """The fault itself: each listing page carries the four hrefs, all rejected by the check."""
    from crawler.replica.faults import BAD_HREFS

    site = build_site(ARTICLES, SEED)
    hook = apply_faults(site, {"beipiao": "bad_href"})["beipiao"]
    name, resp = site.handle("www.bp.gov.cn", "GET", "/html/BPSZF/zcjd/index.html", "", b"", {})
    body = hook(name, "GET", "/html/BPSZF/zcjd/index.html")["transform"](resp).body.decode("utf-8")
    hrefs = re.findall(r'href="([^"]*)"', body)
    for bad in BAD_HREFS:
        assert any(h.startswith(bad.split("{")[0]) for h in hrefs), bad
    rejected = [h for h in hrefs if absolute_url("http://www.bp.gov.cn/html/BPSZF/zcjd/index.html", h) is None]
    assert len(rejected) >= 4


@pytest.mark.parametrize("href,url", [
    ("b/1.html", "http://www.bp.gov.cn/html/a/b/1.html"), ("../c.html", "http://www.bp.gov.cn/html/c.html"),
    ("/x.html?id=3", "http://www.bp.gov.cn/x.html?id=3"),
    ("//www.bp.gov.cn/y.html", "http://www.bp.gov.cn/y.html"),
    ("https://www.bp.gov.cn:8443/z", "https://www.bp.gov.cn:8443/z"),
    ("http://[2001:db8::1]/v6", "http://[2001:db8::1]/v6"),
    ("javascript:;", None), ("JavaScript:void(0)", None), ("mailto:office@example.gov.cn", None),
    ("http://www.bp.gov.cn:99999/a", None), ("http://www.bp.gov.cn:0/a", None), ("http://h:port/a", None),
    ("http://[::1/a", None), ("ftp://www.bp.gov.cn/a", None), ("data:text/html,hi", None),
    ("", None), ("   ", None), (None, None), (12345, None), ({"path": "/a"}, None),
])
def test_one_check_for_every_href_from_page_data(href, url):
    assert absolute_url("http://www.bp.gov.cn/html/a/index.html", href) == url


# --- 3: loops that the portal's total would keep going -------------------------------------------------


@pytest.mark.parametrize("portal", ["laishan", "zhanqian"])
def test_endless_total_stops_on_a_page_with_nothing_new(walks, portal):
    r = walks[(portal, "endless_total")]
    s = r["fault"]["stats"]
    assert s["finish_reason"] == "finished"
    assert s["listing/stopped/no_new"] == 1
    # A handful of listing requests, not thousands.
    assert s["ledger/listing/requested"] <= s["listing/pages"] + 2 <= 10
    status, failures, warnings = health(r["fault"])
    assert status == "warn" and not failures
    assert any(w.startswith("listing_incomplete: listing walk incomplete (") and "stopped:no_new 1" in w
               for w in warnings), warnings
    assert s["listing/walk_complete"] is False
    stored = check_stored(r, "fault")
    if portal == "zhanqian":
        # The API repeated its first page: that page's meetings, and the rest come next run.
        assert 0 < len(stored) < len(r["expected"])
        assert s["ledger/article/duplicate"] > 0
        assert_next_runs_complete_the_set(r)
    else:
        # Hanweb served every real record before its empty groups.
        assert stored == set(r["expected"])
        assert r["clean"]["stats"]["incremental/listing_stop_disabled"] == 1
        assert_next_runs_complete_the_set(r)


def test_page_cap_stops_a_walk_and_the_next_run_goes_on(walks):
    r = walks[CAPPED]
    s = r["fault"]["stats"]
    assert s["listing/pages"] == 2 and s["listing/stopped/page_cap"] == 1
    status, failures, warnings = health(r["fault"])
    assert status == "warn" and any("stopped:page_cap 1" in w for w in warnings), warnings
    assert 0 < len(check_stored(r, "fault")) < len(r["expected"])
    assert_next_runs_complete_the_set(r)


def test_cut_hanweb_group_is_a_warning_and_the_next_run_completes(walks):
    r = walks[("laishan", "cut_group")]
    s = r["fault"]["stats"]
    status, failures, warnings = health(r["fault"])
    assert status == "warn" and not failures
    assert any("short_pages" in w for w in warnings), warnings
    assert s["listing/short_pages"] >= 1 and s["listing/walk_complete"] is False
    assert "holds 5 of the" in r["log"]
    assert 0 < len(check_stored(r, "fault")) < len(r["expected"])
    assert r["clean"]["stats"]["incremental/listing_stop_disabled"] == 1
    assert_next_runs_complete_the_set(r)


# --- crawlall: the exit status and the summary -------------------------------------------------------


def test_crawlall_exit_status_and_summary_name_the_losses(tmp_path):
    db = f"sqlite:///{tmp_path}/m.db"

    def crawlall(origin):
        cmd = [SCRAPY, "crawlall", "--only", "laishan,zhanqian", "-s", f"PORTAL_MIRROR={origin}",
               "-s", f"MEETINGS_DB={db}", "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/crawlall.lock",
               "-s", "CRAWLALL_LOG_FILE=", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)

    with running_replica(ARTICLES, SEED, faults={"laishan": "bomb", "zhanqian": "endless_total"}) as origin:
        r = crawlall(origin)
    assert r.returncode == 1, (r.stdout + r.stderr)[-3000:]
    assert "FAIL laishan listing_incomplete: 1 listing request(s) came to nothing (decompressed_maxsize 1)" in r.stdout
    assert re.search(r"^FAIL laishan articles_lost: \d+ of \d+ article request\(s\) came to nothing: "
                     r"decompressed_maxsize \d+$", r.stdout, re.M), r.stdout
    assert re.search(r"^lost laishan: decompressed_maxsize \d+$", r.stdout, re.M), r.stdout
    assert "warn zhanqian listing_incomplete: listing walk incomplete (stopped:no_new 1)" in r.stdout

    with running_replica(ARTICLES, SEED) as origin:
        r = crawlall(origin)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "crawlall: ok — 2 portal(s) healthy (exit 0)" in r.stdout
    from crawler.store import Store

    store = Store(db)
    try:
        urls = {}
        for item in store.iter_items():
            urls.setdefault(item["portal"], []).append(item["url"])
    finally:
        store.close()
    site = build_site(ARTICLES, SEED)
    for name in ("laishan", "zhanqian"):
        assert sorted(urls[name]) == sorted(site.meeting_urls(name)), name


# --- the incremental middleware: a listing callback that raises -----------------------------------------


def _incremental_middleware(db: str, previous_stats: dict):
    """The real middleware on a crawler whose store holds one earlier run with these stats and
    two known article URLs."""
    import scrapy
    from scrapy.utils.test import get_crawler

    from crawler.store.incremental import IncrementalMiddleware
    from crawler.store import Store, utcnow

    store = Store(db)
    try:
        run = store.start_run("walker", now=utcnow().replace(year=2020))
        store.finish_run(run, "finished", previous_stats)
        for url in KNOWN:
            store.mark_url(url, "walker", "duplicate")
    finally:
        store.close()

    class Walker(scrapy.Spider):
        name = "walker"

    crawler = get_crawler(Walker, {"MEETINGS_DB": db})
    crawler.spider = Walker.from_crawler(crawler)
    return crawler, IncrementalMiddleware.from_crawler(crawler)


KNOWN = ("http://walk.example/a/1.html", "http://walk.example/a/2.html")


def _run_listing(mw, fail: bool):
    import asyncio

    from scrapy import Request
    from scrapy.http import HtmlResponse

    page = "http://walk.example/list/1.html"

    async def callback_output():
        for url in KNOWN:
            yield Request(url, meta={"role": "article"})
        yield Request("http://walk.example/list/2.html", meta={"role": "listing"})
        if fail:
            raise ValueError("a record this callback cannot read")

    async def consume():
        response = HtmlResponse(page, body=b"<html></html>", request=Request(page, meta={"role": "listing"}))
        out, error = [], None
        try:
            async for obj in mw.process_spider_output(response, callback_output()):
                out.append(obj.url)
        except ValueError as exc:
            error = exc
        return out, error

    return asyncio.run(consume())


def test_known_listing_page_stops_only_after_a_complete_walk(tmp_path):
    _, mw = _incremental_middleware(f"sqlite:///{tmp_path}/a.db", {"listing/walk_complete": True})
    assert _run_listing(mw, fail=False) == ([], None)  # all known: stopped
    crawler, mw = _incremental_middleware(f"sqlite:///{tmp_path}/b.db", {"listing/walk_complete": False})
    assert _run_listing(mw, fail=False) == (["http://walk.example/list/2.html"], None)
    assert crawler.stats.get_value("incremental/listing_stop_disabled") == 1
    # A run recorded before walks were recorded counts as incomplete.
    _, mw = _incremental_middleware(f"sqlite:///{tmp_path}/c.db", {})
    assert _run_listing(mw, fail=False)[0] == ["http://walk.example/list/2.html"]


def test_a_listing_callback_that_raises_loses_nothing_it_yielded(tmp_path):
    crawler, mw = _incremental_middleware(f"sqlite:///{tmp_path}/m.db", {"listing/walk_complete": True})
    out, error = _run_listing(mw, fail=True)
    # The known articles are skipped, the next page is still followed (the page was not read
    # to its end, so it cannot say the listing is known), and the error reaches Scrapy.
    assert out == ["http://walk.example/list/2.html"]
    assert isinstance(error, ValueError)
    assert crawler.stats.get_value("incremental/skipped_articles") == 2
    assert not crawler.stats.get_value("incremental/stopped_listings")


# --- 7: an article redirected off the portal ------------------------------------------------------------


@pytest.fixture
def moving_portal():
    """The replica, in this process, behind a small mirror server that can 301 chosen
    article paths to another host (a portal that moved its articles to a new domain)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    site = build_site(20, SEED)
    moved: set[str] = set()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            host = parts.netloc or self.headers.get("Host", "")
            if parts.path in moved:
                self.send_response(301)
                self.send_header("Location", f"http://www.new-domain.example{parts.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            _, resp = site.handle(host, "GET", parts.path or "/", parts.query, b"", dict(self.headers))
            self.send_response(resp.status)
            for k, v in resp.headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            self.wfile.write(resp.body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield site, moved, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_article_redirected_off_the_portal_fails_health_and_the_next_run_completes(moving_portal, tmp_path):
    site, moved, origin = moving_portal
    urls = site.meeting_urls("beipiao")
    # Two of the oldest, on the last listing page: the next run must walk that far.
    lost_urls = set(urls[-2:])
    moved.update(u.split("www.bp.gov.cn", 1)[1] for u in lost_urls)
    db = f"sqlite:///{tmp_path}/m.db"
    run_all({"fault": crawl_cmd("beipiao", origin, db)})
    fault = snapshot(db)
    s = fault["stats"]
    assert s["ledger/article/lost/offsite_redirect"] == 2
    assert s["ledger/article/arrived"] + 2 == s["ledger/article/requested"] == len(urls)
    status, failures, _ = health(fault)
    assert status == "fail"
    assert f"articles_lost: 2 of {len(urls)} article request(s) came to nothing: offsite_redirect 2" in failures
    assert {i["url"] for i in fault["items"]} == set(urls) - lost_urls
    assert s["listing/walk_complete"] is False
    assert s["downloader/request_count"] == s["portal_mirror/requests"]  # nothing left the mirror

    moved.clear()
    run_all({"clean": crawl_cmd("beipiao", origin, db)})
    clean = snapshot(db)
    assert clean["stats"]["health/status"] == "ok"
    assert clean["stats"]["store/new"] == 2
    assert clean["stats"]["incremental/listing_stop_disabled"] == 1
    assert sorted(i["url"] for i in clean["items"]) == sorted(urls)


def test_every_failure_gets_a_cause_name():
    """What Scrapy and the host policy raise, as the ledger names it."""
    from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
    from scrapy.http import Request, Response
    from scrapy.spidermiddlewares.httperror import HttpError
    from twisted.python.failure import Failure

    from crawler.ops.ledger import cause_of

    def named(exc):
        return cause_of(Failure(exc))

    assert named(HttpError(Response("http://www.bp.gov.cn/a.html", status=404, request=Request("http://x/")),
                           "Ignoring non-200 response")) == "http_404"
    assert named(DownloadTimeoutError("took longer than 4 seconds")) == "download_timeout"
    assert named(DownloadCancelledError("larger than download max size")) == "download_cancelled"
    assert named(IgnoreRequest("Ignored response <200 http://x/> because its body (9205 B compressed, "
                               "8388608 B decompressed so far) exceeded DOWNLOAD_MAXSIZE (8388608 B) "
                               "during decompression.")) == "decompressed_maxsize"
    assert named(IgnoreRequest("Forbidden by robots.txt")) == "robots"
    assert named(IgnoreRequest("max redirections reached")) == "redirect_max"
    assert named(IgnoreRequest("Filtered offsite request to 'new-domain.example'")) == "offsite_redirect"
    assert named(IgnoreRequest("www.bp.gov.cn resolves to a loopback address (127.0.0.2)")) == "blocked_address"
    assert named(ConnectionRefusedError()) == "connection_refused"
