"""A body under construction: paragraphs with the documents and attendees they name."""

from __future__ import annotations

from dataclasses import dataclass, field

from .common import body_text
from .portal import uniq


@dataclass
class Para:
    text: str                     # plain text of the paragraph (what a spider reads)
    style: str = ""               # portal-specific rendering hint: "", "strong", "attach", "sig", "people"
    href: str = ""                # for "attach": the link as written in the page
    name: str = ""                # for "attach": the link text


@dataclass
class Body:
    paras: list[Para] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)

    def add(self, text: str, docs=(), names=(), style: str = "") -> Para:
        p = Para(text, style)
        self.paras.append(p)
        self.docs.extend(docs)
        self.names.extend(names)
        return p

    def attach(self, name: str, href: str, url: str, in_body: bool = True) -> None:
        if in_body:
            self.paras.append(Para("附件:" + name, "attach", href, name))
        self.attachments.append({"name": name, "url": url})

    def text(self) -> str:
        return body_text([p.text for p in self.paras])

    def documents(self) -> list[str]:
        return uniq(self.docs)

    def attendees(self) -> list[str]:
        return uniq(self.names)


def quote_docs(docs: list[str], sep: str = "、") -> str:
    return sep.join(f"《{d}》" for d in docs)
