"""Hanweb 大汉 JPAAS, the generation after JCMS: a shell column page over the ``build/unit`` API.

The column page (``/col/col<N>/index.html``) holds no entries.  Each block of it is built by a
script element whose ``queryData`` attribute names the block (``tagId``), the site (``webId``,
``tplSetId``), the page (``pageId``) and how to build it (``parseType``), and whose ``url``
names the API.  The list is the block whose ``tagId`` names a list; pages of it come from
``GET <url>?<queryData pairs>&paramJson={"pageNo":N,"pageSize":S}`` (``pageNo`` 1-based; paging
works only inside ``paramJson``), sent as the page's script sends it: ``X-Requested-With`` and
the column page as Referer.  The answer ``{"success":true,"data":{"html":…}}`` carries the rows
and a pager that says the total (``count``) and the page size the server used (``rows``).

What varies between JPAAS sites, all read from what the site serves (``../shared/GENERATIONS.md``):
``parseType`` is spelt ``bulidstatic`` or ``buildstatic`` (sent as the page spells it), the
``queryData`` key order, the row markup (four shapes: the link is the row's first ``a[href]``,
the date whatever date the row prints outside it, if any), the pager (``div.pagination`` or
``#autUDB_pagination``), and the page size.  A page shorter than the page size is not the
last: the count is paged to its end, or until a page comes back empty.
"""

from __future__ import annotations

import json
import math
import re
from urllib.parse import urlencode, urlsplit

from parsel import Selector

from .base import ArticleSelectors, Entry
from .generation import Generation

# A unit script: lxml lowercases attribute names (queryData → querydata).
_UNIT_XPATH = '//script[@querydata][contains(@url, "build/unit")]'
# 'key':'value' pairs of queryData, either quote, in the order the page writes them.
_PAIR_RE = re.compile(r"""(['"])([^'"]*)\1\s*:\s*(['"])([^'"]*)\3""")
_SCRIPT_KEYS = ("parseType", "webId")
_DATE_RE = re.compile(r"\d{4}\s*-\s*\d{1,2}\s*-\s*\d{1,2}")
# A row that links a column page (a sub-column, a sibling list) rather than an article.
_COLUMN_PAGE_RE = re.compile(r"/col/col\d+/?(?:index\.s?html?)?$")
# What the API answers for a block it has no template data for (an unknown tagId).
TEMPLATE_EMPTY = "模板内容数据为空"
_ROWS_XPATH = ('//li[.//a[@href]][not(ancestor::*[contains(concat(" ", normalize-space(@class), " "), " pagination ")'
               ' or @id="autUDB_pagination"])]')

# The article template of the Yantai JPAAS sites (laishan today): an info-disclosure table
# above the article, the visible time in `span.time`, the body in `#zoom`.  Meta tags
# (ArticleTitle, PubDate, ContentSource) fill only what the visible page leaves out: the
# visible `发布时间：` wins over meta `PubDate`, which JPAAS rewrites when a page is
# republished (MIIT warns the two can differ) — the reader's time is the visible one.
ARTICLE = ArticleSelectors(
    title="div.article h1.article-title",
    header=("table.xxgk-info tr", "div.article-info span"),
    body="div#zoom p",
    breadcrumb="div.location",
    attachments=("div#zoom a",),
)


def query_pairs(query_data: str) -> list[tuple[str, str]]:
    """The ``'key':'value'`` pairs of a ``queryData`` attribute, in page order."""
    return [(key, value) for _, key, _, value in _PAIR_RE.findall(query_data or "")]


def pager(html: Selector) -> tuple[int | None, int | None]:
    """``(count, rows)`` of an answer's pager, either form; None where it does not say."""
    node = html.css("div.pagination[count]")[:1]
    if node:
        values = {k.lower(): v for k, v in node[0].attrib.items()}
    else:
        query = html.xpath('//*[@id="autUDB_pagination"]/@querydata').get()
        values = {k.lower(): v for k, v in query_pairs(query or "")}

    def number(name):
        value = (values.get(name) or "").strip()
        return int(value) if value.isdigit() else None

    return number("count"), number("rows")


class Jpaas(Generation):
    name = "jpaas"
    looks_for = "a unit <script> with queryData and a build/unit url whose tagId names a list"
    articles = (ARTICLE,)
    # A tagId naming a list (通知list, 当前栏目列表, 分页列表, ajax分页, 内容1 …); among several,
    # one naming a side block (右侧列表 …) is a sidebar, not the column's list.
    list_words = ("list", "列表", "分页", "内容")
    side_words = ("右侧", "左侧", "侧栏", "侧边", "热点", "推荐", "排行", "友情")
    # The page size asked for; the server may use its own, which its pager reports.
    page_size = 30
    # Recognised by a script element naming an API: before generations that see entries in HTML.
    recognition_order = 20

    # --- recognising the column page -------------------------------------------------------

    def units(self, response) -> list[dict]:
        """Every unit script of the page: its API URL and its queryData pairs."""
        found = []
        for script in response.xpath(_UNIT_XPATH):
            pairs = query_pairs(script.attrib.get("querydata"))
            if pairs:
                # The script's own attributes stand in for what queryData leaves out.
                given = dict(pairs)
                pairs = [(key, script.attrib[key.lower()]) for key in _SCRIPT_KEYS
                         if key not in given and script.attrib.get(key.lower())] + pairs
                found.append({"api": response.urljoin(script.attrib["url"]), "query": pairs,
                              "tag": dict(pairs).get("tagId", "")})
        return found

    def list_unit(self, response) -> dict | None:
        """The unit that builds the column's list, or None."""
        lists = [u for u in self.units(response) if any(w in u["tag"].lower() for w in self.list_words)]
        main = [u for u in lists if not any(w in u["tag"] for w in self.side_words)]
        return (main or lists or [None])[0]

    def recognise(self, response) -> bool:
        return self.list_unit(response) is not None

    def parameters(self, response) -> dict:
        unit = self.list_unit(response)
        query = dict(unit["query"])
        return {"tagId": unit["tag"], "pageId": query.get("pageId"), "webId": query.get("webId"),
                "tplSetId": query.get("tplSetId"), "parseType": query.get("parseType"),
                "units": [u["tag"] for u in self.units(response)]}

    # --- the list API ----------------------------------------------------------------------

    def start(self, spider, response):
        unit = self.list_unit(response)
        state = {"api": unit["api"], "query": unit["query"], "tag": unit["tag"], "referer": response.url,
                 "page_size": self.page_size}
        spider.logger.info("JPAAS list unit %r of %s", unit["tag"], response.url)
        yield self.page_request(spider, state, 1)

    def page_request(self, spider, state: dict, page: int):
        param = json.dumps({"pageNo": page, "pageSize": state["page_size"]}, separators=(",", ":"))
        query = urlencode([*state["query"], ("paramJson", param)])
        api = state["api"]
        return self.request(
            spider,
            f"{api}{'&' if urlsplit(api).query else '?'}{query}",
            "unit",
            headers={
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/json, text/javascript, */*; q=0.01",
                "Referer": state["referer"],
            },
            meta={"jpaas": {**state, "page": page}},
        )

    def unit(self, spider, response):
        """One page of the list; the next follows until the count is paged or a page is empty."""
        state = response.meta["jpaas"]
        page = state["page"]
        try:
            answer = json.loads(response.text)
            html = answer["data"]["html"] if answer.get("success") else None
        except (ValueError, KeyError, TypeError, AttributeError):
            html = None
        if not isinstance(html, str):
            spider.crawler.stats.inc_value("listing/layout_errors")
            spider.logger.error("JPAAS answer not understood: %s", response.url)
            return
        if TEMPLATE_EMPTY in html:
            spider.crawler.stats.inc_value("listing/jpaas/template_empty")
            spider.logger.error("JPAAS has no template data for tagId %r (page %d): %s",
                                state["tag"], page, state["referer"])
            if page == 1:
                yield from spider.follow_entries(response, ())  # an empty listing fails health
            return
        sel = Selector(text=html)
        entries, columns = [], 0
        for row in sel.xpath(_ROWS_XPATH):
            links = [a for a in row.xpath(".//a[@href]")
                     if not a.attrib["href"].strip().startswith(("javascript:", "#"))]
            # The article link is the row's first link to something other than a column page
            # (a row may lead with its column's name, or link nothing but another column).
            articles = [a for a in links if not _COLUMN_PAGE_RE.search(urlsplit(a.attrib["href"].strip()).path)]
            if not articles:
                columns += bool(links)
                continue
            link = articles[0]
            href = link.attrib["href"].strip()
            date = _DATE_RE.search(" ".join(row.xpath(".//text()[not(ancestor::a)]").getall()))
            entries.append(Entry(url=href, title=link.attrib.get("title") or link.xpath("string()").get(),
                                 date=re.sub(r"\s", "", date.group()) if date else None))
        if columns:
            spider.crawler.stats.inc_value("listing/skipped/column_link", columns)
        if not entries and page > 1:
            spider.logger.info("JPAAS list %r ends with an empty page %d", state["tag"], page)
            return
        yield from spider.follow_entries(response, entries)
        count, rows = pager(sel)
        if count is None:
            spider.logger.info("JPAAS list %r has no pager: one page", state["tag"])
            return
        if page < math.ceil(count / (rows or state["page_size"])):
            yield self.page_request(spider, state, page + 1)
