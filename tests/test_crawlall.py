"""`scrapy crawlall` for cron: lock, exit codes, health checks, summary, progress, log file.

Real crawls of small replicas (articles=20) in subprocesses; the pure parts (health verdicts,
summary table, the lock) are tested in process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.ops.health import FAIL, OK, WARN, evaluate
from crawler.ops.lock import LockHeld, RunLock
from crawler.ops.summary import format_table, portal_summary
from crawler.store import Store

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")
PORTALS = ("beipiao", "jining", "laishan", "yingkou", "zhanqian")


def crawlall(tmp_path, *args, db=None, env=None, **kwargs):
    """Run crawlall with this test's store, lock file and log directory."""
    db = db or f"sqlite:///{tmp_path}/m.db"
    cmd = [SCRAPY, "crawlall", *args, "-s", f"MEETINGS_DB={db}",
           "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/crawlall.lock",
           "-s", f"CRAWLALL_LOG_FILE={tmp_path}/logs/crawlall-%Y%m%d-%H%M%S.log",
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, MEETINGS_DB=db, **(env or {})), **kwargs)


def table_rows(stdout: str) -> dict[str, dict[str, str]]:
    lines = stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("portal "))
    names = lines[head].split()
    rows = {}
    for line in lines[head + 2:]:
        cells = line.split()
        if not cells or cells[0].startswith("-"):
            continue
        if len(cells) != len(names):
            break
        rows[cells[0]] = dict(zip(names, cells))
    return rows


def stored_by_portal(db: str) -> dict[str, set[str]]:
    store = Store(db)
    try:
        out: dict[str, set[str]] = {}
        for item in store.iter_items():
            out.setdefault(item["portal"], set()).add(item["url"])
        return out
    finally:
        store.close()


# --- end to end ------------------------------------------------------------------------------


def test_changed_layout_fails_that_portal_and_stores_the_others(tmp_path):
    from crawler.replica import build_site
    from crawler.replica.process import running_replica

    db = f"sqlite:///{tmp_path}/m.db"
    with running_replica(articles=20, seed=4, faults={"laishan": "layout_changed"}) as origin:
        r = crawlall(tmp_path, "-s", f"PORTAL_MIRROR={origin}", db=db)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out[-3000:]
    assert "FAIL laishan listing_empty" in r.stdout
    assert "crawlall: FAILED — laishan [listing_empty] (exit 1)" in r.stdout
    assert "HEALTH FAIL laishan [listing_empty]" in r.stderr
    # Only laishan failed: one spider's errors do not leak into another's verdict.
    rows = table_rows(r.stdout)
    assert {n: rows[n]["health"] for n in PORTALS} == {n: "FAIL" if n == "laishan" else "OK" for n in PORTALS}
    # No TTY: Scrapy's log lines as ever, no progress display, no carriage returns.
    assert "\r" not in out and "listing pages" not in out and "\x1b" not in out
    assert "[scrapy.core.engine] INFO: Spider closed (finished)" in r.stderr

    site = build_site(articles=20, seed=4)
    stored = stored_by_portal(db)
    assert "laishan" not in stored
    for name in PORTALS:
        if name != "laishan":
            assert stored[name] == set(site.meeting_urls(name)), name

    # The summary printed, the summary stored with each run and the store agree.
    store = Store(db)
    try:
        runs = {run["spider"]: run for run in store.runs()}
    finally:
        store.close()
    assert set(runs) == set(PORTALS)
    for name in PORTALS:
        summary = runs[name]["stats"]["crawlall"]
        assert summary["exit_code"] == 1
        assert int(rows[name]["new"]) == summary["new"] == runs[name]["new"] == len(stored.get(name, ()))
        assert int(rows[name]["articles"]) == summary["articles"]
        assert int(rows[name]["pages"]) == summary["listing_pages"] >= 1
    assert runs["laishan"]["stats"]["health/status"] == FAIL
    assert runs["laishan"]["stats"]["crawlall"]["failed_checks"] == ["listing_empty"]
    assert runs["jining"]["stats"]["health/status"] == OK

    # One log file for the run, holding the log and the summary.
    logs = list((tmp_path / "logs").glob("crawlall-*.log"))
    assert len(logs) == 1
    text = logs[0].read_text("utf-8")
    assert "HEALTH FAIL laishan [listing_empty]" in text and "run summary" in text
    assert summary["log_file"] == str(logs[0])


def test_quiet_day_is_healthy_and_a_second_run_is_locked_out(tmp_path):
    from crawler.replica.process import running_replica

    db = f"sqlite:///{tmp_path}/m.db"
    with running_replica(articles=20, seed=6) as origin:
        first = crawlall(tmp_path, "--only", "laishan,yingkou", "-s", f"PORTAL_MIRROR={origin}", db=db)
        assert first.returncode == 0, (first.stdout + first.stderr)[-3000:]
        assert "crawlall: ok — 2 portal(s) healthy (exit 0)" in first.stdout
        n = sum(map(len, stored_by_portal(db).values()))
        assert n == 40

    # Same site again, slowed down so that the lock is held long enough to be tried.
    with running_replica(articles=20, seed=6, latency_ms=400) as origin:
        cmd_env = dict(os.environ, MEETINGS_DB=db)
        holder = subprocess.Popen(
            [SCRAPY, "crawlall", "--only", "laishan,yingkou", "-s", f"PORTAL_MIRROR={origin}",
             "-s", f"MEETINGS_DB={db}", "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/crawlall.lock",
             "-s", f"CRAWLALL_LOG_FILE={tmp_path}/logs/crawlall-%Y%m%d-%H%M%S-1.log",
             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"],
            cwd=ROOT, env=cmd_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            lock_file = tmp_path / "crawlall.lock"
            deadline = time.monotonic() + 30
            while not (lock_file.exists() and f"pid {holder.pid}" in lock_file.read_text()):
                assert holder.poll() is None and time.monotonic() < deadline, "first run never took the lock"
                time.sleep(0.05)
            # Tried at once, while the run is still fetching (each response takes 400 ms): a
            # second crawlall's own start-up would take longer than the quiet run itself.
            with pytest.raises(LockHeld) as held:
                RunLock(lock_file).acquire()
            assert f"pid {holder.pid}" in held.value.holder
            out, err = holder.communicate(timeout=60)
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.communicate()
        assert not lock_file.read_text(), "the finished run left its claim in the lock file"

    # A run started while another holds the lock exits at once with status 3, naming the holder.
    with RunLock(lock_file):
        second = crawlall(tmp_path, "--only", "laishan", "-s", "PORTAL_MIRROR=http://127.0.0.1:9", db=db)
    assert second.returncode == 3, second.stderr[-2000:]
    assert "another crawlall run holds the lock" in second.stderr
    assert f"pid {os.getpid()}" in second.stderr
    # The quiet day: the listings parse, nothing new, no article fetched — healthy.
    assert holder.returncode == 0, (out + err)[-3000:]
    rows = table_rows(out)
    assert {rows[n]["articles"] for n in ("laishan", "yingkou")} == {"0"}
    assert {rows[n]["health"] for n in ("laishan", "yingkou")} == {"OK"}
    assert sum(map(len, stored_by_portal(db).values())) == 40


def on_a_terminal(cmd, env=None, timeout=90) -> tuple[int, str, bytes]:
    """Run ``cmd`` with stderr on a pseudo-terminal (200 x 50) and stdout on a pipe; returns
    (exit status, what the terminal was sent less its colour/cursor codes, stdout)."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ, **(env or {})), stdout=subprocess.PIPE,
                            stderr=slave)
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([master], [], [], timeout)
            if not ready:
                break
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        stdout, _ = proc.communicate(timeout=timeout)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    tty = b"".join(chunks).decode("utf-8", "replace")
    return proc.returncode, re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", tty), stdout


def test_progress_display_on_a_terminal_and_the_log_in_the_file(tmp_path):
    db = f"sqlite:///{tmp_path}/m.db"
    # One generation per portal, so that every article found is fetched (20/20).
    base = [SCRAPY, "crawlall", "--replica", "--replica-articles", "20", "--replica-generation", "archive",
            "--only", "laishan,jining",
            "-s", f"MEETINGS_DB={db}", "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/crawlall.lock",
            "-s", f"CRAWLALL_LOG_FILE={tmp_path}/logs/crawlall-%Y%m%d-%H%M%S-%f.log",
            "-s", "CRAWLALL_PROGRESS_INTERVAL=0.05"]
    code, tty, stdout = on_a_terminal(base, env={"MEETINGS_DB": db})
    assert code == 0, tty[-2000:]
    # The display: a line per portal with its listing pages, articles, items, errors, verdict.
    for name in ("laishan", "jining"):
        assert re.search(rf"{name}\s.*\d+ listing pages\s+20/20 articles\s+20 items\s+0 errors\s+\d+:\d\d ok", tty), tty[-3000:]
    assert "crawlall: 2 portal(s) from the offline replica · full log: " in tty
    # Not Scrapy's INFO log: that went to the log file.
    assert "[scrapy.core.engine] INFO" not in tty and "Dumping Scrapy stats" not in tty
    (log,) = (tmp_path / "logs").glob("crawlall-*.log")
    text = log.read_text("utf-8")
    assert "[scrapy.core.engine] INFO: Spider closed (finished)" in text and "run summary" in text
    assert "INFO: Scrapy 2." in text and "INFO: Scrapy 2." not in tty  # the start-up banner too
    # The summary on stdout, plain, and where things are.
    out = stdout.decode()
    assert "\r" not in out and "\x1b" not in out
    assert table_rows(out)["laishan"]["new"] == "20"
    assert "stored: 40 meetings in " in out and f"full log: {log}" in out

    # --verbose: the log lines, no display.
    code, tty, stdout = on_a_terminal([*base, "--verbose"], env={"MEETINGS_DB": db})
    assert code == 0, tty[-2000:]
    assert "[scrapy.core.engine] INFO: Spider closed (finished)" in tty
    assert "listing pages" not in tty and "stored: " not in stdout.decode()


def test_scrapy_crawl_on_a_terminal_shows_the_display_and_the_summary(tmp_path):
    from crawler.replica.process import running_replica

    db = f"sqlite:///{tmp_path}/m.db"
    with running_replica(articles=15, seed=3) as origin:
        code, tty, stdout = on_a_terminal(
            [SCRAPY, "crawl", "yingkou", "-s", f"PORTAL_MIRROR={origin}", "-s", f"MEETINGS_DB={db}",
             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0", "-s", "CRAWLALL_PROGRESS_INTERVAL=0.05",
             "-s", f"CRAWL_LOG_FILE={tmp_path}/logs/crawl-{{spider}}.log", "-O", f"{tmp_path}/y.jsonl"],
            env={"MEETINGS_DB": db})
    assert code == 0, tty[-2000:]
    assert re.search(r"yingkou\s.*\d+ listing pages\s+15/15 articles\s+15 items\s+0 errors\s+\d+:\d\d ok", tty), tty
    assert "INFO" not in tty
    assert table_rows(stdout.decode())["yingkou"]["new"] == "15"
    log = tmp_path / "logs" / "crawl-yingkou.log"
    assert f"full log: {log}" in stdout.decode()
    assert "Scrapy 2." in log.read_text("utf-8")  # the whole log, the start-up banner included
    assert len((tmp_path / "y.jsonl").read_text("utf-8").splitlines()) == 15  # feeds as ever


def test_usage_errors_exit_2(tmp_path):
    r = crawlall(tmp_path, "--only", "nosuchportal")
    assert r.returncode == 2
    assert "unknown spider(s): nosuchportal" in r.stderr
    assert not (tmp_path / "logs").exists()


# --- pieces ----------------------------------------------------------------------------------


def test_lock_is_exclusive_and_released(tmp_path):
    path = tmp_path / "sub" / "x.lock"
    with RunLock(path):
        other = RunLock(path)
        with pytest.raises(LockHeld) as e:
            other.acquire()
        assert f"pid {os.getpid()}" in e.value.holder
    with RunLock(path) as again:
        assert again.held


FINE = {"listing/pages": 3, "listing/entries": 45, "article/parsed": 20, "store/new": 20}


def test_health_ok_and_quiet_day():
    assert evaluate(FINE, "finished").status == OK
    quiet = {"listing/pages": 1, "listing/entries": 15, "incremental/skipped_articles": 12}
    assert evaluate(quiet, "finished").status == OK


@pytest.mark.parametrize("stats,reason,check", [
    ({**FINE, "listing/empty_pages": 1}, "finished", "listing_empty"),
    ({**FINE, "listing/layout_errors": 1}, "finished", "listing_layout"),
    ({"listing/pages": 0}, "finished", "listing_none"),
    (FINE, "closespider_timeout", "finish_reason"),
    ({**FINE, "validate/missing/meeting_date": 10}, "finished", "coverage:meeting_date"),
    ({**FINE, "article/parsed": 10, "article/dropped/no_title": 10}, "finished", "coverage:title"),
    ({**FINE, "validate/dropped/missing_published_at": 3}, "finished", "coverage:published_at"),
    ({**FINE, "log_count/ERROR": 2}, "finished", "errors"),
    ({**FINE, "spider_exceptions/ValueError": 1}, "finished", "errors"),
    ({**FINE, "retry/max_reached": 1}, "finished", "errors"),
])
def test_health_failures(stats, reason, check):
    report = evaluate(stats, reason)
    assert report.status == FAIL and check in report.failed_checks, report


def test_health_errors_counted_per_spider_not_per_process():
    report = evaluate({**FINE, "log_count/ERROR": 4}, "finished", errors=0)
    assert report.status == OK


def test_coverage_on_few_articles_only_warns():
    stats = {"listing/pages": 1, "article/parsed": 2, "validate/missing/meeting_date": 1}
    report = evaluate(stats, "finished", min_articles=5)
    assert report.status == WARN and report.warnings[0][0] == "coverage:meeting_date"


def test_stale_portal_warns_from_history():
    now = datetime(2024, 6, 1, tzinfo=timezone.utc)
    quiet = {"listing/pages": 1}
    old = {"last_new": now - timedelta(days=90), "first_run": now - timedelta(days=400)}
    report = evaluate(quiet, "finished", stale_days=60, history=old, now=now)
    assert report.status == WARN and report.warnings[0][0] == "stale"
    recent = {"last_new": now - timedelta(days=3), "first_run": now - timedelta(days=400)}
    assert evaluate(quiet, "finished", stale_days=60, history=recent, now=now).status == OK
    never = {"last_new": None, "first_run": now - timedelta(days=61)}
    assert evaluate(quiet, "finished", stale_days=60, history=never, now=now).status == WARN
    assert evaluate(quiet, "finished", stale_days=60, history={"last_new": None, "first_run": None},
                    now=now).status == OK


def test_portal_history_from_the_runs_table(sqlite_db):
    store = Store(sqlite_db)
    try:
        t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
        run = store.start_run("laishan", now=t0)
        store.finish_run(run, "finished", {}, {"new": 3}, now=t0 + timedelta(minutes=1))
        run = store.start_run("laishan", now=t0 + timedelta(days=1))
        store.finish_run(run, "finished", {}, {}, now=t0 + timedelta(days=1, minutes=1))
        h = store.portal_history("laishan", before=t0 + timedelta(days=2))
        assert h["runs"] == 2 and h["first_run"] == t0 and h["last_new"] == t0 + timedelta(minutes=1)
        assert store.portal_history("laishan", before=t0)["runs"] == 0
        store.update_run_stats(run, {"crawlall": {"new": 0}})
        store.update_run_stats(run, {"other": 1})
        assert store.runs()[-1]["stats"] == {"crawlall": {"new": 0}, "other": 1}
        assert [r["id"] for r in store.runs_since(t0 + timedelta(hours=1), "laishan")] == [run]
    finally:
        store.close()


def test_summary_table():
    stats = {**FINE, "store/new": 18, "store/unchanged": 1, "store/moved": 1, "article/dropped/no_title": 1,
             "dedupe/duplicate_in_run": 2, "elapsed_time_seconds": 75.2, "health/status": "fail",
             "health/failures": ["listing_empty: 1 of 3 listing page(s) parsed zero entries"]}
    row = portal_summary("laishan", stats, "finished")
    assert row["articles"] == 21 and row["updated"] == 1 and row["dropped"] == 3
    assert row["dropped_reasons"] == {"duplicate_in_run": 2, "no_title": 1}
    text = format_table([row, portal_summary("jining", FINE, "finished")])
    assert "\r" not in text
    assert "FAIL laishan listing_empty: 1 of 3" in text
    assert "dropped laishan: duplicate_in_run 2, no_title 1" in text
    assert re.search(r"^laishan\s+3\s+21\s+18\s+1\s+1\s+3\s+0\s+0\s+1:15\s+FAIL$", text, re.M), text
    assert re.search(r"^total\s+6\s+41\s+38\s", text, re.M), text


def test_display_only_on_a_terminal_over_a_console_of_warnings_at_most():
    import io

    from scrapy.settings import Settings

    from crawler.ops.progress import quiet_console, wants_display

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    tty, pipe = Terminal(), io.StringIO()
    settings = Settings({"LOG_LEVEL": "INFO"}, priority="project")
    assert wants_display(settings, stream=tty) and not wants_display(settings, stream=pipe)
    assert not wants_display(settings, verbose=True, stream=tty)
    assert not wants_display(settings, no_progress=True, stream=tty)
    quiet_console(settings)
    assert settings["LOG_LEVEL"] == "ERROR"  # the project's INFO gives way on a terminal

    typed = Settings({"LOG_LEVEL": "INFO"}, priority="project")
    typed.set("LOG_LEVEL", "INFO", priority="cmdline")  # -L INFO: the log lines, no display
    assert not wants_display(typed, stream=tty)
    typed.set("LOG_LEVEL", "WARNING", priority="cmdline")  # cron's line typed at a terminal
    assert wants_display(typed, stream=tty)
    quiet_console(typed)
    assert typed["LOG_LEVEL"] == "WARNING"  # what was asked for stands
