"""The project as users call it: the spider list, the mirror setting."""

import subprocess
import sys
from pathlib import Path

import pytest
import scrapy
from scrapy.utils.test import get_crawler

from crawler.middlewares import PortalMirrorMiddleware
from spiders.laishan import LaishanSpider

ROOT = Path(__file__).resolve().parent.parent


def test_scrapy_list_prints_the_five_portals():
    out = subprocess.run([str(Path(sys.executable).parent / "scrapy"), "list"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["beipiao", "jining", "laishan", "yingkou", "zhanqian"]


def mirror_for(origin):
    crawler = get_crawler(LaishanSpider, {"PORTAL_MIRROR": origin})
    crawler.spider = LaishanSpider.from_crawler(crawler)
    return PortalMirrorMiddleware.from_crawler(crawler)


def test_mirror_sends_portal_requests_to_the_mirror_and_keeps_their_url():
    mw = mirror_for("http://127.0.0.1:8601/")
    request = scrapy.Request("http://www.ytlaishan.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46",
                             method="POST", body=b"col=1")
    assert mw.process_request(request) is None
    assert request.meta["proxy"] == "http://127.0.0.1:8601"
    assert (request.url, request.method, request.body) == (
        "http://www.ytlaishan.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=46", "POST", b"col=1")


def test_mirror_leaves_other_hosts_alone():
    mw = mirror_for("http://127.0.0.1:8601")
    request = scrapy.Request("http://127.0.0.1:8050/render.html")
    mw.process_request(request)
    assert "proxy" not in request.meta


@pytest.mark.parametrize("origin", ["127.0.0.1:8601", "ftp://x", "http://"])
def test_mirror_rejects_what_is_not_an_origin(origin):
    with pytest.raises(ValueError, match="PORTAL_MIRROR"):
        mirror_for(origin)
