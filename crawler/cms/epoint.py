"""Epoint 新点 WebBuilder info-disclosure lists: a JavaScript shell page over a JSON API.

The shell page (``openlist.html``) holds no entries; its inline script names the API
(``LIST_URL``), the site (``siteGuid``), the department (``DEPTCODE``), the default
category and the page size.  Entries come from ``POST``ing the JSON body
``{"token":"","params":{…,"pageIndex":N,…}}`` with a 0-based ``pageIndex`` until ``total``.
A portal on Epoint is a subclass that names its shell page and category.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from .base import Entry, MeetingSpider


def _js_string(script: str, pattern: str) -> str | None:
    m = re.search(pattern + r"""\s*[:=]\s*["']([^"']+)["']""", script)
    return m.group(1) if m else None


class EpointListSpider(MeetingSpider):
    shell_url: str
    category_num: str | None = None  # else the shell page's DEFAULT_CATEGORYNUM
    # Rendered (`-a render=splash`): the shell page as the browser shows it, entries from the
    # list its script fills, pages by clicking its pager (crawler/splash.py); no API request.
    render_wait_for = "#infolist li, #infolist-empty:not(.hidden)"
    render_entries = "ul#infolist li"
    render_pager = "#pager"

    async def start(self):
        if self.render:
            yield self.rendered_listing(1)
            return
        # The shell page only configures the API; it is not a listing page.
        yield self.listing_request(self.shell_url, callback=self.parse, meta={"role": "entry"})

    def rendered_listing(self, page: int):
        """Page ``page`` (1-based, as the pager numbers it) of the rendered shell page."""
        from crawler import splash

        return splash.listing_request(
            self, self.shell_url, self.parse_rendered, {"role": "listing", "render_page": page},
            page=page, wait_for=self.render_wait_for, pager=self.render_pager,
        )

    def parse_rendered(self, response):
        entries = []
        for li in response.css(self.render_entries):
            a = li.css("a[href]")
            entries.append(Entry(
                url=a.attrib.get("href", ""),
                title=a.attrib.get("title") or "".join(a.css("::text").getall()),
                date=(li.css("span.ewb-info-date::text").get() or "").strip() or None,
            ))
        more = response.css(f"{self.render_pager} a").xpath("self::*[normalize-space()='下一页']")
        yield from self.follow_page(response, entries, lambda: self.rendered_listing(
            response.meta["render_page"] + 1) if entries and more else None)

    def parse(self, response):
        script = " ".join(response.xpath("//script[not(@src)]/text()").getall())
        category = (
            self.category_num
            or (parse_qs(urlsplit(response.url).query).get("categorynum") or [None])[0]
            or _js_string(script, "DEFAULT_CATEGORYNUM")
        )
        size = re.search(r"PAGE_SIZE\s*=\s*(\d+)", script)
        config = {
            "api": _js_string(script, "LIST_URL"),
            "deptcode": _js_string(script, "DEPTCODE"),
            "siteGuid": _js_string(script, "siteGuid"),
            "categorynum": category,
            "pageSize": int(size.group(1)) if size else 15,
        }
        missing = [k for k, v in config.items() if not v]
        if missing:
            self.crawler.stats.inc_value("listing/layout_errors")
            self.logger.error("Epoint shell page %s lacks %s", response.url, ", ".join(missing))
            return
        yield self.api_request(response.url, config, page=0)

    def api_request(self, referer: str, config: dict, page: int):
        params = {
            "deptcode": config["deptcode"],
            "categorynum": config["categorynum"],
            "pageIndex": page,
            "pageSize": config["pageSize"],
            "siteGuid": config["siteGuid"],
        }
        body = json.dumps({"token": "", "params": params}, ensure_ascii=False, separators=(",", ":"))
        return self.listing_request(
            config["api"], base=referer,
            callback=self.parse_api,
            method="POST",
            body=body.encode("utf-8"),
            headers={
                "Content-Type": "application/json;charset=UTF-8",
                "X-Requested-With": "XMLHttpRequest",
                "Accept": "application/json, text/javascript, */*; q=0.01",
                "Referer": referer,
            },
            meta={"epoint": {"config": config, "page": page, "referer": referer}},
        )

    def parse_api(self, response):
        state = response.meta["epoint"]
        try:
            custom = json.loads(response.text)["custom"]
            data, total = custom["data"], int(custom["total"])
        except (ValueError, KeyError, TypeError) as exc:
            self.crawler.stats.inc_value("listing/layout_errors")
            self.logger.error("Epoint API answer not understood (%s): %s", exc, response.url)
            return
        entries = [
            Entry(url=d.get("infourl") or "", title=d.get("realtitle") or d.get("title") or "", date=d.get("infodate"))
            for d in data
            if isinstance(d, dict) and d.get("infourl")
        ]
        config, page = state["config"], state["page"]
        more = bool(data) and (page + 1) * config["pageSize"] < total
        yield from self.follow_page(response, entries,
                                    lambda: self.api_request(state["referer"], config, page + 1) if more else None)
