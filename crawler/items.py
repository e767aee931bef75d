"""The meeting item: the one contract shared by spiders, pipelines, the store and the feeds.

Field names and formats are those of ``crawler/replica/portals/SCHEMA.md``.  Spiders fill
the fields a page prints (as printed); the processing pipelines turn them into the contract
(ISO dates, numbers, Simplified text) and derive the meeting fields from title and body.
"""

import scrapy

# Order matters: it is the column order of CSV exports and of the store.
FIELDS = (
    "portal",
    "url",
    "title",
    "published_at",
    "meeting_date",
    "doc_type",
    "meeting_kind",
    "meeting_number",
    "term",
    "chair",
    "source",
    "author",
    "publisher",
    "index_number",
    "written_date",
    "category",
    "breadcrumb",
    "body",
    "documents",
    "attendees",
    "attachments",
    "language",
    "fingerprint",
    "crawled_at",
)

LIST_FIELDS = ("breadcrumb", "documents", "attendees", "attachments")


class MeetingItem(scrapy.Item):
    portal = scrapy.Field()
    url = scrapy.Field()
    title = scrapy.Field()
    published_at = scrapy.Field()
    meeting_date = scrapy.Field()
    doc_type = scrapy.Field()
    meeting_kind = scrapy.Field()
    meeting_number = scrapy.Field()
    term = scrapy.Field()
    chair = scrapy.Field()
    source = scrapy.Field()
    author = scrapy.Field()
    publisher = scrapy.Field()
    index_number = scrapy.Field()
    written_date = scrapy.Field()
    category = scrapy.Field()
    breadcrumb = scrapy.Field()
    body = scrapy.Field()
    documents = scrapy.Field()
    attendees = scrapy.Field()
    attachments = scrapy.Field()
    language = scrapy.Field()
    fingerprint = scrapy.Field()
    crawled_at = scrapy.Field()


assert tuple(MeetingItem.fields) == FIELDS or set(MeetingItem.fields) == set(FIELDS)
