"""scrapy portal add URL [--name NAME] | scrapy portal check NAME

``add`` reads a listing URL the way a crawl would (through ``PORTAL_MIRROR`` when set, obeying
robots.txt): it recognises the CMS generation, reads the first listing page and up to
``--articles`` meeting articles, prints what it would extract and appends an entry to the
registry (``portals.toml``).  ``check`` does the same read for an existing portal, the check to
run after a portal's redesign.  Both exit 1 when the listing is unreadable or key fields are
missing, naming what was looked for.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

KEY_FIELDS = ("title", "published_at", "body", "meeting_date")
SHOWN_FIELDS = ("chair", "meeting_kind", "meeting_number", "attendees", "documents")


class ProbeMiddleware:
    """A spider middleware that stops a crawl after its first listing page of entries and a few
    of its meeting articles: the read ``portal add`` and ``portal check`` show."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.articles = crawler.settings.getint("PORTAL_PROBE_ARTICLES", 3)
        self.sent = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_spider_output(self, response, result):
        async for obj in result:
            if isinstance(obj, Request):
                role = obj.meta.get("role")
                if role == "article":
                    if self.sent >= self.articles:
                        continue
                    self.sent += 1
                elif role == "listing" and self.crawler.stats.get_value("listing/pages", 0) >= 1:
                    self.crawler.stats.inc_value("probe/listing_requests_not_followed")
                    continue
            yield obj


def probe_settings(articles: int) -> dict:
    return {
        "MEETINGS_DB": "",  # nothing is stored: no store, no incremental skipping
        "PORTAL_PROBE_ARTICLES": articles,
        "SPIDER_MIDDLEWARES": {"crawler.commands.portal.ProbeMiddleware": 550},
        "CLOSESPIDER_TIMEOUT": 300,
    }


def default_name(url: str) -> str:
    """A portal name from its host: the first label that is not www (``www.p042.example.gov.cn`` → p042)."""
    labels = [x for x in (urlsplit(url).hostname or "").split(".") if x and x != "www"]
    name = re.sub(r"[^a-z0-9_]", "_", (labels[0] if labels else "portal").lower())
    return name if re.match(r"^[a-z]", name) else f"p_{name}"


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "add URL [--name NAME] [--registry FILE] | check NAME"

    def short_desc(self) -> str:
        return "Add a portal to the registry from a listing URL, or check that a portal still reads"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--name", help="the new portal's name (default: from the host)")
        parser.add_argument("--display-name", help="the portal's name as people say it (default: the page title)")
        parser.add_argument("--registry", help="the registry file to add to (default: the first of PORTAL_REGISTRY)")
        parser.add_argument("--articles", type=int, default=3, help="meeting articles to read (default: 3)")
        parser.add_argument("--dry-run", action="store_true", help="show what would be added, write nothing")

    def run(self, args, opts) -> None:
        if len(args) != 2 or args[0] not in ("add", "check"):
            raise UsageError("scrapy portal add URL [--name NAME] | scrapy portal check NAME")
        action, target = args
        if (self.settings.getpriority("LOG_LEVEL") or 0) < 40:
            # The report is the output; the crawl's log only where it says something is wrong
            # (-L INFO brings it back).
            from scrapy.utils.log import install_scrapy_root_handler

            self.settings.set("LOG_LEVEL", "ERROR", priority="cmdline")
            install_scrapy_root_handler(self.settings)
        self.settings.setdict(probe_settings(max(0, opts.articles)), priority="cmdline")
        self.exitcode = self._add(target, opts) if action == "add" else self._check(target)

    # -- the read

    def _read(self, spider_cls, **spargs) -> tuple[dict, list[dict]]:
        crawler = self.crawler_process.create_crawler(spider_cls)
        items: list[dict] = []
        # weak=False: the receiver is a lambda, which nothing else holds.
        crawler.signals.connect(lambda item, **_: items.append(dict(item)), signal=signals.item_scraped, weak=False)
        self.crawler_process.crawl(crawler, **spargs)
        self.crawler_process.start()
        return crawler.stats.get_stats(), items

    def _report(self, stats: dict, items: list[dict]) -> list[str]:
        """Print what was read; return the problems (empty: the portal reads)."""
        problems = []
        generations = [k.split("/", 2)[2] for k in stats if k.startswith("listing/generation/")]
        if stats.get("listing/unrecognised"):
            problems.append(f"no known listing: {stats.get('listing/unrecognised_detail')}")
        elif not generations:
            problems.append(_fetch_problem(stats))
        else:
            print(f"generation: {', '.join(generations)}")
            params = stats.get("listing/parameters")
            if params:
                print("parameters: " + ", ".join(f"{k}={v}" for k, v in json.loads(params).items()))
            print(f"listing page 1: {stats.get('listing/entries', 0)} entries, "
                  f"{stats.get('listing/meetings', 0)} meetings"
                  + (", more pages follow" if stats.get("probe/listing_requests_not_followed") else ""))
            if not stats.get("listing/entries"):
                problems.append("the listing page has no entries")
            elif not stats.get("listing/meetings"):
                problems.append("no entry of the listing page looks like a meeting")
        if items:
            print()
            print(_table(items))
            for field in KEY_FIELDS:
                missing = [i["url"] for i in items if not i.get(field)]
                if missing:
                    problems.append(f"{field} missing on {len(missing)} of {len(items)} article(s): {missing[0]}")
        dropped = {k.split("/", 2)[2]: v for k, v in stats.items() if k.startswith("article/dropped/")}
        if dropped:
            problems.append("article pages not read: " + ", ".join(f"{k} {v}" for k, v in dropped.items()))
        if stats.get("listing/meetings") and not items and not dropped:
            problems.append("no meeting article could be fetched")
        return problems

    def _add(self, url: str, opts) -> int:
        from crawler.cms.base import start_url_list
        from crawler.registry import RegistryError, registry_paths, spider_class

        try:
            (url,) = start_url_list(url)
        except ValueError as e:
            raise UsageError(str(e)) from None
        name = opts.name or default_name(url)
        if name in self.crawler_process.spider_loader.list():
            print(f"portal add: a portal named {name!r} exists already; choose another with --name")
            return 2
        host = urlsplit(url).hostname
        try:
            probe = spider_class(name, {"hosts": [host], "start_urls": [url]}, "(portal add)")
        except RegistryError as e:
            raise UsageError(str(e)) from None
        stats, items = self._read(probe)
        problems = self._report(stats, items)
        if problems:
            print("\nportal add: not added —")
            print("\n".join(f"  {p}" for p in problems))
            return 1
        generations: list = [k.split("/", 2)[2] for k in stats if k.startswith("listing/generation/")]
        params = json.loads(stats.get("listing/parameters") or "{}")
        if params.get("list_items"):
            # A list found by looking is pinned, so that later runs read the same list.
            generations = [{"generation": generations[0], "list_items": params["list_items"]}]
        entry = {"display_name": opts.display_name or stats.get("listing/page_title") or name,
                 "hosts": [host], "start_urls": [url], "generations": generations}
        import tomli_w

        text = tomli_w.dumps({"portals": {name: entry}})
        if opts.dry_run:
            print(f"\nportal add: would add to the registry:\n\n{text}")
            return 0
        path = registry_paths(self.settings)[0] if not opts.registry else _path(opts.registry)
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
        with open(path, "a", encoding="utf-8") as f:
            f.write(("\n" if existing and not existing.endswith("\n\n") else "") + text)
        print(f"\nportal add: added [portals.{name}] to {path}; crawl it with: scrapy crawl {name}")
        return 0

    def _check(self, name: str) -> int:
        if name not in self.crawler_process.spider_loader.list():
            raise UsageError(f"no portal named {name!r}; `scrapy list` lists them")
        stats, items = self._read(self.crawler_process.spider_loader.load(name))
        problems = self._report(stats, items)
        if problems:
            print(f"\nportal check {name}: FAIL")
            print("\n".join(f"  {p}" for p in problems))
            return 1
        print(f"\nportal check {name}: ok")
        return 0


def _path(value: str):
    from crawler.commands.crawlall import _project_path

    return _project_path(value)


def _fetch_problem(stats: dict) -> str:
    errors = {k.rsplit("/", 1)[-1]: v for k, v in stats.items()
              if k.startswith(("downloader/exception_type_count/", "httperror/response_ignored_status_count/"))}
    if stats.get("robotstxt/forbidden"):
        return "robots.txt forbids the URL"
    if errors:
        return "the URL could not be fetched: " + ", ".join(f"{k} ×{v}" for k, v in errors.items())
    return "the URL did not answer with a page"


def _table(items: list[dict]) -> str:
    rows = [("title", "published_at", "meeting_date", "chair", "body", "missing")]
    for i in items:
        missing = [f for f in KEY_FIELDS + ("chair",) if not i.get(f)]
        title = i.get("title") or ""
        rows.append((title[:28] + ("…" if len(title) > 28 else ""), str(i.get("published_at") or "")[:16],
                     str(i.get("meeting_date") or ""), str(i.get("chair") or ""), str(len(i.get("body") or "")),
                     ", ".join(missing) or "-"))
    widths = [max(_width(r[c]) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(r, widths)) for r in rows)


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
