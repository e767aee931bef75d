"""Bad pages: a missing field is null and counted; a page that is no article is dropped."""

import pytest

from crawler.runtime.offline import OfflineParser

from .snapshots import PORTALS, page_response

SEED = "art/2022/8/3/art_53951_3077069.html"
URL = "http://www.ytlaishan.gov.cn/" + SEED


def seed_html():
    return (PORTALS / "laishan/pages" / SEED).read_text(encoding="utf-8")


def test_missing_field_is_null_and_counted():
    html = seed_html().replace("信息来源: 莱山区政府办", "").replace('<meta name="ContentSource" content="莱山区政府办">', "")
    html = html.replace('<meta name="ContentSource" content="莱山区政府办" />', "")
    parser = OfflineParser("laishan")
    item = parser.parse(page_response(parser, "laishan", "", URL, body=html.encode()))
    assert item is not None and item["source"] is None
    assert parser.stats.get_value("validate/missing/source") == 1


@pytest.mark.parametrize("body,reason", [
    (b"<html><head><title>404</title></head><body><h1>Not Found</h1></body></html>", "no_title"),
    (b"", "no_title"),
])
def test_error_pages_are_dropped_with_a_reason(body, reason, caplog):
    parser = OfflineParser("laishan")
    assert parser.parse(page_response(parser, "laishan", "", URL, body=body)) is None
    assert parser.stats.get_value(f"article/dropped/{reason}") == 1
    assert reason in caplog.text


def test_article_without_body_is_dropped():
    html = seed_html()
    start, end = html.index('<div id="zoom">'), html.index("<!--ZJEG_RSS.content.end-->")
    parser = OfflineParser("laishan")
    assert parser.parse(page_response(parser, "laishan", "", URL, body=(html[:start] + '<div id="zoom">' + html[end:]).encode())) is None
    assert parser.stats.get_value("article/dropped/empty_body") == 1


def test_non_html_response_is_dropped():
    parser = OfflineParser("laishan")
    response = parser.response(URL.replace(".html", ".pdf"), b"%PDF-1.4 ...", {"Content-Type": "application/pdf"})
    assert parser.parse(response) is None
    assert parser.stats.get_value("article/dropped/not_html") == 1


def test_garbled_date_is_null_and_counted():
    html = seed_html().replace("发布日期: 2022-\n08-\n03 16:\n42", "发布日期: 未知").replace(
        '<meta name="PubDate" content="2022-08-03 16:42">', "")
    parser = OfflineParser("laishan")
    item = parser.parse(page_response(parser, "laishan", "", URL, body=html.encode()))
    # No publication date: the item cannot be keyed or dated, so it is dropped and counted.
    assert item is None
    assert parser.stats.get_value("normalize/unparsed_date/published_at") == 1
