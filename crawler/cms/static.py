"""Static list pages (the TRS-era generation): entries in the HTML, a pager to the next page.

The pager is read in any of the forms these sites print: TRS's ``createPageHTML(count, current,
"index", "html")`` script (no link in the HTML: page N is ``index_N.html``), a ``下一页`` link
with a real ``href``, or a ``下一页`` element naming its target in ``tagname``.  A portal on
this generation may say where its entries are (``list_items``, ``list_date``); without them the
page's list of dated links is found (``guess_list``).  The article templates below are those
these sites are known to use.
"""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree

from .base import ArticleSelectors, Entry
from .fallback import densest_block_han
from .generation import Generation

_CREATE_PAGE_RE = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"']([^\"']+)[\"']\s*,\s*[\"']([^\"']+)[\"']")
# A Traditional-script mirror prints 下一頁.
_NEXT_TEXTS = ("下一页", "下一頁")
_NEXT_HREF = "//a[" + " or ".join(f'normalize-space()="{t}" or normalize-space(@title)="{t}"' for t in _NEXT_TEXTS) + "]"


# A date as list rows print it (2022-08-03, 2022/8/3, 2022.08.03, 2022年8月3日, [2022-08-03]).
_DATE_RE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}")
_DATED_ROWS = etree.XPath("//*[count(*[.//a[@href]]) >= $least]")
# A list of this many dated links is a listing wherever it stands.  Fewer (a column that has
# published one to three meetings so far) count only on a page with no article text of its
# own: an article page holds one or two dated links too (上一篇/下一篇, a "related" box), but
# also a body, and the shortest meeting report measured holds 171 Han characters.
MIN_ROWS = 4
ARTICLE_TEXT_HAN = 100


def guess_list(response) -> str | None:
    """CSS of the page's list of entries: the element with the most children that each hold a
    link and a date, as ``parent > child``; None when the page has no such list."""
    root = response.selector.root
    found = _most_dated_rows(root, MIN_ROWS)
    if found is None:
        found = _most_dated_rows(root, 1, entry_rows=True)
        if found is not None and densest_block_han(root) >= ARTICLE_TEXT_HAN:
            found = None
    if found is None:
        return None
    parent, tag = found
    return f"{_css_of(parent)} > {tag}"


def _most_dated_rows(root, least: int, entry_rows: bool = False):
    """(parent, row tag) of the element with the most dated-link children, at least ``least``.

    ``entry_rows``: each row must be one entry (one date, a link or two), as a short list has
    too few rows to stand out from the page's blocks, each of which holds links and a date."""
    best, best_rows = None, 0
    for parent in _DATED_ROWS(root, least=least):
        tags = Counter(child.tag for child in parent if isinstance(child.tag, str))
        if not tags:
            continue
        tag, _ = tags.most_common(1)[0]
        rows = sum(1 for c in parent if c.tag == tag and _is_row(c, entry_rows))
        # As many rows inside the best so far: the inner element is the list, the outer its box.
        if rows > best_rows or (rows and rows == best_rows and best[0] in parent.iterancestors()):
            best, best_rows = (parent, tag), rows
    return best if best is not None and best_rows >= least else None


def _is_row(node, entry_only: bool) -> bool:
    links = len(node.xpath(".//a[@href]"))
    if not links:
        return False
    dates = len(_DATE_RE.findall(node.xpath("string()")))
    return dates == 1 and links <= 2 if entry_only else dates > 0


def _css_of(node) -> str:
    """A CSS selector for ``node``: its id, else its tag and classes under its parent's."""
    if node.get("id"):
        return f"{node.tag}#{node.get('id')}"
    classes = "".join(f".{c}" for c in (node.get("class") or "").split() if re.match(r"^[\w-]+$", c))
    parent = node.getparent()
    own = f"{node.tag}{classes}"
    if classes or parent is None or not isinstance(parent.tag, str) or parent.tag in ("body", "html"):
        return own
    return f"{_css_of(parent)} > {own}"


def next_page_href(response) -> str | None:
    """The next listing page as the pager names it, or None on the last page."""
    m = _CREATE_PAGE_RE.search(response.text)
    if m:
        count, current, stem, ext = int(m.group(1)), int(m.group(2)), m.group(3), m.group(4)
        return f"{stem}_{current + 1}.{ext}" if current + 1 < count else None
    for a in response.xpath(_NEXT_HREF):
        href = (a.attrib.get("href") or "").strip()
        if href and not href.startswith(("javascript:", "#")):
            return href
        target = (a.attrib.get("tagname") or "").strip()
        if target and not target.startswith(("javascript:", "#")):
            return target
    return None


class StaticList(Generation):
    name = "static"
    recognition_order = 90  # any page with links in a list looks like one: try it last
    # CSS of one entry node (its first `a` is the article link), and of its printed date relative
    # to it; None: the page's list of dated links (guess_list) and the date its row prints.
    list_items: str | None = None
    list_date: str | None = None
    looks_for = (f"a list of dated links in the page's HTML (at least {MIN_ROWS}, or fewer on a page with no "
                 f"article text: no block of {ARTICLE_TEXT_HAN}+ Han characters)")
    articles = (
        # The 2017 TRS template (yingkou): a table layout, GBK pages.
        ArticleSelectors(
            title="td#ivs_title",
            header=("td.detail_info",),
            body="td#Zoom p",
            breadcrumb="div.position",
            attachments=("td#Zoom a", "#appendix a"),
        ),
        # The county CMS template (beipiao, 2021).
        ArticleSelectors(
            title="div.article h1.article-title",
            header=("div.article-info",),
            body="div#zoom p",
            breadcrumb="div.location",
            attachments=("div#zoom a",),
        ),
    )

    def __init__(self, **config):
        super().__init__(**config)
        if self.list_items:
            self.looks_for = f"entries `{self.list_items}` with a link"

    def items_css(self, response) -> str | None:
        if self.list_items:
            return self.list_items
        cached = response.meta.get("static_list_items") if response.request is not None else None
        return cached or guess_list(response)

    def recognise(self, response) -> bool:
        css = self.items_css(response)
        return bool(css and response.css(css).css("a[href]"))

    def parameters(self, response) -> dict:
        pager = ("createPageHTML" if _CREATE_PAGE_RE.search(response.text)
                 else "下一页 link" if response.xpath(_NEXT_HREF) else "none (one page)")
        return {"list_items": self.items_css(response), "pager": pager}

    def start(self, spider, response):
        return self.page(spider, response)

    def page(self, spider, response):
        css = self.items_css(response)
        href = next_page_href(response)
        # A guessed list is guessed once: later pages are read as the first was.
        yield from spider.follow_page(response, self.entries(response, css), lambda: self.request(
            spider, href, "page", base=response.url, meta={"static_list_items": css}) if href else None)

    def entries(self, response, css: str | None):
        for node in response.css(css) if css else ():
            link = node.css("a[href]")[:1]
            if link:
                # @title holds the full title; the anchor text is often cut with "...".
                title = link.attrib.get("title") or link.xpath("string()").get()
                if self.list_date:
                    date = node.css(self.list_date).get()
                else:
                    found = _DATE_RE.search(node.xpath("string()").get() or "")
                    date = found.group(0) if found else None
                yield Entry(url=link.attrib["href"], title=title, date=date)
