"""Epoint 新点 WebBuilder info-disclosure lists: a JavaScript shell page over a JSON API.

The shell page (``openlist.html``) holds no entries; its script names the API (``LIST_URL``),
the site (``siteGuid``), the department (``DEPTCODE``), the default category and the page size.
Entries come from ``POST``ing the JSON body ``{"token":"","params":{…,"pageIndex":N,…}}`` with a
0-based ``pageIndex`` until ``total``.  Everything is read from the site, so a portal on Epoint
needs no parameters.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urljoin, urlsplit

from .base import ArticleSelectors, Entry
from .generation import Generation

# The info-disclosure article of Epoint sites (zhanqian, 2023).
DISCLOSURE_ARTICLE = ArticleSelectors(
    title="h3.ewb-article-tt",
    header=("ul.ewb-article-list li p", "div.ewb-article-sources p"),
    body="div#infoContent div.ewb-article-info p",
    breadcrumb="div.ewb-location",
    attachments=("div#infoContent a", "div#attach a"),
)


def _js_string(script: str, pattern: str) -> str | None:
    m = re.search(pattern + r"""\s*[:=]\s*["']([^"']+)["']""", script)
    return m.group(1) if m else None


class EpointList(Generation):
    name = "epoint"
    looks_for = "an Epoint shell page whose script names LIST_URL and siteGuid"
    articles = (DISCLOSURE_ARTICLE,)
    # Rendered (`-a render=splash`): the shell page as the browser shows it, entries from the
    # list its script fills, pages by clicking its pager (crawler/splash.py); no API request.
    render_wait_for = "#infolist li, #infolist-empty:not(.hidden)"
    render_entries = "ul#infolist li"
    render_pager = "#pager"

    def recognise(self, response) -> bool:
        if response.meta.get("splash"):
            return bool(response.css(self.render_entries))
        script = " ".join(response.xpath("//script[not(@src)]/text()").getall())
        return bool(_js_string(script, "LIST_URL") and _js_string(script, "siteGuid"))

    def start(self, spider, response):
        if response.meta.get("splash"):
            return self.rendered(spider, response)
        return self.shell(spider, response)

    # --- the API --------------------------------------------------------------------------

    def shell(self, spider, response):
        script = " ".join(response.xpath("//script[not(@src)]/text()").getall())
        category = (
            (parse_qs(urlsplit(response.url).query).get("categorynum") or [None])[0]
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
            spider.crawler.stats.inc_value("listing/layout_errors")
            spider.logger.error("Epoint shell page %s lacks %s", response.url, ", ".join(missing))
            return
        yield self.api_request(spider, response.url, config, page=0)

    def api_request(self, spider, referer: str, config: dict, page: int):
        params = {
            "deptcode": config["deptcode"],
            "categorynum": config["categorynum"],
            "pageIndex": page,
            "pageSize": config["pageSize"],
            "siteGuid": config["siteGuid"],
        }
        body = json.dumps({"token": "", "params": params}, ensure_ascii=False, separators=(",", ":"))
        return self.request(
            spider,
            urljoin(referer, config["api"]),
            "api",
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

    def api(self, spider, response):
        state = response.meta["epoint"]
        try:
            custom = json.loads(response.text)["custom"]
            data, total = custom["data"], int(custom["total"])
        except (ValueError, KeyError, TypeError) as exc:
            spider.crawler.stats.inc_value("listing/layout_errors")
            spider.logger.error("Epoint API answer not understood (%s): %s", exc, response.url)
            return
        entries = [
            Entry(url=d.get("infourl") or "", title=d.get("realtitle") or d.get("title") or "", date=d.get("infodate"))
            for d in data
            if d.get("infourl")
        ]
        yield from spider.follow_entries(response, entries)
        config, page = state["config"], state["page"]
        if data and (page + 1) * config["pageSize"] < total:
            yield self.api_request(spider, state["referer"], config, page + 1)

    # --- rendered through Splash ----------------------------------------------------------

    def rendered_listing(self, spider, url: str, page: int):
        """Page ``page`` (1-based, as the pager numbers it) of the rendered shell page ``url``."""
        from crawler import splash

        meta = {"role": "listing", "generation": self.name, "step": "rendered", "render_page": page,
                "render_url": url}
        return splash.listing_request(spider, url, spider.parse_listing, meta, page=page,
                                      wait_for=self.render_wait_for, pager=self.render_pager)

    def rendered(self, spider, response):
        entries = []
        for li in response.css(self.render_entries):
            a = li.css("a[href]")
            entries.append(Entry(
                url=a.attrib.get("href", ""),
                title=a.attrib.get("title") or "".join(a.css("::text").getall()),
                date=(li.css("span.ewb-info-date::text").get() or "").strip() or None,
            ))
        yield from spider.follow_entries(response, entries)
        more = response.css(f"{self.render_pager} a").xpath("self::*[normalize-space()='下一页']")
        if entries and more:
            page = response.meta.get("render_page", 1)
            yield self.rendered_listing(spider, response.meta.get("render_url") or response.url, page + 1)
