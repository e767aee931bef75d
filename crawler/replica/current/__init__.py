"""The portals as their current CMS generation serves them (``../shared/GENERATIONS.md``).

A current site carries the same meetings as the portal's archive generation (the same titles,
dates and bodies, so that a crawler that follows a portal's migration stores each meeting
once) at the URLs and in the page templates of the new generation, plus the newest entries,
which only the new site lists (``NEW_SITE_ONLY``).  What public evidence does not show (the
meeting column's id, categorynums, tagIds, article ids) is invented here, and each module
says what it invents (``docs/replica.md``).

A module ``current/<portal>.py`` subclasses :class:`CurrentSite`, says how the generation
routes and renders, and names its class ``SITE`` (``crawler/replica/site.py`` finds it there).
"""

from __future__ import annotations

import random

from ..common import LRU, rng_for
from ..portal import PageServer

# Entries published after the migration: on the current site only.
NEW_SITE_ONLY = 3


class CurrentSite(PageServer):
    portal = ""  # the archive portal's name
    generation = "current"

    def __init__(self, archive):
        self.archive = archive
        self.name, self.host, self.seed = archive.name, archive.host, archive.seed
        self.entries = archive.all_entries
        self.cache = LRU(1024)
        self.setup()
        self.by_path = {self.path_of(e): e for e in self.entries}

    # ----- what a generation module says ----------------------------------------------------
    def setup(self) -> None:
        pass

    def path_of(self, e) -> str:
        """The path of entry ``e``'s article page on the current site."""
        raise NotImplementedError

    def list_urls(self) -> list[str]:
        """The listing URLs a user would copy from the browser (the meeting column)."""
        raise NotImplementedError

    def route(self, method: str, path: str, query: str, body: bytes, headers: dict):
        """Listing pages, APIs, scripts: anything but article pages (None: 404)."""
        return None

    def render_article(self, e, item: dict | None) -> bytes:
        """The article page of entry ``e``: ``item`` is the meeting it reports (its archive
        record, the URL already the new one), None for an entry that is not a meeting."""
        raise NotImplementedError

    def adjust_expected(self, item: dict, e) -> dict:
        """The record of a meeting as this template prints it (breadcrumb, category …)."""
        return item

    # ----- shared -------------------------------------------------------------------------
    def url_of(self, e) -> str:
        return f"http://{self.host}{self.path_of(e)}"

    def expected(self, e) -> dict:
        item = dict(self.archive.expected(e))
        item["url"] = self.url_of(e)
        return self.adjust_expected(item, e)

    def expected_items(self) -> list[dict]:
        return [self.expected(e) for e in self.entries if e.meeting]

    def meeting_urls(self) -> list[str]:
        return [self.url_of(e) for e in self.entries if e.meeting]

    def non_meeting_urls(self) -> list[str]:
        return [self.url_of(e) for e in self.entries if not e.meeting]

    def page(self, e) -> bytes:
        return self.cache.get(("art", e.idx), lambda: self.render_article(e, self.expected(e) if e.meeting else None))

    def prerender(self) -> None:
        pass

    def rng(self, what: str, key) -> random.Random:
        """A generator of this site's choices about ``what`` for ``key`` (a page, an entry):
        the same for the same seed, independent of everything else."""
        return rng_for(self.seed, self.name, "current", what, key)
