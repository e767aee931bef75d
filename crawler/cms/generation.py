"""A CMS generation: how one family of portal software lists its entries and lays out its
articles, and how a listing page of that family is recognised.

A portal spider names the generations it may meet (``MeetingSpider.generations``); the start
URL's response is offered to each in turn, and the first that recognises it walks the listing.
A generation's later listing requests go to the spider's ``parse_listing`` with the generation
and the step (a method name of the generation) in ``meta``, so they stay plain, serialisable
Scrapy requests (scrapy-redis queues them by callback name).

A generation is configured, not subclassed, per portal: ``StaticList(list_items="ul.news > li")``.
Only attributes the class declares may be configured, so a misspelt option fails at start.
"""

from __future__ import annotations

from typing import Iterable

from .base import ArticleSelectors


class Generation:
    name = ""
    # What `recognise` looks for, in words, for the `listing_unrecognised` message.
    looks_for = ""
    # The article templates of this generation, tried in order on its article pages.
    articles: tuple[ArticleSelectors, ...] = ()
    # With `-a render=splash`: CSS that matches once a rendered listing of this generation is ready.
    render_wait_for: str | None = None
    # Where a portal names no generations, all are tried, most specific first: generations
    # recognised by a script or an API come before those that only see entries in the HTML.
    recognition_order = 50

    def __init__(self, **config):
        for key, value in config.items():
            if key.startswith("_") or not hasattr(type(self), key):
                raise TypeError(f"{type(self).__name__} has no option {key!r}")
            setattr(self, key, value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def recognise(self, response) -> bool:
        """Whether ``response`` (a listing URL's page) is a listing of this generation."""
        raise NotImplementedError

    def parameters(self, response) -> dict:
        """What this generation reads off a recognised listing page (column, unit, site ids …),
        for people: ``scrapy portal add`` prints it, the log names it."""
        return {}

    def start(self, spider, response) -> Iterable:
        """The requests (and entries) of a recognised listing page."""
        raise NotImplementedError

    def request(self, spider, url: str, step: str, **kwargs):
        """A follow-up listing request handled by this generation's method ``step``."""
        meta = {**kwargs.pop("meta", {}), "generation": self.name, "step": step}
        return spider.listing_request(url, callback=spider.parse_listing, meta=meta, **kwargs)
