"""Derive the meeting's own fields from the normalised title and body."""

from __future__ import annotations

from itemadapter import ItemAdapter

from crawler.extract import dates, documents, meeting, numerals, people

# Reports name the meeting, its chair and date in their opening; reading only the head
# keeps later mentions (a 第二次 in an agenda item, a chair of another body) out.
_HEAD_PARAGRAPHS = 3


class MeetingFieldsPipeline:
    """meeting_date, doc_type, meeting_kind, meeting_number, term, chair, documents, attendees."""

    # A pure function of the item (no I/O, no state across items, never drops): with
    # PARSE_PROCESSES it runs in the parser worker, right after the parse (crawler/runtime/parsepool.py).
    runs_in_parser = True

    def process_item(self, item):
        adapter = ItemAdapter(item)
        title = adapter.get("title") or ""
        body = adapter.get("body") or ""
        head = "\n".join(body.split("\n")[:_HEAD_PARAGRAPHS])
        published = dates.iso_to_date(adapter.get("published_at"))

        adapter["doc_type"] = meeting.doc_type(title)
        adapter["meeting_kind"] = meeting.meeting_kind(title, head)
        adapter["meeting_number"] = numerals.meeting_number(title) or numerals.meeting_number(head)
        level = numerals.government_level(title, head)
        adapter["term"] = numerals.term(title, level) or numerals.term(head, level)
        adapter["meeting_date"] = dates.meeting_date(body, published)
        # The chair is named in the opening, else the title; a commentary may name it later.
        adapter["chair"] = people.chair(head, title, body[len(head):])
        adapter["documents"] = documents.documents(body)
        adapter["attendees"] = people.attendees(body)
        return item
