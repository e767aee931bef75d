"""The whole replica: five portals (plus the jining mirror host) behind one routing table."""

from __future__ import annotations

from typing import Any, Callable

from .common import Response
from .portal import not_found
from .sites.beipiao import Beipiao
from .sites.jining import Jining, JiningMirror
from .sites.laishan import Laishan
from .sites.yingkou import Yingkou
from .sites.zhanqian import Zhanqian

PORTAL_CLASSES = (Yingkou, Beipiao, Laishan, Zhanqian, Jining)
PORTAL_NAMES = tuple(c.name for c in PORTAL_CLASSES)

# A fault hook: called with (portal_name, method, path) before the page is built; it may return
# a Response to send instead, or a dict of directives for the server (e.g. {"delay_ms": 500}),
# or None to serve normally.  Fault modes themselves are added later; the hook is the contract.
FaultHook = Callable[[str, str, str], Any]


class Site:
    def __init__(self, articles: int = 60, seed: int = 1):
        self.articles = articles
        self.seed = seed
        self.portals = {cls.name: cls(articles, seed) for cls in PORTAL_CLASSES}
        mirror = JiningMirror()
        self.by_host: dict[str, Any] = {p.host: p for p in self.portals.values()}
        self.by_host[mirror.host] = mirror
        self.host_names = {h: getattr(p, "name") for h, p in self.by_host.items()}
        self.faults: dict[str, FaultHook | None] = {name: None for name in self.host_names.values()}

    def portal(self, name: str):
        return self.portals[name]

    def expected_items(self, portal: str) -> list[dict]:
        return self.portals[portal].expected_items()

    def meeting_urls(self, portal: str) -> list[str]:
        return self.portals[portal].meeting_urls()

    def non_meeting_urls(self, portal: str) -> list[str]:
        return self.portals[portal].non_meeting_urls()

    def list_urls(self, portal: str) -> list[str]:
        """The first listing URL a spider starts from."""
        return {"yingkou": "http://www.yingkou.gov.cn/xxgk/zfhy/index.html",
                "beipiao": "http://www.bp.gov.cn/html/BPSZF/zcjd/index.html",
                "laishan": "http://www.ytlaishan.gov.cn/col/col53951/index.html",
                "zhanqian": "http://www.ykzq.gov.cn/govxxgk/zqqrmzf/openlist.html?categorynum=001003005",
                "jining": "http://jining.iqilu.com/jnyaowen/"}[portal]

    def handle(self, host: str, method: str, path: str, query: str, body: bytes, headers: dict) -> tuple[str | None, Response]:
        """Route one request; returns (portal name or None, response)."""
        host = host.lower().rsplit(":", 1)[0] if host.count(":") == 1 else host.lower()
        target = self.by_host.get(host)
        if target is None:
            return None, not_found()
        return target.name, target.handle(method, path, query, body, headers)


def build_site(articles: int = 60, seed: int = 1) -> Site:
    return Site(articles=articles, seed=seed)
