"""Hanweb 大汉 JCMS, the classic generation: an inline datastore, then ``dataproxy.jsp`` groups.

The column page carries the first group of records inline (``<div id="<unit>"><script
type="text/xml"><datastore>``), the form parameters as ``var param_<unit> = {…}`` and the total
in the ``$('#<unit>').jpage({… totalRecord:N …})`` call.  Later groups are ``POST``ed to the
proxy URL with ``startrecord``/``endrecord`` until ``totalrecord``.  Everything a request needs
(unit, column, form) is read from the page, so a portal on JCMS needs no parameters.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from parsel import Selector

from .base import ArticleSelectors, Entry
from .generation import Generation

_RECORD_RE = re.compile(r"<record><!\[CDATA\[(.*?)\]\]></record>", re.S)
_PARAM_PAIR_RE = re.compile(r"(\w+)\s*:\s*(?:'([^']*)'|\"([^\"]*)\"|([^,}\s]+))")
_COLUMN_RE = re.compile(r"/col/col(\d+)/")

# The article template of JCMS sites (laishan's 2018–2022 site; shared by Hanweb's
# government templates of that era): an info-disclosure table over the article.
ARTICLE = ArticleSelectors(
    title="div.bt-article-title",
    header=("table.xxgk_table tr", "div.bt-article-info span"),
    body="div#zoom p",
    breadcrumb="div.bt-position",
    attachments=("div#zoom a",),
)


def entries_of(datastore_xml: str):
    """The entries of a datastore or a ``dataproxy.jsp`` answer (records of ``<li>`` HTML)."""
    for record in _RECORD_RE.findall(datastore_xml):
        li = Selector(text=record)
        for a in li.css("a[href]"):
            yield Entry(
                url=a.attrib["href"],
                title=a.attrib.get("title") or a.xpath("string()").get(),
                date=li.css(".bt_time::text").get(),
            )


class JcmsColumn(Generation):
    name = "jcms"
    looks_for = "an inline <datastore> in a unit <div> and its `jpage({totalRecord})` call"
    proxy_path = "/module/web/jpage/dataproxy.jsp"
    articles = (ARTICLE,)

    def recognise(self, response) -> bool:
        return bool(response.xpath('//div[@id]/script[@type="text/xml"][contains(., "<datastore")]'))

    def unit(self, response) -> str | None:
        return response.xpath('//div[@id]/script[@type="text/xml"][contains(., "<datastore")]/../@id').get()

    def parameters(self, response) -> dict:
        unit = self.unit(response)
        total = re.search(rf"\$\('#{unit}'\)\.jpage\(\{{.*?totalRecord\s*:\s*(\d+)", response.text, re.S)
        column = re.search(r"columnid\s*:\s*['\"]?(\d+)", response.text) or _COLUMN_RE.search(response.url)
        return {"unit": unit, "column": column.group(1) if column else None,
                "records": int(total.group(1)) if total else None}

    def start(self, spider, response):
        """The column page: the inline group, then the first ``dataproxy.jsp`` group."""
        unit = self.unit(response)
        datastore = response.xpath(f'//div[@id="{unit}"]/script[@type="text/xml"]/text()').get() or ""
        script = response.text
        params_m = re.search(rf"var\s+param_{unit}\s*=\s*\{{(.*?)\}}", script, re.S)
        total_m = re.search(rf"\$\('#{unit}'\)\.jpage\(\{{.*?totalRecord\s*:\s*(\d+)", script, re.S)
        per_page_m = re.search(r"perPage\s*:\s*(\d+)", script)
        group_m = re.search(r"groupSize\s*:\s*(\d+)", script)
        if not (params_m and total_m):
            yield from spider.follow_entries(response, entries_of(datastore))
            spider.crawler.stats.inc_value("listing/layout_errors")
            spider.logger.error("no jpage configuration for unit %s on %s", unit, response.url)
            return
        form = [(k, a or b or c) for k, a, b, c in _PARAM_PAIR_RE.findall(params_m.group(1))]
        column = dict(form).get("columnid") or (_COLUMN_RE.search(response.url) or [None, ""])[1]
        per_page = int(per_page_m.group(1)) if per_page_m else 15
        group = per_page * (int(group_m.group(1)) if group_m else 3)
        state = {"form": form, "total": int(total_m.group(1)), "per_page": per_page, "group": group,
                 "unit": unit, "column": column}
        yield from spider.follow_page(response, entries_of(datastore),
                                      lambda: self.group_request(spider, response, state, start=group + 1))

    def group_request(self, spider, response, state, start: int):
        total = state["total"]
        if start > total:
            return None
        end = min(start + state["group"] - 1, total)
        query = urlencode({"startrecord": start, "endrecord": end, "perpage": state["per_page"]})
        page_num = (start - 1) // state["per_page"] + 1
        column_page = response.urljoin(f"/col/col{state['column']}/index.html")
        return self.request(
            spider,
            response.urljoin(f"{self.proxy_path}?{query}"),
            "group",
            method="POST",
            body=urlencode(state["form"]),
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/xml, text/xml, */*; q=0.01",
                "Referer": f"{column_page}?uid={state['unit']}&pageNum={page_num}",
            },
            meta={"hanweb": {**state, "start": start, "end": end}},
        )

    def group(self, spider, response):
        """One ``dataproxy.jsp`` group; the next one follows while records remain."""
        state = response.meta["hanweb"]
        total_m = re.search(r"<totalrecord>(\d+)</totalrecord>", response.text)
        if total_m:
            state = {**state, "total": int(total_m.group(1))}
        promised = min(state["end"], state["total"]) - state.get("start", state["end"]) + 1
        yield from spider.follow_page(response, entries_of(response.text),
                                      lambda: self.group_request(spider, response, state, start=state["end"] + 1),
                                      expected=promised)
