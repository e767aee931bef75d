"""crawlall over several crawl processes (crawler/ops/shards.py): the same records, summary,
runs and log as in one process; a shard that dies fails its portals, never silently."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.settings import Settings

from crawler.ops.shards import passed_settings, process_count, split
from crawler.replica import build_site
from crawler.replica.compare import mismatches
from crawler.replica.extra import registry_toml
from crawler.replica.process import running_replica
from crawler.store import Store
from tests.test_crawlall import on_a_terminal

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
PORTALS, ARTICLES, SEED = 6, 8, 3


@pytest.mark.parametrize("setting, portals, cpus, expected", [
    (0, 5, 2, 1),      # the project's five portals: one process, as ever
    (0, 100, 2, 2),    # a hundred on two cores: one a core
    (0, 100, 8, 5),    # ... at most one per CRAWLALL_PORTALS_PER_PROCESS (20) portals
    (3, 100, 2, 3),    # as many as asked
    (4, 2, 8, 2),      # never more than the portals
])
def test_process_count(monkeypatch, setting, portals, cpus, expected):
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    settings = Settings({"CRAWLALL_PROCESSES": setting, "CRAWLALL_PORTALS_PER_PROCESS": 20})
    assert process_count(settings, portals) == expected


def test_portals_are_dealt_out_in_turn():
    assert split(list("abcdefg"), 3) == [["a", "d", "g"], ["b", "e"], ["c", "f"]]
    assert split(["a"], 2) == [["a"]]


def test_a_shard_gets_the_command_line_settings_back_as_they_were():
    settings = Settings({"DOWNLOAD_DELAY": 0.25})
    settings.set("PORTAL_START_URLS", {"p001": ["http://www.p001.example.gov.cn/a/"]}, priority="cmdline")
    settings.set("MEETINGS_DB", "sqlite:////tmp/m.db", priority="cmdline")
    args = passed_settings(settings)
    assert "DOWNLOAD_DELAY=0.25" not in " ".join(args)  # the project's own: the shard reads them itself
    again = Settings()
    for name, value in (a.split("=", 1) for a in args[1::2]):
        again.set(name, value, priority="cmdline")
    assert again.getdict("PORTAL_START_URLS") == {"p001": ["http://www.p001.example.gov.cn/a/"]}
    assert again.get("MEETINGS_DB") == "sqlite:////tmp/m.db"


@pytest.fixture(scope="module")
def extra():
    site = build_site(articles=ARTICLES, seed=SEED, extra_portals=PORTALS)
    with running_replica(articles=ARTICLES, seed=SEED, extra_portals=PORTALS) as origin:
        yield origin, site


def crawlall_cmd(origin, site, tmp_path, *more):
    reg = tmp_path / "extra.toml"
    reg.write_text(registry_toml(site.extras), encoding="utf-8")
    return [SCRAPY, "crawlall", "--only", ",".join(site.extras), "-s", f"PORTAL_REGISTRY={reg}",
            "-s", f"PORTAL_MIRROR={origin}", "-s", f"MEETINGS_DB=sqlite:///{tmp_path}/m.db",
            "-s", "AUTOTHROTTLE_ENABLED=0", "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/lock",
            "-s", f"CRAWLALL_LOG_FILE={tmp_path}/run-%H%M%S.log", "-s", "CRAWLALL_PROCESSES=2", *more]


def test_two_crawl_processes_store_every_portal_exactly_and_report_as_one(extra, tmp_path):
    origin, site = extra
    result = subprocess.run(crawlall_cmd(origin, site, tmp_path, "-s", "DOWNLOAD_DELAY=0", "--no-progress"),
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"crawlall: ok — {PORTALS} portal(s) healthy (exit 0)" in result.stdout
    store = Store(f"sqlite:///{tmp_path}/m.db")
    try:
        stored: dict[str, dict] = {}
        for item in store.iter_items():
            stored.setdefault(item["portal"], {})[item["url"]] = item
        runs = store.runs()
    finally:
        store.close()
    for name, portal in site.extras.items():
        expected = {e["url"]: e for e in portal.expected_items()}
        assert set(stored.get(name, {})) == set(expected), name
        assert {u: p for u, i in stored[name].items() if (p := mismatches(i, expected[u]))} == {}, name
    # One run row per portal, each with the parent's summary and verdict.
    assert sorted(r["spider"] for r in runs) == sorted(site.extras)
    assert {r["stats"]["crawlall"]["health"] for r in runs} == {"ok"}
    # One log file for the run: both shards' crawls and the parent's summary.
    (log,) = tmp_path.glob("run-*.log")
    text = log.read_text(encoding="utf-8")
    assert f"{PORTALS} portal(s) in 2 crawl processes" in text
    assert text.count("Spider opened") == PORTALS and "run summary" in text


def test_a_killed_crawl_process_fails_its_portals_and_the_run(extra, tmp_path):
    origin, site = extra
    proc = subprocess.Popen(crawlall_cmd(origin, site, tmp_path, "-s", "DOWNLOAD_DELAY=0.5", "--no-progress"),
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        shard = None
        for _ in range(300):
            found = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "shard-report"],
                                   capture_output=True, text=True).stdout.split()
            if len(found) == 2:
                shard = int(found[0])
                break
            time.sleep(0.1)
        assert shard, "no crawl process started"
        time.sleep(2)
        cmdline = Path(f"/proc/{shard}/cmdline").read_bytes().split(b"\0")
        killed = cmdline[cmdline.index(b"--only") + 1].decode().split(",")
        os.kill(shard, signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, out[-2000:] + err[-2000:]
    verdict = out.strip().splitlines()[-1]
    assert verdict.startswith("crawlall: FAILED") and all(f"{name} [finish_reason]" in verdict for name in killed)
    assert "ended without its report" in err
    assert all(f"FAIL {name} finish_reason: its crawl process ended without a report" in out for name in killed)
    # The others finished, healthy; the lock is free again.
    others = set(site.extras) - set(killed)
    rows = {line.split()[0]: line.split()[-1] for line in out.splitlines() if line.split()[:1] and
            line.split()[0] in site.extras}
    assert {rows[n] for n in others} == {"OK"} and {rows[n] for n in killed} == {"FAIL"}
    again = subprocess.run([SCRAPY, "crawlall", "--only", "laishan", "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/lock",
                            "-s", "MEETINGS_DB=", "-s", "PORTAL_MIRROR=http://127.0.0.1:9", "-s", "RETRY_ENABLED=0",
                            "-s", "CRAWLALL_LOG_FILE=", "--no-progress"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)
    assert again.returncode != 3, again.stderr[-1000:]


def test_the_progress_display_shows_the_portals_of_every_crawl_process(extra, tmp_path):
    origin, site = extra
    cmd = crawlall_cmd(origin, site, tmp_path, "-s", "DOWNLOAD_DELAY=0", "-s", "CRAWLALL_PROGRESS_INTERVAL=0.05")
    code, tty, stdout = on_a_terminal(cmd)
    assert code == 0, tty[-3000:]
    assert f"crawlall: {PORTALS} portal(s) in 2 processes" in tty
    for name, portal in site.extras.items():
        n = len(portal.expected_items())
        assert re.search(rf"{name}\s.*\d+ listing pages\s+{n}/{n} articles\s+{n} items\s+0 errors\s+\d+:\d\d ok",
                         tty), (name, tty[-3000:])
    assert "[scrapy.core.engine] INFO" not in tty
    assert f"crawlall: ok — {PORTALS} portal(s) healthy (exit 0)" in stdout.decode()
