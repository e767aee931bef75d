"""The bare spider of the benchmark: a portal's real spider whose article callback does nothing.

    BENCH_PORTAL=laishan scrapy runspider bench/bare_spider.py -s MEETINGS_DB= -s PORTAL_MIRROR=…

It walks the same listing mechanism (the real ``parse``/``parse_group``/``parse_api``
callbacks, the same requests) and downloads every meeting article, but parses nothing and
yields no item: what Scrapy alone costs for the same pages.
"""

from __future__ import annotations

import os

from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

_portal = os.environ.get("BENCH_PORTAL", "laishan")
_base = SpiderLoader.from_settings(get_project_settings()).load(_portal)


def _parse_meeting(self, response):
    return None


# One class in this module, so `scrapy runspider` finds exactly one spider.
BareSpider = type(f"Bare{_base.__name__}", (_base,), {"name": _portal, "parse_meeting": _parse_meeting,
                                                      "__module__": __name__})
