"""Hanweb 大汉 JCMS column listings: an inline datastore, then ``dataproxy.jsp`` groups.

The column page carries the first group of records inline (``<script type="text/xml">
<datastore>``), the form parameters as ``var param_<unitid> = {…}`` and the total in the
``jpage({… totalRecord:N …})`` call.  Later groups are ``POST``ed to the proxy URL with
``startrecord``/``endrecord`` until ``totalrecord``.  A portal on JCMS is a subclass that
names its column.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from parsel import Selector

from .base import Entry, MeetingSpider

_RECORD_RE = re.compile(r"<record><!\[CDATA\[(.*?)\]\]></record>", re.S)
_PARAM_PAIR_RE = re.compile(r"(\w+)\s*:\s*(?:'([^']*)'|\"([^\"]*)\"|([^,}\s]+))")


class HanwebColumnSpider(MeetingSpider):
    column_id: int
    unit_id: str
    proxy_path = "/module/web/jpage/dataproxy.jsp"

    def entries_of(self, datastore_xml: str):
        for record in _RECORD_RE.findall(datastore_xml):
            li = Selector(text=record)
            for a in li.css("a[href]"):
                yield Entry(
                    url=a.attrib["href"],
                    title=a.attrib.get("title") or a.xpath("string()").get(),
                    date=li.css(".bt_time::text").get(),
                )

    def parse(self, response):
        """The column page: the inline group, then the first ``dataproxy.jsp`` group."""
        unit = self.unit_id
        datastore = response.xpath(f'//div[@id="{unit}"]/script[@type="text/xml"]/text()').get() or ""
        script = response.text
        params_m = re.search(rf"var\s+param_{unit}\s*=\s*\{{(.*?)\}}", script, re.S)
        total_m = re.search(rf"\$\('#{unit}'\)\.jpage\(\{{.*?totalRecord\s*:\s*(\d+)", script, re.S)
        per_page_m = re.search(r"perPage\s*:\s*(\d+)", script)
        group_m = re.search(r"groupSize\s*:\s*(\d+)", script)
        if not (params_m and total_m):
            yield from self.follow_entries(response, self.entries_of(datastore))
            self.crawler.stats.inc_value("listing/layout_errors")
            self.logger.error("no jpage configuration for unit %s on %s", unit, response.url)
            return
        form = [(k, a or b or c) for k, a, b, c in _PARAM_PAIR_RE.findall(params_m.group(1))]
        per_page = int(per_page_m.group(1)) if per_page_m else 15
        group = per_page * (int(group_m.group(1)) if group_m else 3)
        state = {"form": form, "total": int(total_m.group(1)), "per_page": per_page, "group": group}
        yield from self.follow_page(response, self.entries_of(datastore),
                                    lambda: self.group_request(response, state, start=group + 1))

    def group_request(self, response, state, start: int):
        total = state["total"]
        if start > total:
            return None
        end = min(start + state["group"] - 1, total)
        query = urlencode({"startrecord": start, "endrecord": end, "perpage": state["per_page"]})
        page_num = (start - 1) // state["per_page"] + 1
        referer = f"{response.urljoin(f'/col/col{self.column_id}/index.html')}?uid={self.unit_id}&pageNum={page_num}"
        return self.listing_request(
            response.urljoin(f"{self.proxy_path}?{query}"),
            callback=self.parse_group,
            method="POST",
            body=urlencode(state["form"]),
            headers={
                "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8",
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/xml, text/xml, */*; q=0.01",
                "Referer": referer,
            },
            meta={"hanweb": {**state, "start": start, "end": end}},
        )

    def parse_group(self, response):
        """One ``dataproxy.jsp`` group; the next one follows while records remain."""
        state = response.meta["hanweb"]
        total_m = re.search(r"<totalrecord>(\d+)</totalrecord>", response.text)
        if total_m:
            state = {**state, "total": int(total_m.group(1))}
        promised = min(state["end"], state["total"]) - state.get("start", state["end"]) + 1
        yield from self.follow_page(response, self.entries_of(response.text),
                                    lambda: self.group_request(response, state, start=state["end"] + 1),
                                    expected=promised)
