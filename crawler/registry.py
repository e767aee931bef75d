"""The portal registry: a portal on a known CMS generation is configuration, not code.

``portals.toml`` (and any file ``PORTAL_REGISTRY`` names) holds one table per portal::

    [portals.laishan]
    display_name = "烟台市莱山区人民政府"
    hosts = ["www.ytlaishan.gov.cn"]
    start_urls = ["http://www.ytlaishan.gov.cn/col/col53951/index.html"]
    generations = ["jcms", "jpaas"]      # optional: else every known generation is tried
    # a generation with options:  generations = [{generation = "static", list_items = "div.list li"}]
    # alias_hosts = {"mirror.example" = "www.ytlaishan.gov.cn"}   mirrors whose items keep portal URLs
    # skip_titles = [["local_news", "^某县"]]                      listing titles that are not meetings
    # [portals.laishan.article]                                    a template the generations do not know
    # title = "h1.title"
    # body = "div.content p"

Each entry becomes a :class:`~crawler.cms.base.MeetingSpider` subclass that Scrapy's spider
loader lists and loads like a module spider (``PortalSpiderLoader``, ``SPIDER_LOADER_CLASS``),
so ``scrapy crawl``, ``crawlall``, the store, health and exports treat both alike.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy.spiderloader import SpiderLoader

from crawler.cms import generation_types
from crawler.cms.base import ArticleSelectors, MeetingSpider, start_url_list

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
ENTRY_KEYS = {"display_name", "hosts", "start_urls", "generations", "alias_hosts", "skip_titles", "article"}


class RegistryError(ValueError):
    """A registry file or entry that cannot be used, with the file and entry named."""


def registry_paths(settings) -> list[Path]:
    from crawler.commands.crawlall import _project_path

    return [_project_path(p) for p in settings.getlist("PORTAL_REGISTRY")]


def read_registry(path: Path) -> dict[str, dict[str, Any]]:
    """The entries of one registry file, by portal name."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise RegistryError(f"{path}: not valid TOML: {e}") from None
    portals = data.get("portals", {})
    if not isinstance(portals, dict):
        raise RegistryError(f"{path}: [portals] must be a table of portal tables")
    return portals


def build_generations(value, where: str) -> tuple:
    """Generation objects from an entry's ``generations`` (names, or tables with options)."""
    types = generation_types()
    if value is None:
        return tuple(cls() for cls in types.values())
    if not isinstance(value, list) or not value:
        raise RegistryError(f"{where}: generations must be a non-empty list")
    out = []
    for g in value:
        options = dict(g) if isinstance(g, dict) else {}
        kind = options.pop("generation", None) if isinstance(g, dict) else g
        if kind not in types:
            raise RegistryError(f"{where}: unknown generation {kind!r}; known: {', '.join(types)}")
        try:
            out.append(types[kind](**options))
        except TypeError as e:
            raise RegistryError(f"{where}: {e}") from None
    return tuple(out)


def spider_class(name: str, entry: dict[str, Any], source: Path | str = "portals.toml") -> type[MeetingSpider]:
    """The spider of one registry entry."""
    where = f"{source} [portals.{name}]"
    if not NAME_RE.match(name):
        raise RegistryError(f"{where}: a portal name is lowercase letters, digits and _ (2–41 chars)")
    unknown = set(entry) - ENTRY_KEYS
    if unknown:
        raise RegistryError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(ENTRY_KEYS))}")
    hosts = entry.get("hosts")
    if not hosts or not isinstance(hosts, list) or not all(isinstance(h, str) and h for h in hosts):
        raise RegistryError(f"{where}: hosts must be a non-empty list of host names")
    try:
        start_urls = start_url_list(entry.get("start_urls") or [])
    except ValueError as e:
        raise RegistryError(f"{where}: {e}") from None
    if not start_urls:
        raise RegistryError(f"{where}: start_urls must name at least one listing URL")
    for url in start_urls:
        if urlsplit(url).hostname not in hosts:
            raise RegistryError(f"{where}: start URL {url} is not on the portal's hosts {hosts}")
    alias_hosts = dict(entry.get("alias_hosts") or {})
    try:
        skip_titles = tuple((str(reason), re.compile(pattern)) for reason, pattern in entry.get("skip_titles") or ())
    except (ValueError, TypeError, re.error) as e:
        raise RegistryError(f"{where}: skip_titles must be [reason, regex] pairs: {e}") from None
    article = None
    if entry.get("article"):
        options = dict(entry["article"])
        for key in ("header", "attachments"):
            if key in options:
                options[key] = tuple(options[key])
        try:
            article = ArticleSelectors(**options)
        except TypeError as e:
            raise RegistryError(f"{where}: article: {e}") from None
    attrs = {
        "name": name,
        "display_name": entry.get("display_name") or name,
        "allowed_domains": list(dict.fromkeys([*hosts, *alias_hosts])),
        "start_urls": start_urls,
        "generations": build_generations(entry.get("generations"), where),
        "alias_hosts": alias_hosts,
        "skip_titles": skip_titles,
        "article": article,
        "registry_source": str(source),
        "__module__": __name__,
        "__doc__": f"{entry.get('display_name') or name} — from {source}.",
    }
    return type(f"{name.title().replace('_', '')}Spider", (MeetingSpider,), attrs)


def registry_spiders(settings) -> dict[str, type[MeetingSpider]]:
    spiders: dict[str, type[MeetingSpider]] = {}
    for path in registry_paths(settings):
        if not path.exists():
            raise RegistryError(f"PORTAL_REGISTRY names {path}, which does not exist")
        for name, entry in read_registry(path).items():
            if name in spiders:
                raise RegistryError(f"{path}: portal {name!r} is already defined in {spiders[name].registry_source}")
            spiders[name] = spider_class(name, entry, path)
    return spiders


class PortalSpiderLoader(SpiderLoader):
    """Scrapy's spider loader, plus a spider for every registry entry."""

    def __init__(self, settings):
        super().__init__(settings)
        for name, cls in registry_spiders(settings).items():
            if name in self._spiders:
                raise RegistryError(f"{cls.registry_source}: portal {name!r} is also a spider module")
            self._spiders[name] = cls
