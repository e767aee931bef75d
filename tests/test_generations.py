"""A listing URL is enough: start URLs from the command line or settings, each recognised as
one of the spider's CMS generations, and a page of none of them fails the run loudly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from crawler.cms.base import start_url_list
from crawler.cms.static import StaticList
from crawler.replica.process import running_replica
from spiders.laishan import LaishanSpider
from spiders.yingkou import YingkouSpider

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")


def test_start_argument_replaces_the_default_start_urls():
    crawler = get_crawler(LaishanSpider)
    spider = LaishanSpider.from_crawler(crawler, start="http://www.ytlaishan.gov.cn/col/col1/index.html, "
                                                       "http://www.ytlaishan.gov.cn/col/col2/index.html")
    assert spider.start_urls == ["http://www.ytlaishan.gov.cn/col/col1/index.html",
                                 "http://www.ytlaishan.gov.cn/col/col2/index.html"]
    assert LaishanSpider.start_urls == ["http://www.ytlaishan.gov.cn/col/col53951/index.html"]


def test_portal_start_urls_setting_and_the_argument_wins():
    setting = {"laishan": ["http://www.ytlaishan.gov.cn/col/col9/index.html"]}
    spider = LaishanSpider.from_crawler(get_crawler(LaishanSpider, {"PORTAL_START_URLS": setting}))
    assert spider.start_urls == setting["laishan"]
    # From the command line the setting is JSON text.
    spider = LaishanSpider.from_crawler(get_crawler(LaishanSpider, {"PORTAL_START_URLS": json.dumps(setting)}))
    assert spider.start_urls == setting["laishan"]
    spider = LaishanSpider.from_crawler(get_crawler(LaishanSpider, {"PORTAL_START_URLS": setting}),
                                        start="http://www.ytlaishan.gov.cn/col/col3/index.html")
    assert spider.start_urls == ["http://www.ytlaishan.gov.cn/col/col3/index.html"]
    # Another portal's entry does not touch this one.
    spider = YingkouSpider.from_crawler(get_crawler(YingkouSpider, {"PORTAL_START_URLS": setting}))
    assert spider.start_urls == YingkouSpider.start_urls


@pytest.mark.parametrize("bad", ["www.ytlaishan.gov.cn/col/col1/index.html", "ftp://www.ytlaishan.gov.cn/x",
                                 "javascript:void(0)", "http:///nohost"])
def test_a_start_url_that_is_not_absolute_http_is_refused(bad):
    with pytest.raises(ValueError, match="not an absolute http"):
        start_url_list(bad)


def test_a_generation_takes_only_the_options_it_declares():
    with pytest.raises(TypeError, match="no option 'list_item'"):
        StaticList(list_item="ul > li")


@pytest.fixture(scope="module")
def replica():
    with running_replica(articles=8, seed=3) as origin:
        yield origin


def test_a_page_of_no_known_generation_fails_the_crawl_and_names_what_was_looked_for(replica, tmp_path):
    # An article page is no listing: neither a JCMS datastore nor anything else laishan knows.
    from crawler.replica import build_site

    article = build_site(articles=8, seed=3).meeting_urls("laishan")[0]
    log = tmp_path / "crawl.log"
    result = subprocess.run(
        [SCRAPY, "crawl", "laishan", "-a", f"start={article}", "-s", f"PORTAL_MIRROR={replica}",
         "-s", f"LOG_FILE={log}", "-O", str(tmp_path / "out.jsonl")],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    text = log.read_text(encoding="utf-8")
    assert "listing_unrecognised" in text and article in text
    assert "<datastore>" in text  # what the JCMS generation looked for
    assert "'health/status': 'fail'" in text
    assert (tmp_path / "out.jsonl").read_text() == ""


def test_crawlall_exits_1_on_an_unrecognised_listing(replica, tmp_path):
    from crawler.replica import build_site

    article = build_site(articles=8, seed=3).meeting_urls("yingkou")[0]
    result = subprocess.run(
        [SCRAPY, "crawlall", "--only", "yingkou,beipiao", "-s", f"PORTAL_MIRROR={replica}",
         "-s", "PORTAL_START_URLS=" + json.dumps({"yingkou": [article]}),
         "-s", f"MEETINGS_DB=sqlite:///{tmp_path}/m.db", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
         "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/lock", "-s", f"CRAWLALL_LOG_FILE={tmp_path}/run.log"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    assert "FAIL yingkou listing_unrecognised" in result.stdout
    # The other portal, started from its default listing, is unaffected.
    assert "beipiao" in result.stdout and "FAIL beipiao" not in result.stdout
