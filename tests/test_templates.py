"""Article templates told apart by the classes and ids they name (crawler/cms/base.py): the
shortcut never changes which template reads a page, on every page the project can serve."""

from urllib.parse import urlsplit

import pytest
import scrapy

from crawler.cms import generation_types
from crawler.cms.base import _required, article_fields, fits, read_article
from crawler.replica import build_site
from tests.snapshots import HTML_TYPES, expected_cases


def every_template():
    """Every generation's article templates, in one order: the widest trial a page can get."""
    found = []
    for cls in generation_types().values():
        found += [t for t in cls.articles if t not in found]
    return tuple(found)


def pages():
    for portal, _, page, url in expected_cases():
        yield url, page.read_bytes(), HTML_TYPES[portal]
    site = build_site(articles=4, seed=5, generation="both", extra_portals=30)
    servers = [site.portal(p, g) for p in site.portals for g in site.generations_of(p)] + list(site.extras.values())
    for served in servers:
        for url in served.meeting_urls() + served.non_meeting_urls()[:2]:
            parts = urlsplit(url)
            resp = served.handle("GET", parts.path, parts.query, b"", {})
            if resp.status == 200:
                yield url, resp.body, dict(resp.headers).get("Content-Type", "text/html; charset=utf-8")


def read_by_trying_each(templates, response, page_url):
    for sel in templates:
        if fits(sel, response):
            return article_fields(sel, response, page_url)
    return article_fields(templates[0], response, page_url)


def test_the_shortcut_reads_every_page_as_trying_each_template_does():
    templates = every_template()
    assert len(templates) >= 6
    seen = 0
    for url, body, content_type in pages():
        response = scrapy.http.HtmlResponse(url=url, body=body, headers={"Content-Type": content_type})
        for order in (templates, templates[::-1]):
            assert read_article(order, response, url) == read_by_trying_each(order, response, url), url
        seen += 1
    assert seen > 150  # the snapshots, both generations of the five portals, 30 extra portals


@pytest.mark.parametrize("css, required", [
    ("div.article h1.article-title", [({"article", "article-title"}, set())]),
    ("td#ivs_title > p", [(set(), {"ivs_title"})]),
    # What is negated is not required; each alternative of a group is its own requirement.
    ("p:not(.hidden).lead, #zoom p", [({"lead"}, set()), (set(), {"zoom"})]),
    ("div[class=x] p", [(set(), set())]),
])
def test_required_classes_and_ids(css, required):
    assert [(set(c), set(i)) for c, i in _required(css)] == required
