"""Where requests go (crawler/runtime/hosts.py, crawler.runtime.middlewares.HostPolicyMiddleware).

Crawls run as `scrapy` subprocesses with the project's settings and a stub name resolver
(tests/resolver_stub.py, installed by Scrapy's TWISTED_DNS_RESOLVER setting) that makes the
portal's host names, a subdomain and foreign names point at local servers: a "trap" server
stands where the real portal would be, and must never see a request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from urllib.parse import urlsplit

from crawler.runtime import hosts
from crawler.replica import build_site
from crawler.replica.faults import apply_faults
from crawler.replica.process import running_replica

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
QUICK = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "RETRY_TIMES=0",
         "-s", "DOWNLOAD_TIMEOUT=5", "-s", "TWISTED_DNS_RESOLVER=tests.resolver_stub.StubResolver"]


class Recorder:
    """A local HTTP server that records every request (Host header, path) and answers with
    ``pages[path]``: ``(status, headers, body)``; 404 otherwise."""

    def __init__(self, pages=None):
        self.pages = pages or {}
        self.seen: list[tuple[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                recorder.seen.append((self.headers.get("Host", ""), self.path))
                status, headers, body = recorder.pages.get(self.path, (404, {}, b"not here"))
                self.send_response(status)
                for k, v in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def trap():
    server = Recorder()
    yield server
    server.close()


def stats_of(path: Path) -> dict:
    return json.loads(path.read_text())


# --- the policy, address by address ------------------------------------------------------------


@pytest.mark.parametrize("address,kind", [
    ("127.0.0.2", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.9", "private"),
    ("172.20.0.1", "private"), ("169.254.169.254", "link_local"), ("fe80::1", "link_local"),
    ("::ffff:127.0.0.1", "loopback"), ("100.64.0.1", "reserved"), ("0.0.0.0", "private"),
    ("224.0.0.1", "multicast"), ("240.0.0.1", "private"), ("8.8.8.8", None), ("2001:4860::8888", None),
    ("202.102.134.68", None), ("not-an-ip", "invalid"),
])
def test_address_kind(address, kind):
    assert hosts.address_kind(address) == kind


def test_policy_portal_hosts_by_name_never_port():
    p = hosts.HostPolicy(["www.ytlaishan.gov.cn"], ["http://www.ytlaishan.gov.cn/col/col1/index.html"])
    assert p.is_portal("http://www.ytlaishan.gov.cn:80/a") and p.is_portal("http://WWW.ytlaishan.gov.cn.:6379/")
    assert p.is_portal("https://x.www.ytlaishan.gov.cn/a")
    assert not p.is_portal("http://ytlaishan.gov.cn/") and not p.is_portal("http://www.ytlaishan.gov.cn.evil.example/")
    assert not p.is_portal("http://[::1:bad/") and not p.is_portal("javascript:;")
    assert not p.needs_address_check("http://www.ytlaishan.gov.cn:80/b")  # the given origin
    assert p.needs_address_check("http://www.ytlaishan.gov.cn:6379/")
    assert p.needs_address_check("https://www.ytlaishan.gov.cn/")
    assert p.needs_address_check("http://x.www.ytlaishan.gov.cn/")
    assert not hosts.HostPolicy(["a.cn"], [], mirror="http://127.0.0.1:1").needs_address_check("http://a.cn:9/")


# --- with a mirror: nothing reaches the portal hosts ---------------------------------------------


def test_with_a_mirror_nothing_goes_to_the_portal_host_on_any_port(tmp_path, trap):
    """Articles 301 to the portal's host on the trap's port, to another domain, to 127.0.0.2
    and to 169.254.169.254; every name resolves to 127.0.0.1, where the trap listens.  The
    port redirect (and its robots.txt) goes to the mirror, the others are dropped offsite."""
    env = dict(os.environ, STUB_HOSTS="*=127.0.0.1")
    with running_replica(15, 3, faults={"jining": f"offsite_redirect:{trap.port}"}) as origin:
        out = subprocess.run(
            [SCRAPY, "crawl", "jining", "-s", f"PORTAL_MIRROR={origin}", "-s", f"MEETINGS_DB=sqlite:///{tmp_path}/m.db",
             "-s", f"STATS_DUMP_FILE={tmp_path}/stats.json", *QUICK, "-s", "STATS_DUMP=1",
             "-O", str(tmp_path / "items.jsonl")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-3000:]
    assert trap.seen == []
    from crawler.store import Store

    store = Store(f"sqlite:///{tmp_path}/m.db")
    try:
        stats = store.runs()[-1]["stats"]
    finally:
        store.close()
    # every fourth affected article redirects to the portal's host on the trap's port: the
    # mirror answered it (and its robots.txt); the other three targets were dropped offsite
    hook = apply_faults(build_site(15, 3), {"jining": f"offsite_redirect:{trap.port}"})["jining"]
    to_port = [u for u in hook.affected if hook.order[urlsplit(u).path] % 4 == 3]
    items = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert to_port and sorted(i["url"] for i in items if f":{trap.port}/" in i["url"]) == sorted(
        u.replace("jining.iqilu.com/", f"jining.iqilu.com:{trap.port}/") for u in to_port)
    assert stats["offsite/filtered"] == len(hook.affected) - len(to_port)
    assert stats["offsite/domains"] == 3
    assert stats["robotstxt/request_count"] == 2
    assert "downloader/exception_count" not in stats


# --- without a mirror: no private address off the given origins ----------------------------------


SPIDER = textwrap.dedent("""
    import scrapy

    class Hostile(scrapy.Spider):
        name = "hostile"
        allowed_domains = ["portal.test"]

        def __init__(self, port, trap, **kw):
            super().__init__(**kw)
            self.start_urls = [f"http://portal.test:{port}/list"]

        def parse(self, response):
            for href in response.css("a::attr(href)").getall():
                yield response.follow(href, callback=self.article)

        def article(self, response):
            yield {"url": response.url, "title": response.css("title::text").get()}
""")


def test_without_a_mirror_redirects_and_other_ports_or_subdomains_never_reach_private_addresses(tmp_path, trap):
    """The portal answers at portal.test:PORT; its pages link and redirect to the same host on
    the trap's port, to a subdomain, to another domain and to address literals — every name
    resolving to loopback, as a hostile DNS answer would.  Only the given origin is fetched."""
    portal = Recorder()
    p, t = portal.port, trap.port
    links = [f"/a/1", "/r/port", "/r/sub", "/r/foreign", "/r/loop", "/r/meta",
             f"http://portal.test:{t}/a/direct-port", f"http://sub.portal.test:{p}/a/direct-sub"]
    portal.pages = {
        "/list": (200, {}, "".join(f'<a href="{h}">x</a>' for h in links).encode()),
        "/a/1": (200, {}, b"<title>one</title>"),
        "/r/port": (301, {"Location": f"http://portal.test:{t}/a/2"}, b""),
        "/r/sub": (302, {"Location": f"http://sub.portal.test:{p}/a/3"}, b""),
        "/r/foreign": (301, {"Location": f"http://moved.test:{p}/a/4"}, b""),
        "/r/loop": (301, {"Location": f"http://127.0.0.2:{p}/a/5"}, b""),
        "/r/meta": (301, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
    }
    spider = tmp_path / "hostile.py"
    spider.write_text(SPIDER)
    env = dict(os.environ, STUB_HOSTS="*=127.0.0.1", PYTHONPATH=str(ROOT))
    try:
        out = subprocess.run(
            [SCRAPY, "runspider", str(spider), "-a", f"port={p}", "-a", f"trap={t}", "-s", "MEETINGS_DB=",
             "-s", "HEALTH_ENABLED=0", "-s", "ITEM_PIPELINES={}", *QUICK, "-O", str(tmp_path / "items.jsonl"), "-s", "LOG_LEVEL=INFO"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    finally:
        portal.close()
    assert out.returncode == 0, out.stderr[-3000:]
    items = [json.loads(line) for line in (tmp_path / "items.jsonl").read_text().splitlines()]
    assert [i["url"] for i in items] == [f"http://portal.test:{p}/a/1"]
    assert trap.seen == []
    assert {host for host, _ in portal.seen} == {f"portal.test:{p}"}
    log = out.stderr
    # port redirect, subdomain redirect, direct other port, direct subdomain
    assert "'hosts/blocked/loopback': 4" in log
    assert log.count("not a public address") == 4
    # foreign name, 127.0.0.2 and 169.254.169.254: not portal hosts at all
    assert "'offsite/filtered': 3" in log


def test_rendered_listing_goes_to_splash_unproxied_and_splash_is_let_through():
    """With render=splash and a mirror: the portal request is not proxied (SplashMiddleware
    turns it into a request to SPLASH_URL, whose browser uses the mirror), and the request
    to Splash passes the host check as a service of the crawl."""
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import MemoryStatsCollector
    from scrapy.utils.project import get_project_settings

    from crawler.runtime.middlewares import HostPolicyMiddleware
    from spiders.zhanqian import ZhanqianSpider

    settings = get_project_settings()
    settings.setdict({"MEETINGS_DB": "", "PORTAL_MIRROR": "http://127.0.0.1:8601"})
    crawler = Crawler(ZhanqianSpider, settings)
    crawler.spider = ZhanqianSpider.from_crawler(crawler, render="splash")
    crawler.stats = MemoryStatsCollector(crawler)
    hosts_mw = HostPolicyMiddleware.from_crawler(crawler)
    hosts_mw.spider_opened(crawler.spider)
    spider = crawler.spider
    listing = spider.generation("epoint").rendered_listing(spider, spider.start_urls[0], 2)
    assert hosts_mw.process_request(listing) is None and "proxy" not in listing.meta
    # what SplashMiddleware (which needs a running engine) makes of it: a request to Splash
    to_splash = listing.replace(url=f"{crawler.settings['SPLASH_URL']}/execute",
                                meta={**listing.meta, "_splash_processed": True})
    assert hosts_mw.process_request(to_splash) is None and "proxy" not in to_splash.meta
