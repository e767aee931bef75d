"""Every snapshot article yields its expected item (SCHEMA.md comparison rules)."""

import json

import pytest

from crawler.runtime.offline import OfflineParser
from crawler.replica.compare import mismatches
from crawler.items import FIELDS

from .snapshots import HTML_TYPES, PORTALS, expected_cases

CASES = list(expected_cases())


def test_every_portal_has_an_expected_article():
    assert {portal for portal, *_ in CASES} == {"yingkou", "beipiao", "laishan", "zhanqian", "jining"}
    assert len(CASES) == 6  # five seeds and jining's mirror copy


@pytest.mark.parametrize("portal,expected_path,page,url", CASES, ids=[c[1].stem for c in CASES])
def test_article_matches_expected_item(portal, expected_path, page, url):
    parser = OfflineParser(portal)
    response = parser.response(url, page.read_bytes(), {"Content-Type": HTML_TYPES[portal]})
    item = parser.parse(response)
    assert item is not None
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert mismatches(dict(item), expected) == []
    assert set(dict(item)) == set(FIELDS)
    assert len(item["fingerprint"]) == 32


def test_gb2312_page_decodes_as_gbk():
    """Yingkou declares gb2312 but uses GBK-only bytes; the em dash must survive."""
    page = PORTALS / "yingkou/pages/xxgk/zfhy/201711/t20171123_1210515.html"
    parser = OfflineParser("yingkou")
    item = parser.parse(parser.response("http://www.yingkou.gov.cn/xxgk/zfhy/201711/t20171123_1210515.html",
                                        page.read_bytes(), {"Content-Type": "text/html"}))
    assert "营口市地热资源勘查开发利用规划(2017—2025年)" in item["documents"]
    assert "―" not in item["body"]


def test_mirror_copy_yields_the_real_page_item():
    """The Traditional mirror, once converted, gives the real page's item but for language."""
    items = {}
    for portal, expected_path, page, url in CASES:
        if portal == "jining":
            parser = OfflineParser(portal)
            items[expected_path.stem] = parser.parse(parser.response(url, page.read_bytes(), {"Content-Type": HTML_TYPES[portal]}))
    real, mirror = items["3670218"], items["3670218-mirror"]
    assert mirror["url"] == real["url"]
    assert (real["language"], mirror["language"]) == ("zh-Hans", "zh-Hant")
    for field in ("title", "published_at", "meeting_date", "chair", "source", "documents", "attendees", "breadcrumb"):
        assert mirror[field] == real[field], field
