"""The whole replica: five portals (plus the jining mirror host) behind one routing table.

Each portal is served in its archive generation (the snapshots), its current generation
(``crawler/replica/current/``), or both at once (``generation``): a portal mid-migration, whose
old pages stay up while the new site also lists the newest meetings.  On one host, the current
site answers first and the archive answers what the current site does not know.
"""

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


def _current_classes() -> dict[str, type]:
    """The current generation's site of each portal, by portal name: every module of
    ``crawler/replica/current/`` that names one as ``SITE``."""
    import importlib
    import pkgutil

    from . import current

    found = {}
    for module in pkgutil.iter_modules(current.__path__):
        cls = getattr(importlib.import_module(f"{current.__name__}.{module.name}"), "SITE", None)
        if cls is not None:
            found[cls.portal] = cls
    return dict(sorted(found.items()))


CURRENT_CLASSES: dict[str, type] = _current_classes()
GENERATIONS = ("archive", "current", "both")

# A fault hook: called with (portal_name, method, path) before the page is built; it may return
# a Response to send instead, or a dict of directives for the server (e.g. {"delay_ms": 500}),
# or None to serve normally.  Fault modes themselves are added later; the hook is the contract.
FaultHook = Callable[[str, str, str], Any]


ARCHIVE_LIST_URLS = {
    "yingkou": "http://www.yingkou.gov.cn/xxgk/zfhy/index.html",
    "beipiao": "http://www.bp.gov.cn/html/BPSZF/zcjd/index.html",
    "laishan": "http://www.ytlaishan.gov.cn/col/col53951/index.html",
    "zhanqian": "http://www.ykzq.gov.cn/govxxgk/zqqrmzf/openlist.html?categorynum=001003005",
    "jining": "http://jining.iqilu.com/jnyaowen/",
}


class Site:
    def __init__(self, articles: int = 60, seed: int = 1, generation: str = "archive", extra_portals: int = 0):
        if generation not in GENERATIONS:
            raise ValueError(f"generation {generation!r}: one of {', '.join(GENERATIONS)}")
        from .current import NEW_SITE_ONLY

        self.articles = articles
        self.seed = seed
        self.generation = generation
        # The archive portals are built in every mode: they are the history the current sites serve.
        hidden = NEW_SITE_ONLY if generation == "both" else 0
        self.portals = {cls.name: cls(articles, seed, new_site_only=hidden if cls.name in CURRENT_CLASSES else 0)
                        for cls in PORTAL_CLASSES}
        self.current = ({name: cls(self.portals[name]) for name, cls in CURRENT_CLASSES.items()}
                        if generation != "archive" else {})
        self.by_host: dict[str, list] = {}
        for name, archive in self.portals.items():
            sites = [self.current[name]] if name in self.current else []
            if generation != "current" or name not in self.current:
                sites.append(archive)
            self.by_host.setdefault(archive.host, []).extend(sites)
        mirror = JiningMirror(self.portals["jining"])
        self.by_host[mirror.host] = [mirror]
        self.extras = self._extras(articles, seed, extra_portals)
        for extra in self.extras.values():
            self.by_host[extra.host] = [extra]
        self.host_names = {h: sites[0].name for h, sites in self.by_host.items()}
        self.faults: dict[str, FaultHook | None] = {name: None for name in self.host_names.values()}

    def _extras(self, articles: int, seed: int, count: int) -> dict:
        """``count`` more portals (crawler/replica/extra.py), cycling through every portal in
        every generation: archive, then current where a portal has one."""
        from .extra import ExtraPortal, extra_host, extra_name

        variants = [(cls, "archive") for cls in PORTAL_CLASSES]
        variants += [(cls, "current") for cls in PORTAL_CLASSES if cls.name in CURRENT_CLASSES]
        extras = {}
        for i in range(count):
            cls, generation = variants[i % len(variants)]
            archive = cls(articles, seed * 7919 + i + 1)
            if generation == "current":
                template = CURRENT_CLASSES[cls.name](archive)
                list_url = template.list_urls()[0]
            else:
                template, list_url = archive, ARCHIVE_LIST_URLS[cls.name]
            name = extra_name(i)
            extras[name] = ExtraPortal(template, name, extra_host(name), list_url)
        return extras

    def generations_of(self, portal: str) -> list[str]:
        """The generations this site serves for ``portal``, archive first."""
        if portal in self.extras:
            return [self.extras[portal].generation]
        out = []
        if self.generation != "current" or portal not in self.current:
            out.append("archive")
        if portal in self.current:
            out.append("current")
        return out

    def portal(self, name: str, generation: str | None = None):
        """One portal's site: ``generation`` "archive" or "current"; default the first served."""
        if name in self.extras:
            return self.extras[name]
        generation = generation or self.generations_of(name)[0]
        if generation == "current":
            return self.current[name]
        return self.portals[name]

    def expected_items(self, portal: str, generation: str | None = None) -> list[dict]:
        return self.portal(portal, generation).expected_items()

    def meeting_urls(self, portal: str, generation: str | None = None) -> list[str]:
        return self.portal(portal, generation).meeting_urls()

    def non_meeting_urls(self, portal: str, generation: str | None = None) -> list[str]:
        return self.portal(portal, generation).non_meeting_urls()

    def list_urls(self, portal: str, generation: str | None = None) -> str:
        """The listing URL a spider starts from in that generation."""
        if portal in self.extras:
            return self.extras[portal].list_url
        if (generation or self.generations_of(portal)[0]) == "current":
            return self.current[portal].list_urls()[0]
        return ARCHIVE_LIST_URLS[portal]

    def start_urls(self, portal: str) -> list[str]:
        """The listing URLs of every generation served (what ``crawlall --replica`` starts from)."""
        return [self.list_urls(portal, g) for g in self.generations_of(portal)]

    def handle(self, host: str, method: str, path: str, query: str, body: bytes, headers: dict) -> tuple[str | None, Response]:
        """Route one request; returns (portal name or None, response)."""
        host = host.lower().rsplit(":", 1)[0] if host.count(":") == 1 else host.lower()
        sites = self.by_host.get(host)
        if not sites:
            return None, not_found()
        for target in sites:
            resp = target.handle(method, path, query, body, headers)
            if resp.status != 404:
                break
        return sites[0].name, resp


def build_site(articles: int = 60, seed: int = 1, generation: str = "archive", extra_portals: int = 0) -> Site:
    return Site(articles=articles, seed=seed, generation=generation, extra_portals=extra_portals)
