"""Rendering with scrapy-splash (crawler/runtime/splash.py), against a real Splash server.

The server is the one `tools/setup-splash.sh` installs (`.venv-splash`, or `SPLASH_VENV`), started
here on a free port; the rendered site is the replica, which Splash's browser reaches as an HTTP
proxy, as Scrapy does with PORTAL_MIRROR.  Without a Splash install the server tests are skipped,
except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from scrapy.crawler import Crawler
from scrapy.utils.project import get_project_settings

from crawler.replica import build_site
from crawler.replica.compare import mismatches
from crawler.replica.process import running_replica

ROOT = Path(__file__).resolve().parent.parent
ARTICLES, SEED = 60, 7
SHELL = "http://www.ykzq.gov.cn/govxxgk/zqqrmzf/openlist.html?categorynum=001003005"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


# --- without a server: the compat layer and the option ---------------------------------------


def test_scrapy_splash_imports_on_this_scrapy():
    import scrapy
    import scrapy.utils.url

    from crawler.runtime import splash

    assert scrapy.__version__ == "2.19.0"  # the compat layer is written for this one
    assert scrapy.utils.url.canonicalize_url("http://a.b/?b=1&a=2") == "http://a.b/?a=2&b=1"
    assert issubclass(splash.SplashMiddleware, __import__("scrapy_splash").SplashMiddleware)


def _crawler(**spider_args):
    from spiders.zhanqian import ZhanqianSpider

    settings = get_project_settings()
    settings.set("MEETINGS_DB", "")
    crawler = Crawler(ZhanqianSpider, settings)
    crawler.spider = ZhanqianSpider.from_crawler(crawler, **spider_args)
    return crawler


def test_render_is_off_by_default_and_adds_nothing():
    crawler = _crawler()
    assert crawler.spider.render is None
    assert "crawler.runtime.splash.SplashMiddleware" not in crawler.settings.getdict("DOWNLOADER_MIDDLEWARES")


def test_render_argument_adds_the_splash_components_that_scrapy_accepts():
    from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
    from scrapy.core.spidermw import SpiderMiddlewareManager

    from crawler.runtime import splash

    crawler = _crawler(render="splash")
    assert crawler.spider.render == "splash"
    from scrapy.statscollectors import MemoryStatsCollector

    crawler.stats = MemoryStatsCollector(crawler)
    assert crawler.settings["REQUEST_FINGERPRINTER_CLASS"] == "scrapy_splash.SplashRequestFingerprinter"
    # 2.19 rejects scrapy-splash's own spider middleware; ours must load without a warning.
    spider_mws = SpiderMiddlewareManager.from_crawler(crawler).middlewares
    down_mws = DownloaderMiddlewareManager.from_crawler(crawler).middlewares
    assert any(isinstance(m, splash.SplashDeduplicateArgsMiddleware) for m in spider_mws)
    assert any(isinstance(m, splash.SplashMiddleware) for m in down_mws)
    with pytest.raises(ValueError):
        _crawler(render="chrome")


def test_rendered_listing_request_reaches_the_mirror_as_a_proxy():
    crawler = _crawler(render="splash")
    crawler.settings.set("PORTAL_MIRROR", "http://127.0.0.1:8601")
    spider = crawler.spider
    shell_url = spider.start_urls[0]
    request = spider.generation("epoint").rendered_listing(spider, shell_url, 3)
    args = request.meta["splash"]["args"]
    assert request.meta["role"] == "listing" and request.url == shell_url
    assert args["proxy"] == "http://127.0.0.1:8601" and args["page"] == 3
    assert request.meta["splash"]["endpoint"] == "execute" and "lua_source" in args


# --- against a real Splash server -----------------------------------------------------------


@pytest.fixture(scope="module")
def splash_url(tmp_path_factory):
    from crawler.runtime import splash

    log = tmp_path_factory.mktemp("splash") / "splash.log"
    try:
        server = splash.running_splash(log=log)
        url = server.__enter__()
    except (FileNotFoundError, RuntimeError) as e:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        if IN_CI:
            pytest.fail(f"a Splash server is required in CI (tools/setup-splash.sh): {e}\n{tail}")
        pytest.skip(f"no Splash server could be started ({e}); install one with: sudo bash tools/setup-splash.sh")
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def replica():
    with running_replica(articles=ARTICLES, seed=SEED) as origin:
        yield origin, build_site(articles=ARTICLES, seed=SEED)


def crawl(name: str, origin: str, out: Path, *args: str) -> tuple[list[dict], str]:
    log = out.with_suffix(".log")
    cmd = [str(Path(sys.executable).parent / "scrapy"), "crawl", name, "-O", str(out),
           "-s", f"PORTAL_MIRROR={origin}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
           "-s", "LOG_LEVEL=DEBUG", "-s", f"LOG_FILE={log}", *args]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    assert result.returncode == 0, (result.stderr + text)[-3000:]
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return items, text


def stats(log: str) -> dict:
    m = re.search(r"Dumping Scrapy stats:\n(\{.*?\})\n", log, re.S)
    return ast.literal_eval(re.sub(r"datetime\.datetime\([^)]*\)", "None", m.group(1))) if m else {}


def by_url(items):
    return {i["url"]: {k: v for k, v in i.items() if k != "crawled_at"} for i in items}


def test_splash_renders_the_epoint_shell_from_the_replica(splash_url, replica):
    origin, site = replica
    body = json.dumps({"url": SHELL, "proxy": origin, "wait": 0.5}).encode()
    req = urllib.request.Request(f"{splash_url}/render.html", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        html = r.read().decode("utf-8")
    from parsel import Selector

    sel = Selector(html)
    hrefs = sel.css("ul#infolist li a::attr(href)").getall()
    assert len(hrefs) == 15, "the shell's script did not render the list"
    assert sel.css("#pager a").xpath("self::*[normalize-space()='下一页']")
    assert sel.css("#right-category::text").get() == "政府会议"


def test_rendered_zhanqian_yields_exactly_the_api_items_without_the_api(splash_url, replica, tmp_path):
    origin, site = replica
    api_items, _ = crawl("zhanqian", origin, tmp_path / "api.jsonl", "-s", "MEETINGS_DB=")  # not stored
    items, log = crawl("zhanqian", origin, tmp_path / "rendered.jsonl", "-a", "render=splash",
                       "-s", f"SPLASH_URL={splash_url}")
    assert by_url(items) == by_url(api_items)
    expected = {e["url"]: e for e in site.expected_items("zhanqian")}
    assert set(by_url(items)) == set(expected)
    assert {i["url"]: p for i in items if (p := mismatches(i, expected[i["url"]]))} == {}
    # Scrapy never asked the API: every listing page came from Splash (the browser's XHR did).
    assert "getgovinfolist" not in log
    s = stats(log)
    pages = -(-len(site.portal("zhanqian").entries) // 15)
    assert s["listing/pages"] == s["splash/execute/response_count/200"] == pages > 1


def test_rendered_run_is_incremental(splash_url, replica, tmp_path):
    origin, _ = replica
    args = ("-a", "render=splash", "-s", f"SPLASH_URL={splash_url}")
    first, _ = crawl("zhanqian", origin, tmp_path / "first.jsonl", *args)
    again, log = crawl("zhanqian", origin, tmp_path / "again.jsonl", *args)
    s = stats(log)
    assert len(first) == ARTICLES and again == []
    # Page 1 is all known: the next rendered page is not even asked for.
    assert s["incremental/stopped_listings"] == 1 and s["splash/execute/request_count"] == 1


def test_a_static_portal_renders_too(splash_url, replica, tmp_path):
    origin, site = replica
    items, log = crawl("beipiao", origin, tmp_path / "beipiao.jsonl", "-a", "render=splash",
                       "-s", f"SPLASH_URL={splash_url}")
    expected = {e["url"]: e for e in site.expected_items("beipiao")}
    assert set(by_url(items)) == set(expected)
    assert {i["url"]: p for i in items if (p := mismatches(i, expected[i["url"]]))} == {}
    assert stats(log)["splash/execute/response_count/200"] >= 2
