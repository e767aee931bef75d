"""Reading an article page whose template is unknown: what a redesign leaves the selectors.

When a portal redesigns its article template, the portal's selectors find no title or no
body and every article would be dropped until someone edits the spider.  This reads the page
the way any government article page is built instead:

- the head's meta tags (``ArticleTitle``, ``PubDate``, ``ContentSource``), which most CMSs
  keep through a redesign;
- the title as the heading the ``<title>`` repeats (``<title>`` carries the site's name after
  it), else the ``<title>`` without that name;
- the labelled lines (``发布日期`` ``来源`` ``索引号`` …) wherever they stand outside the body;
- the body as the densest text block: the element whose own paragraphs (``<p>`` children, or
  text runs split by ``<br>``) hold the most text that is not link text.

Only a page the selectors failed on comes here (``crawler/cms/base.py``): it costs a walk of
the whole tree, a few times the selectors' cost, and is counted (``article/fallback``) so that
health can say which portal needs its selectors updated.  No GNE or trafilatura: their cost
and their misses on these portals are in ``../shared/MEASUREMENTS.md``.
"""

from __future__ import annotations

import re

from lxml import etree

from crawler.extract import text

# Elements whose text is never the article: scripts, page furniture, forms.
_SKIP_TAGS = {"script", "style", "noscript", "template", "head", "nav", "footer", "header", "form",
              "select", "option", "button", "iframe", "textarea"}
_HAN_RE = re.compile(r"[\u4e00-\u9fff]")
_TITLE_SEPARATOR_RE = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s|--)\s*")
_DATE_RE = re.compile(r"\d{4}\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}(?:\s*日)?(?:\s+\d{1,2}[:：]\d{2}(?::\d{2})?)?")
_HEADINGS = ("h1", "h2", "h3", "h4")
# A body block needs at least this much text of its own: less is a caption or a menu.
_MIN_BODY_HAN = 20
# A page's furniture, never its article: the footer's credits, the header's labelled lines.
_FOOTER_RE = re.compile(r"主办单位|承办单位|版权所有|ICP备|公网安备|网站标识码|技术支持|Copyright|©", re.I)
_STRING = etree.XPath("string()")
_META = etree.XPath("//meta[@name][@content]")


def _root(page):
    """An lxml root from a Scrapy response or an lxml element."""
    return page.selector.root if hasattr(page, "selector") else page


def _skipped(el) -> bool:
    return not isinstance(el.tag, str) or el.tag in _SKIP_TAGS


def _meta_tags(root) -> dict[str, str]:
    tags: dict[str, str] = {}
    for node in _META(root):
        tags.setdefault(node.get("name"), (node.get("content") or "").strip())
    return tags


_INLINE = {"span", "font", "b", "strong", "em", "i", "u", "a", "sup", "sub", "img", "br", "label", "small", "big"}
_PARAGRAPH_BLOCKS = {"p", "div", "section", "blockquote", "center", "dd"}


def _inline_only(root) -> set:
    """The elements that hold inline content only, found in one pass from the leaves up."""
    found = set()
    for el in reversed(list(root.iter())):
        if all(not isinstance(c.tag, str) or (c.tag in _INLINE and c in found) for c in el):
            found.add(el)
    return found


def _own_paragraphs(el, inline_only: set) -> list[str]:
    """The paragraphs an element holds itself: its paragraph children (`<p>`, or a `<div>`
    of inline content) and its own text runs between `<br>` (inline children belong to the
    run they stand in).  Text inside other blocks is those blocks' own."""
    paragraphs, run = [], [el.text or ""]
    for child in el:
        if not isinstance(child.tag, str):
            run.append(child.tail or "")
        elif child.tag in _INLINE and child.tag != "br":
            run.append(_STRING(child) + (child.tail or ""))
        else:  # <br> ends a run; so does any block, which is a paragraph itself or holds its own
            paragraphs.append("".join(run))
            # A block of inline content is a paragraph, whether written <p> or <div>.
            if child.tag in _PARAGRAPH_BLOCKS and child in inline_only:
                paragraphs.append(_STRING(child))
            run = [child.tail or ""]
    paragraphs.append("".join(run))
    return [text.collapse(p) for p in paragraphs]


def _furniture(paragraphs: list[str]) -> bool:
    joined = " ".join(paragraphs)
    return bool(_FOOTER_RE.search(joined)) or len(text.LABEL_RE.findall(joined)) >= 2


def _link_chars(el) -> int:
    return sum(len(_HAN_RE.findall(_STRING(a))) for a in el.iter("a"))


def _densest_block(root):
    """(element, paragraphs) of the block with the most own text, links not counted."""
    best, best_score, best_paragraphs = None, 0, []
    inline_only = _inline_only(root)
    stack = [root]
    while stack:
        el = stack.pop()
        if _skipped(el):
            continue
        stack.extend(child for child in el if isinstance(child.tag, str))
        paragraphs = [p for p in _own_paragraphs(el, inline_only) if p]
        if not paragraphs:
            continue
        own = sum(len(_HAN_RE.findall(p)) for p in paragraphs)
        if own <= best_score or _furniture(paragraphs):
            continue
        score = own - _link_chars(el)
        if score > best_score:
            best, best_score, best_paragraphs = el, score, paragraphs
    if best is None or best_score < _MIN_BODY_HAN:
        return None, []
    return best, best_paragraphs


def densest_block_han(page) -> int:
    """Han characters in the paragraphs of the page's densest text block (0: none)."""
    _, paragraphs = _densest_block(_root(page))
    return sum(len(_HAN_RE.findall(p)) for p in paragraphs)


def _title(root, meta: dict[str, str], body_el) -> str | None:
    """Meta ``ArticleTitle``; else the heading the ``<title>`` repeats (a site's logo heading
    may be repeated too: the longer is the article's); else the last heading before the body;
    else the longest part of the ``<title>`` (`标题_站名`, `站名|标题`: a site's name is
    shorter than an article's title)."""
    if meta.get("ArticleTitle"):
        return text.collapse(meta["ArticleTitle"])
    page_title = text.collapse(" ".join(root.xpath("//title//text()")))
    headings, body_at = [], None  # (position in the document, text)
    for i, el in enumerate(root.iter()):
        if el is body_el:
            body_at = i
        if el.tag in _HEADINGS and (body_el is None or body_el not in el.iterancestors()):
            heading = text.collapse(_STRING(el))
            if len(heading) >= 4:
                headings.append((i, heading))
    repeated = [h for _, h in headings if page_title and h in page_title]
    if repeated:
        return max(repeated, key=len)
    before_body = [h for i, h in headings if body_at is not None and i < body_at]
    if before_body:
        return before_body[-1]
    parts = [p for p in _TITLE_SEPARATOR_RE.split(page_title) if p]
    if parts:
        return max(parts, key=len)
    return headings[0][1] if headings else None


def _header_lines(root, body_el) -> list[str]:
    """Short texts outside the body: where labelled lines and a bare date stand.  The
    body's ancestors hold the body's text, so only their other children are read."""
    around = set(body_el.iterancestors()) if body_el is not None else set()
    lines = []
    stack = [root]
    while stack:
        el = stack.pop()
        if _skipped(el) or el is body_el:
            continue
        stack.extend(reversed([child for child in el if isinstance(child.tag, str)]))
        own = text.collapse(_STRING(el)) if el not in around else ""
        if own and len(own) <= 200:
            lines.append(own)
    return lines


def article_fields(page, page_url: str) -> dict:
    """The fields of an article page read without its portal's selectors (see the module
    docstring); the same keys as ``crawler.cms.base.article_fields``, values as printed."""
    root = _root(page)
    meta = _meta_tags(root)
    body_el, paragraphs = _densest_block(root)
    lines = _header_lines(root, body_el)
    # Labels are matched in Simplified script, as the selectors' path does.
    labelled = text.labelled_fields(text.to_simplified("\x00".join(lines)).split("\x00") if lines else [])
    published = labelled.pop("published_at", None) or meta.get("PubDate")
    if not published:
        published = next((m.group(0) for line in lines for m in [_DATE_RE.search(line)] if m), None)
    anchors = list(body_el.iter("a")) if body_el is not None else []
    from crawler.cms.base import page_fields

    return page_fields(_title(root, meta, body_el), published, labelled, meta.get("ContentSource"), paragraphs,
                       anchors, page_url)


def recover(fields: dict, page, page_url: str) -> dict | None:
    """The fields of a page the selectors failed on, read generically; None when the
    generic reading finds no title or no body either.  What the selectors did find stays."""
    generic = article_fields(page, page_url)
    if not generic["title"] or not generic["body"]:
        return None
    merged = dict(generic)
    for key, value in fields.items():
        if value and key not in ("title", "body", "attachments"):
            merged[key] = value
    if fields.get("title"):
        merged["title"] = fields["title"]
    return merged
