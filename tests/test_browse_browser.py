"""`scrapy browse` in a real browser: Debian's headless Chromium driven by Playwright.

The store is filled by real crawls of the replica (PORTAL_MIRROR), as a user's would be.  The
browser searches from Datasette's own search box, opens a meeting, follows its link to the
portal (the replica stands in for the portal hosts as the browser's proxy, as it does for
Splash), finds the dashboard's charts drawn and reads the Atom feed.  A second crawl while
browse runs must show in search, facets and the feed without a restart.  Screenshots go to
the test's tmp dir.  Skipped only outside CI when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.replica import build_site
from crawler.replica.process import running_replica
from tests.test_browse import parse_feed, running_browse
from tests.test_browse_search import like_ids

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARTICLES, SEED = 40, 11
FIRST, SECOND = "laishan", "zhanqian"
CANDIDATES = ["营商", "招商", "疫情", "养老", "教育", "安全", "医疗", "防汛", "生态", "环境", "民生", "项目"]


def _browser_available() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        return f"playwright not installed: {e}"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def chromium():
    missing = _browser_available()
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the browser test must run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def crawl(name: str, origin: str) -> None:
    cmd = [str(Path(sys.executable).parent / "scrapy"), "crawl", name, "-s", f"PORTAL_MIRROR={origin}",
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "LOG_LEVEL=WARNING"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def two_character_word() -> str:
    """A word in some meetings of both portals (not all), few enough for one result page."""
    site = build_site(articles=ARTICLES, seed=SEED)
    texts = {p: [f"{i['title']}\n{i['body']}" for i in site.expected_items(p) if isinstance(i["body"], str)]
             for p in (FIRST, SECOND)}
    for word in CANDIDATES:
        hits = {p: sum(word in t for t in ts) for p, ts in texts.items()}
        if all(0 < n < len(texts[p]) for p, n in hits.items()) and sum(hits.values()) <= 100:
            return word
    raise AssertionError("no candidate word discriminates the replica's meetings")


def shown_ids(page) -> set[int]:
    return {int(t) for t in page.locator("table.rows-and-columns tbody td.col-id a").all_inner_texts()}


def search(page, origin: str, word: str, shots: Path, name: str) -> set[int]:
    page.goto(f"{origin}/meetings/meetings")
    page.fill("input#_search", word)
    with page.expect_navigation():
        page.press("input#_search", "Enter")
    assert "_search=" in page.url
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    return shown_ids(page)


def test_browse_in_chromium(chromium, tmp_path, _isolated_meetings_db):
    store = Path(_isolated_meetings_db.removeprefix("sqlite:///"))
    shots = tmp_path / "screenshots"
    shots.mkdir()
    word = two_character_word()
    with running_replica(articles=ARTICLES, seed=SEED) as replica:
        crawl(FIRST, replica)
        # The replica is the browser's proxy: portal links open the replica's copy of the portal.
        browser = chromium.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-dev-shm-usage"],
            proxy={"server": replica, "bypass": "127.0.0.1,localhost"},  # browse itself: direct
        )
        try:
            with running_browse() as origin:  # the store of MEETINGS_DB, as a user runs it
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)

                # 1. a two-character word typed into Datasette's search box
                expected = like_ids(conn, word)
                assert 0 < len(expected) < conn.execute("SELECT count(*) FROM meetings").fetchone()[0]
                assert search(page, origin, word, shots, "1-search") == expected

                # 2. one meeting, then its link to the portal
                first = page.locator("table.rows-and-columns tbody td.col-id a").first
                meeting_id = int(first.inner_text())
                title, url = conn.execute("SELECT title, url FROM meetings WHERE id = ?", (meeting_id,)).fetchone()
                with page.expect_navigation():
                    first.click()
                assert page.locator("td.col-title").inner_text().strip() == title
                page.screenshot(path=str(shots / "2-meeting.png"), full_page=True)
                with page.expect_navigation():
                    page.locator("td.col-url a").click()
                assert page.url == url
                assert title in page.content()
                page.screenshot(path=str(shots / "3-portal.png"), full_page=True)

                # 3. the dashboard's charts, drawn from the store
                page.goto(f"{origin}/-/dashboards/meetings")
                for chart in ("per-month", "run-pages", "run-new", "run-health"):
                    marks = page.locator(f"#chart-{chart} svg [class*='mark-'] path")
                    marks.first.wait_for(timeout=30_000)
                    assert marks.count() > 0, chart
                page.screenshot(path=str(shots / "4-dashboard.png"), full_page=True)

                # 4. the Atom feed
                response = page.request.get(f"{origin}/meetings/newest_meetings.atom")
                assert response.ok and "xml" in response.headers["content-type"]
                feed = parse_feed(response.body())
                newest = [r[0] for r in conn.execute(
                    "SELECT url FROM meetings ORDER BY first_seen DESC, published_at DESC, id DESC LIMIT 50")]
                assert [e["link"] for e in feed] == newest

                # 5. a second crawl while browse runs: new meetings in search, facets and feed
                before = conn.execute("SELECT count(*) FROM meetings").fetchone()[0]
                crawl(SECOND, replica)
                new = conn.execute("SELECT count(*) FROM meetings WHERE portal = ?", (SECOND,)).fetchone()[0]
                assert new > 0 and conn.execute("SELECT count(*) FROM meetings").fetchone()[0] == before + new
                expected_now = like_ids(conn, word)
                assert expected_now > expected
                assert search(page, origin, word, shots, "5-search-after-crawl") == expected_now
                # the portal facet counts the matches per portal, the new portal's among them
                matches_new = conn.execute(
                    f"SELECT count(*) FROM meetings WHERE portal = ? AND id IN ({','.join('?' * len(expected_now))})",
                    (SECOND, *expected_now)).fetchone()[0]
                assert matches_new > 0
                facet = page.locator(".facet-info[data-column='portal'] li").all_inner_texts()
                assert any(t.split() == [SECOND, f"{matches_new:,}"] for t in facet), facet
                feed = parse_feed(page.request.get(f"{origin}/meetings/newest_meetings.atom?portal={SECOND}").body())
                assert feed and {e["author"] for e in feed} == {SECOND}
                page.goto(f"{origin}/-/dashboards/meetings")
                page.locator("#chart-run-new svg [class*='mark-'] path").first.wait_for(timeout=30_000)
                page.screenshot(path=str(shots / "6-dashboard-after-crawl.png"), full_page=True)
        finally:
            browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-search.png", "2-meeting.png", "3-portal.png", "4-dashboard.png",
        "5-search-after-crawl.png", "6-dashboard-after-crawl.png"]
