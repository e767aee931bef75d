"""When a paged listing stops: the rules every listing loop shares.

A listing loop (a static pager, Hanweb ``dataproxy.jsp`` groups, Epoint API pages) asks for
the next page while the portal says there is one: a next link, ``start <= totalrecord``,
``(pageIndex + 1) * pageSize < total``.  A portal's word is not enough: a total of 10⁹ over
empty groups, or an API that ignores ``pageIndex`` and repeats its first page, would have the
spider hammer a small server forever.  So a walk also stops

* on a page that brings nothing new: no entry URL the walk has not already seen
  (``listing/stopped/no_new``);
* after ``LISTING_MAX_PAGES`` pages (``listing/stopped/page_cap``);

and a page shorter than the portal promised (a Hanweb group cut short) is counted
(``listing/short_pages``).  Each of these leaves the walk incomplete: the health check warns
(``listing_incomplete``) and the next run walks the whole listing again instead of stopping at
its first known page (``crawler/store/incremental.py``, ``crawler/ops/ledger.py``).

A spider calls :meth:`ListingWalks.follow_page` (``MeetingSpider.follow_page``) with each
page's entries and a function that builds the next page's request; a CMS module adds nothing
else.  One walk per spider, or per ``meta["walk"]`` where a spider walks several listings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable

from crawler.extract.links import absolute_url

logger = logging.getLogger(__name__)

DEFAULT_MAX_PAGES = 1000


@dataclass
class Walk:
    pages: int = 0
    seen: set[str] = field(default_factory=set)
    stopped: str | None = None


class ListingWalks:
    """The walks of one spider's run."""

    def __init__(self, spider):
        self.spider = spider
        self.max_pages = spider.crawler.settings.getint("LISTING_MAX_PAGES", DEFAULT_MAX_PAGES)
        self.walks: dict[str, Walk] = {}

    def follow_page(self, response, entries: Iterable, next_request: Callable[[], object],
                    expected: int | None = None):
        """The article requests of one listing page (``follow_entries``), then the next page's
        request from ``next_request()`` (None: the portal says this was the last page) unless
        the walk stops here.  ``expected``: how many entries the portal promised on this page."""
        spider, stats = self.spider, self.spider.crawler.stats
        entries = list(entries)
        walk = self.walks.setdefault(response.meta.get("walk", ""), Walk())
        walk.pages += 1
        urls = {absolute_url(response.url, e.url) for e in entries} - {None}
        new = urls - walk.seen
        # A later page with no entries is the end of what the portal really holds, not a
        # changed layout (which shows on the first page).
        yield from spider.follow_entries(response, entries, count_empty=not walk.seen)
        walk.seen |= urls
        if expected is not None and len(entries) < expected:
            stats.inc_value("listing/short_pages")
            logger.warning("listing page %s holds %d of the %d entries the portal promised; the next "
                           "run walks the whole listing again", response.url, len(entries), expected,
                           extra={"spider": spider})
        request = next_request()
        if request is None:
            return
        reason = None
        if not new:
            reason = "no_new"
        elif walk.pages >= self.max_pages:
            reason = "page_cap"
        if reason is None:
            yield request
            return
        walk.stopped = reason
        stats.inc_value(f"listing/stopped/{reason}")
        logger.warning(
            "listing stopped after %d page(s) at %s: %s; not requesting %s",
            walk.pages, response.url,
            "no entry that this walk had not seen" if reason == "no_new"
            else f"LISTING_MAX_PAGES={self.max_pages} reached",
            getattr(request, "url", request), extra={"spider": spider},
        )
