"""Static list pages: entries in the HTML, a pager that links (or names) the next page.

Most portals of the TRS/Hanweb-static generation look like this; a portal is a subclass
that names its entry nodes, their date node, and how its pager points to the next page.
"""

from __future__ import annotations

from .base import Entry, MeetingSpider


class StaticListSpider(MeetingSpider):
    list_items: str  # CSS of one entry node; its first `a` is the article link
    list_date: str  # CSS (relative to the entry) of the printed date, e.g. "span.date::text"
    next_page_xpath: str | None = None  # XPath of the next page's href, where the pager links it

    def parse(self, response):
        next_url = self.next_page_url(response)
        yield from self.follow_page(response, self.list_entries(response),
                                    lambda: self.listing_request(next_url, base=response.url) if next_url else None)

    def list_entries(self, response):
        for node in response.css(self.list_items):
            link = node.css("a")[:1]
            href = link.attrib.get("href") if link else None
            if href:
                # @title holds the full title; the anchor text is often cut with "...".
                title = link.attrib.get("title") or link.xpath("string()").get()
                yield Entry(url=href, title=title, date=node.css(self.list_date).get())

    def next_page_url(self, response) -> str | None:
        return response.xpath(self.next_page_xpath).get() if self.next_page_xpath else None
