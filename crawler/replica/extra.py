"""More portals, for crawls of many portals at once: ``--extra-portals N``.

Extra portal ``pNNN`` is one of the five portals, in one of the generations the replica serves,
on its own host (``www.pNNN.example.gov.cn``) with its own content (its own seed: other meetings,
dates and ids), cycling through every portal and generation so that N ≥ 10 covers them all.
``registry_toml`` writes the registry entries (``portals.toml`` format) that crawl them: hosts
and a listing URL, the generation left to be recognised — what ``scrapy portal add`` would write.
"""

from __future__ import annotations

import json

from .common import Response



def extra_name(i: int) -> str:
    return f"p{i + 1:03d}"


def extra_host(name: str) -> str:
    return f"www.{name}.example.gov.cn"


class ExtraPortal:
    """A template portal's site served under another host and name."""

    def __init__(self, template, name: str, host: str, list_url: str):
        self.template, self.name, self.host = template, name, host
        self.generation = template.generation
        self.template_name = template.name
        self._old, self._new = template.host, host
        self.list_url = self._moved(list_url)

    def _moved(self, text: str) -> str:
        return text.replace(self._old, self._new)

    def handle(self, method: str, path: str, query: str, body: bytes, headers: dict) -> Response:
        resp = self.template.handle(method, path, query, body, headers)
        old, new = self._old.encode(), self._new.encode()
        return Response(resp.status, [(k, self._moved(v)) for k, v in resp.headers], resp.body.replace(old, new))

    def expected_items(self) -> list[dict]:
        items = json.loads(self._moved(json.dumps(self.template.expected_items(), ensure_ascii=False)))
        for item in items:
            item["portal"] = self.name
        return items

    def meeting_urls(self) -> list[str]:
        return [self._moved(u) for u in self.template.meeting_urls()]

    def non_meeting_urls(self) -> list[str]:
        return [self._moved(u) for u in self.template.non_meeting_urls()]

    def list_urls(self) -> list[str]:
        return [self.list_url]

    def prerender(self) -> None:
        self.template.prerender()


def registry_entry(extra: ExtraPortal) -> dict:
    entry = {"display_name": f"{extra.name} ({extra.template_name}, {extra.generation} generation, replica)",
             "hosts": [extra.host], "start_urls": extra.list_urls()}
    if extra.template_name == "jining":
        from .sites.jining import CITIES, COUNTIES

        # Like jining's own spider: the channel's county news are not the city's meetings.
        entry["skip_titles"] = [["local_news", f"^(?:{'|'.join(c[:-1] for c in COUNTIES + CITIES)})"]]
    return entry


def registry_toml(extras: dict[str, ExtraPortal]) -> str:
    import tomli_w

    head = ("# Registry of the replica's extra portals (python -m crawler.replica --registry N).\n"
            "# Crawl them: scrapy crawlall -s PORTAL_REGISTRY=portals.toml,THIS_FILE -s PORTAL_MIRROR=…\n\n")
    return head + tomli_w.dumps({"portals": {name: registry_entry(x) for name, x in extras.items()}})
