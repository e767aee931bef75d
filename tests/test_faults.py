"""Fault tolerance: every replica fault mode (crawler/replica/faults.py) against the real spiders.

Three replicas serve one fault per portal each; every spider crawls its faulty portal into its
own SQLite store (`scrapy crawl NAME -s PORTAL_MIRROR=… -s MEETINGS_DB=sqlite:///…`, all at
once), then once more against a clean replica into the same store.  For every mode: what
should be retried is, what is dropped is logged and counted, nothing partial or garbled is
stored (every stored item matches the replica's expected item, no U+FFFD, integrity_check ok),
and the clean run completes the set.  SIGKILL mid-run: tests/test_incremental.py
(test_killed_mid_crawl_leaves_consistent_store_and_next_run_completes).
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.replica import build_site
from crawler.replica.compare import mismatches
from crawler.replica.faults import OFFSITE_HOST, apply_faults, parse_spec
from crawler.replica.process import running_replica
from crawler.store import Store

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
ARTICLES, SEED = 15, 3
SLOW_MS = 10000
REPLICAS = [
    {"yingkou": "http503:1", "beipiao": f"slow:{SLOW_MS}", "laishan": "reset", "zhanqian": "truncated",
     "jining": "malformed"},
    {"yingkou": "charset", "beipiao": "empty", "laishan": "http500:1", "zhanqian": "charset",
     "jining": "redirect_loop"},
    {"yingkou": "oversized", "beipiao": "offsite", "laishan": "layout_changed", "zhanqian": "layout_changed",
     "jining": "http404"},
]
# Short but not flaky on a loaded 2-core machine: a healthy page takes milliseconds.
SETTINGS = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_TIMEOUT": 4, "RETRY_TIMES": 1,
            "CONCURRENT_REQUESTS_PER_DOMAIN": 8}


def crawl_cmd(name: str, origin: str, db: str) -> list[str]:
    cmd = [SCRAPY, "crawl", name, "-s", f"PORTAL_MIRROR={origin}", "-s", f"MEETINGS_DB={db}"]
    for k, v in SETTINGS.items():
        cmd += ["-s", f"{k}={v}"]
    return cmd


def run_all(jobs: dict, timeout: float = 120) -> dict:
    procs = {key: subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for key, cmd in jobs.items()}
    logs = {}
    for key, proc in procs.items():
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        assert proc.returncode == 0, f"{key}: exit {proc.returncode}\n{err[-3000:]}"
        logs[key] = err
    return logs


def snapshot(db: str) -> dict:
    path = db.removeprefix("sqlite:///")
    con = sqlite3.connect(path)
    try:
        integrity = con.execute("pragma integrity_check").fetchone()[0]
    finally:
        con.close()
    store = Store(db)
    try:
        return {"items": list(store.iter_items()), "stats": store.runs()[-1]["stats"], "integrity": integrity}
    finally:
        store.close()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """{(portal, mode): {"fault": …, "clean": …, "affected": [urls], "expected": {url: item}}}"""
    base = tmp_path_factory.mktemp("faults")
    site = build_site(ARTICLES, SEED)
    out, jobs = {}, {}
    with contextlib.ExitStack() as stack:
        origins = [stack.enter_context(running_replica(ARTICLES, SEED, faults=faults)) for faults in REPLICAS]
        for i, (faults, origin) in enumerate(zip(REPLICAS, origins)):
            hooks = apply_faults(build_site(ARTICLES, SEED), faults)
            for portal, spec in faults.items():
                key = (portal, spec.partition(":")[0])
                db = f"sqlite:///{base}/{portal}-{i}.db"
                out[key] = {"db": db, "affected": hooks[portal].affected,
                            "expected": {e["url"]: e for e in site.expected_items(portal)}}
                jobs[key] = crawl_cmd(portal, origin, db)
        logs = run_all(jobs)
    for key, log in logs.items():
        out[key]["log"] = log
        out[key]["fault"] = snapshot(out[key]["db"])
    # The clean run, where the faulty one left something out (else it would only re-read listings).
    again = {key for key, r in out.items() if len(r["fault"]["items"]) < len(r["expected"])}
    with running_replica(ARTICLES, SEED) as origin:
        run_all({key: crawl_cmd(key[0], origin, out[key]["db"]) for key in again})
    for key, r in out.items():
        r["clean"] = snapshot(r["db"]) if key in again else r["fault"]
    return out


ALL_MODES = [(portal, parse_spec(f"{portal}={spec}")[1]) for faults in REPLICAS for portal, spec in faults.items()]


def check_stored(r: dict, phase: str) -> set:
    """Every stored item is a replica meeting, field-exact, with no U+FFFD; returns the URLs."""
    snap = r[phase]
    assert snap["integrity"] == "ok"
    urls = [i["url"] for i in snap["items"]]
    assert len(urls) == len(set(urls)), "duplicate records"
    assert set(urls) <= set(r["expected"]), "records that are not replica meetings"
    problems = {i["url"]: mismatches(i, r["expected"][i["url"]]) for i in snap["items"]}
    assert {u: p for u, p in problems.items() if p} == {}, "partial or garbled records"
    for item in snap["items"]:
        for field in ("title", "body", "chair", "source"):
            assert "\ufffd" not in (item.get(field) or ""), (item["url"], field)
    return set(urls)


@pytest.mark.parametrize("portal,mode", ALL_MODES, ids=[f"{p}-{m}" for p, m in ALL_MODES])
def test_nothing_partial_is_stored_and_a_clean_run_completes(results, portal, mode):
    r = results[(portal, mode)]
    check_stored(r, "fault")
    assert check_stored(r, "clean") == set(r["expected"])
    if r["clean"] is not r["fault"]:
        assert r["clean"]["stats"].get("store/new", 0) == len(r["expected"]) - len(r["fault"]["items"])


@pytest.mark.parametrize("portal,mode", [k for k in ALL_MODES if k[1] in ("http500", "http503")])
def test_error_bursts_are_retried_and_nothing_is_lost(results, portal, mode):
    r = results[(portal, mode)]
    s = r["fault"]["stats"]
    assert check_stored(r, "fault") == set(r["expected"])
    code = mode[4:]
    # every path fetched (listing pages, articles; not robots.txt) failed once, then answered
    paths = s["downloader/response_status_count/200"] - s.get("robotstxt/response_count", 0)
    assert s[f"downloader/response_status_count/{code}"] == paths
    assert s[f"retry/reason_count/{code} {'Internal Server Error' if code == '500' else 'Service Unavailable'}"] == paths
    assert "retry/max_reached" not in s


@pytest.mark.parametrize("portal,mode,error,retried", [
    ("beipiao", "slow", "DownloadTimeoutError", True),
    ("laishan", "reset", "DownloadFailedError", True),
    ("zhanqian", "truncated", "ResponseDataLossError", True),
    ("yingkou", "oversized", "DownloadCancelledError", False),
])
def test_failed_article_downloads_are_retried_dropped_logged_and_counted(results, portal, mode, error, retried):
    r = results[(portal, mode)]
    s = r["fault"]["stats"]
    affected = set(r["affected"])
    assert len(affected) >= 3
    assert check_stored(r, "fault") == set(r["expected"]) - affected
    attempts = SETTINGS["RETRY_TIMES"] + 1 if retried else 1
    assert s[f"downloader/exception_type_count/scrapy.exceptions.{error}"] == attempts * len(affected)
    if retried:
        assert s["retry/max_reached"] == len(affected)
        assert r["log"].count("Gave up retrying") == len(affected)
    else:
        assert not any(k.endswith("DownloadCancelledError") for k in s if k.startswith("retry/"))
        assert r["log"].count("WARNING: Expected to receive") == len(affected)
    assert s["log_count/ERROR"] >= len(affected)


def test_oversized_response_is_bounded_by_download_maxsize(results):
    from settings import base

    assert 0 < base.DOWNLOAD_MAXSIZE < 9 * 1024 * 1024 <= 64 * 1024 * 1024
    assert "8388608" in results[("yingkou", "oversized")]["log"]


@pytest.mark.parametrize("portal,mode", [("jining", "malformed"), ("yingkou", "charset"), ("zhanqian", "charset")])
def test_broken_markup_and_wrong_charset_still_give_exact_records(results, portal, mode):
    r = results[(portal, mode)]
    assert check_stored(r, "fault") == set(r["expected"])
    if mode == "charset":
        assert r["fault"]["stats"]["charset/corrected"] == len(r["affected"])
        assert r["log"].count("declares") == len(r["affected"])


@pytest.mark.parametrize("portal,mode,stat", [
    ("beipiao", "empty", "listing/empty_pages"),
    ("laishan", "layout_changed", "listing/empty_pages"),
    ("zhanqian", "layout_changed", "listing/layout_errors"),
])
def test_empty_or_changed_listing_is_reported(results, portal, mode, stat):
    r = results[(portal, mode)]
    s = r["fault"]["stats"]
    assert r["fault"]["items"] == []
    assert s.get("listing/entries", 0) == 0
    if portal == "beipiao":
        # The start page itself lists nothing: no generation recognises it, and the message
        # says what was looked for.
        assert s["listing/unrecognised"] == 1
        assert "listing_unrecognised" in r["log"] and "ul.news-list > li" in r["log"]
        return
    assert s[stat] >= 1
    assert ("listing page with no entries" in r["log"]) or ("not understood" in r["log"])


@pytest.mark.parametrize("portal,mode,stat", [
    ("jining", "http404", "httperror/response_ignored_status_count/404"),
    ("jining", "redirect_loop", "redirect/max_reached"),
])
def test_one_bad_article_is_dropped_and_counted(results, portal, mode, stat):
    r = results[(portal, mode)]
    assert len(r["affected"]) == 1
    assert check_stored(r, "fault") == set(r["expected"]) - set(r["affected"])
    assert r["fault"]["stats"][stat] == 1
    if mode == "redirect_loop":
        assert "redirect loop" in r["log"]


def test_requests_never_leave_the_portal_hosts(results):
    r = results[("beipiao", "offsite")]
    s = r["fault"]["stats"]
    assert check_stored(r, "fault") == set(r["expected"])
    pages = s["listing/pages"]
    # one foreign link per listing page, every one filtered before the download
    assert s["offsite/filtered"] == pages and s["offsite/domains"] == 1
    assert s["listing/meetings"] == len(r["expected"]) + pages
    assert all(OFFSITE_HOST not in i["url"] for i in r["fault"]["items"])
    # Accounted for: a listing link to another host is the portal's doing, a warning.
    assert s["ledger/article/lost/offsite_link"] == pages
    assert any(w.startswith(f"articles_lost: {pages} of ") for w in s["health/warnings"]), s["health/warnings"]
    assert s["health/status"] == "warn" and s["listing/walk_complete"] is True
    assert s["downloader/request_count"] == s["portal_mirror/requests"]


# --- the fault hooks themselves, in process (fast) ------------------------------------------------


def _listing_requests(portal: str, faults: dict | None):
    """Article requests a spider makes from the portal's first listing page, through the hooks."""
    from scrapy import Request

    from crawler.runtime.offline import OfflineParser
    from crawler.replica.common import Response

    site = build_site(ARTICLES, SEED)
    apply_faults(site, faults)
    url = site.list_urls(portal)
    parts = url.split("/", 3)
    path, _, query = ("/" + parts[3]).partition("?")
    name, resp = site.handle(parts[2], "GET", path, query, b"", {})
    verdict = site.faults[name](name, "GET", path) if site.faults.get(name) else None
    if isinstance(verdict, dict) and verdict.get("transform"):
        resp = verdict["transform"](resp)
    assert isinstance(resp, Response) and resp.status == 200
    parser = OfflineParser(portal)
    response = parser.response(url, resp.body, dict(resp.headers), request=Request(url, meta={"role": "listing"}))
    return [r for r in parser.spider.parse(response) if isinstance(r, Request) and r.meta.get("role") == "article"]


@pytest.mark.parametrize("portal", ["yingkou", "beipiao", "laishan", "jining"])
@pytest.mark.parametrize("mode", ["layout_changed", "empty"])
def test_listing_faults_leave_a_spider_no_entries(portal, mode):
    assert len(_listing_requests(portal, None)) >= 5
    assert _listing_requests(portal, {portal: mode}) == []


def test_zhanqian_api_answer_changes_shape():
    import json

    from crawler.replica.faults import make_fault

    site = build_site(ARTICLES, SEED)
    body = json.dumps({"params": {"pageIndex": 0, "pageSize": 15, "deptcode": "zqqrmzf",
                                  "siteGuid": "b3a7e2c4-6f19-4d8b-a0e5-7c2f91d4b836",
                                  "categorynum": "001003005"}}).encode()
    path = "/EWB-FRONT/rest/lightfrontaction/getgovinfolist"
    _, resp = site.handle("www.ykzq.gov.cn", "POST", path, "", body, {})
    assert json.loads(resp.body)["custom"]["data"]
    for mode, check in (("layout_changed", lambda d: "custom" not in d),
                        ("empty", lambda d: d["custom"] == {"data": [], "total": 0})):
        verdict = make_fault(site, "zhanqian", mode)("zhanqian", "POST", path)
        assert check(json.loads(verdict["transform"](resp).body))


def test_fault_specs():
    site = build_site(ARTICLES, SEED)
    assert parse_spec("yingkou=http503:3") == ("yingkou", "http503", "3")
    hooks = apply_faults(site, ["yingkou=http503:3", "laishan=slow"])
    assert hooks["yingkou"].count == 3 and hooks["laishan"].delay_ms == 5000
    with pytest.raises(ValueError):
        apply_faults(site, {"laishan": "nonsense"})
    with pytest.raises(ValueError):
        parse_spec("laishan")
