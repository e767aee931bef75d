"""A wrong charset header plus one bad byte (crawler.runtime.middlewares.CharsetCheckMiddleware).

The replica's ``charset_badbyte`` fault serves affected articles as GB18030 bytes (yingkou's
own GBK; zhanqian's UTF-8 text re-encoded) under ``charset=utf-8``, with one byte that no
charset decodes.  No strict decode fits, so the page must be read in the candidate with the
fewest bad bytes — GB18030, one U+FFFD — not as UTF-8 mojibake; the run warns; a complete
clean run then updates the same records (one record per meeting).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.runtime.middlewares import CharsetCheckMiddleware
from crawler.replica import build_site
from crawler.replica.compare import mismatches
from crawler.replica.faults import apply_faults
from crawler.replica.process import running_replica
from crawler.store import Store

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
TEXT = "<html><head><title>{t}</title></head><body><p>{t}，会议听取了全区防汛准备情况汇报。</p></body></html>"


def read(body: bytes, content_type: str):
    crawler = get_crawler()
    mw = CharsetCheckMiddleware.from_crawler(crawler)
    crawler.stats.open_spider()
    response = HtmlResponse("http://www.example.gov.cn/a.html", body=body,
                            headers={"Content-Type": content_type})
    out = mw.process_response(None, response)
    return out, crawler.stats.get_stats()


def test_gb_page_declared_utf8_with_one_bad_byte_reads_as_gb18030_with_one_replacement():
    page = TEXT.format(t="区政府第五次常务会议").encode("gb2312")
    i = page.index(b"</p>")
    out, stats = read(page[:i] + b"\xff" + page[i:], "text/html; charset=utf-8")
    assert out.encoding == "gb18030"
    assert out.css("p::text").get() == "区政府第五次常务会议，会议听取了全区防汛准备情况汇报。\ufffd"
    assert out.text.count("\ufffd") == 1
    assert stats["charset/bad_bytes"] == 1 and stats["charset/bad_pages"] == 1


def test_utf8_page_with_one_bad_byte_stays_utf8():
    page = TEXT.format(t="镇政府专题会议").encode("utf-8")
    i = page.index(b"</p>")
    out, stats = read(page[:i] + b"\xff" + page[i:], "text/html; charset=gbk")
    assert out.encoding == "utf-8" and out.text.count("\ufffd") == 1
    assert stats["charset/bad_bytes"] == 1


@pytest.mark.parametrize("declared,encoded,expected", [
    ("utf-8", "gbk", "gb18030"),  # a strict fit is a correction, not a bad byte
    ("gb2312", "utf-8", "utf-8"),
    ("utf-8", "utf-8", "utf-8"),
])
def test_strict_fits_are_corrections(declared, encoded, expected):
    out, stats = read(TEXT.format(t="区政府全体会议").encode(encoded), f"text/html; charset={declared}")
    assert out.encoding == expected
    assert "charset/bad_bytes" not in stats
    assert "区政府全体会议" in out.text


def test_bom_and_meta_are_candidates():
    page = b'<html><head><meta charset="gbk"></head><body><p>' + "县政府常务会议".encode("gbk") + b"\x80\xff</p>"
    out, stats = read(page, "text/html; charset=utf-8")
    assert out.encoding == "gb18030" and "县政府常务会议" in out.text


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    base = tmp_path_factory.mktemp("charset")
    portals = ("yingkou", "zhanqian")
    faults = {p: "charset_badbyte" for p in portals}
    out = {}

    def crawl(origin, portal, *args):
        db = f"sqlite:///{base}/{portal}.db"
        return subprocess.Popen([SCRAPY, "crawl", portal, "-s", f"PORTAL_MIRROR={origin}", "-s", f"MEETINGS_DB={db}",
                                 "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", *args],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True), db

    for phase, fault in (("fault", faults), ("clean", None)):
        with running_replica(15, 3, faults=fault) as origin:
            procs = {p: crawl(origin, p, *(("-a", "full=1") if phase == "clean" else ())) for p in portals}
            for p, (proc, db) in procs.items():
                _, err = proc.communicate(timeout=180)
                assert proc.returncode == 0, err[-3000:]
                store = Store(db)
                try:
                    out[p, phase] = {"items": list(store.iter_items()), "stats": store.runs()[-1]["stats"], "log": err}
                finally:
                    store.close()
    return out


@pytest.mark.parametrize("portal", ["yingkou", "zhanqian"])
def test_crawl_reads_the_bad_byte_pages_as_gb18030_and_warns(crawled, portal):
    site = build_site(15, 3)
    hook = apply_faults(build_site(15, 3), {portal: "charset_badbyte"})[portal]
    expected = {e["url"]: e for e in site.expected_items(portal)}
    fault, clean = crawled[portal, "fault"], crawled[portal, "clean"]
    assert {i["url"] for i in fault["items"]} == set(expected)
    replaced = 0
    for item in fault["items"]:
        text = "".join(str(v) for v in item.values() if v)
        replaced += text.count("\ufffd")
        cleaned = {k: v.replace("\ufffd", "") if isinstance(v, str) else v for k, v in item.items()}
        # exact except for the one replacement: no mojibake
        assert mismatches(cleaned, expected[item["url"]]) in ([], {}, None, ""), item["url"]
        if item["url"] not in hook.affected:
            assert "\ufffd" not in text
    assert replaced <= len(hook.affected)  # the byte may fall outside the fields read
    stats = fault["stats"]
    assert stats["charset/bad_bytes"] == stats["charset/bad_pages"] == len(hook.affected)
    assert stats["health/status"] == "warn"
    assert any(w.startswith("charset") for w in stats["health/warnings"])
    # a complete clean run finds the same meetings: one record each, the replacements gone
    assert sorted(i["url"] for i in clean["items"]) == sorted(expected)
    assert not any("\ufffd" in "".join(str(v) for v in i.values() if v) for i in clean["items"])
    assert clean["stats"].get("store/new", 0) == 0
    assert clean["stats"].get("store/updated", 0) == replaced
