"""Alerts from `scrapy crawlall` (crawler/ops/alerts.py), delivered for real: to an SMTP server
(aiosmtpd) and an HTTP webhook receiver (apprise's ``json://``) started by the test, from real
crawls of a small replica in subprocesses.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import socket
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from crawler.ops.alerts import active_checks, alert_urls, deliver, plan
from crawler.store import Store

ROOT = Path(__file__).resolve().parent.parent
SCRAPY = str(Path(sys.executable).parent / "scrapy")


# --- real receivers ---------------------------------------------------------------------------


class Mailbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 OK"

    def texts(self) -> list[str]:
        out = []
        for msg in self.messages:
            part = msg.get_body(preferencelist=("plain",))
            out.append(f"{msg['Subject']}\n{part.get_content()}".replace("\r\n", "\n"))
        return out


@pytest.fixture
def smtp_server():
    """An SMTP server on a free port; yields (port, Mailbox)."""
    from aiosmtpd.controller import Controller

    class FreePortController(Controller):
        # aiosmtpd connects to self.port to check the server is up: use the port it was given.
        def _trigger_server(self):
            self.port = self.server.sockets[0].getsockname()[1]
            super()._trigger_server()

    box = Mailbox()
    controller = FreePortController(box, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield controller.port, box
    finally:
        controller.stop()


@pytest.fixture
def webhook():
    """An HTTP server that records every POST; yields (port, [(path, json body)])."""
    posts: list[tuple[str, dict]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            posts.append((self.path, json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], posts
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mail_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?from=crawler@example.org&to=ops@example.org"


def crawlall(tmp_path, origin, alert_urls, *args):
    db = f"sqlite:///{tmp_path}/m.db"
    cmd = [SCRAPY, "crawlall", "--only", "laishan,jining", *args, "-s", f"PORTAL_MIRROR={origin}",
           "-s", f"MEETINGS_DB={db}", "-s", f"CRAWLALL_LOCK_FILE={tmp_path}/crawlall.lock",
           "-s", f"CRAWLALL_LOG_FILE={tmp_path}/logs/crawlall-%Y%m%d-%H%M%S-%f.log",
           "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"]
    # ALERT_URLS through the environment, as cron would set it.
    env = dict(os.environ, MEETINGS_DB=db, ALERT_URLS=alert_urls)
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180, env=env)


# --- end to end -------------------------------------------------------------------------------


def test_one_alert_per_problem_then_quiet_then_recovered_then_a_dead_url(tmp_path, smtp_server, webhook):
    from crawler.replica.process import running_replica

    smtp_port, box = smtp_server
    hook_port, posts = webhook
    urls = f"{mail_url(smtp_port)}, json://127.0.0.1:{hook_port}/crawl-alerts"

    # 1. laishan's layout changed: one message to each service, naming portal and check.
    with running_replica(articles=12, seed=7, faults={"laishan": "layout_changed"}) as origin:
        first = crawlall(tmp_path, origin, urls)
    assert first.returncode == 1, (first.stdout + first.stderr)[-3000:]
    assert len(box.messages) == 1 and len(posts) == 1, first.stderr[-3000:]
    assert box.envelopes == [("crawler@example.org", ["ops@example.org"])]
    mail, (path, hook) = box.texts()[0], posts[0]
    assert path == "/crawl-alerts"
    for text in (mail, f"{hook['title']}\n{hook['message']}"):
        assert "FAILED — laishan [listing_empty]" in text
        assert "FAIL laishan listing_empty: " in text
        assert "jining" not in text  # a healthy portal is no news
        assert re.search(r"^laishan\s+\d+\s+0\s.*\sFAIL$", text, re.M), text  # its table row, intact
        assert f"log: {tmp_path}/logs/crawlall-" in text
    assert hook["type"] == "failure"
    assert "alert sent to json://127.0.0.1:" in first.stderr

    # 2. The same failure again, well within ALERT_REPEAT_HOURS: nothing sent.
    with running_replica(articles=12, seed=7, faults={"laishan": "layout_changed"}) as origin:
        second = crawlall(tmp_path, origin, urls)
    assert second.returncode == 1
    assert len(box.messages) == 1 and len(posts) == 1, posts[1:]
    assert "nothing new to alert about" in second.stderr

    # 3. The portal is back: one "recovered" message.
    with running_replica(articles=12, seed=7) as origin:
        third = crawlall(tmp_path, origin, urls)
    assert third.returncode == 0, (third.stdout + third.stderr)[-3000:]
    assert len(box.messages) == 2 and len(posts) == 2
    for text in (box.texts()[1], f"{posts[1][1]['title']}\n{posts[1][1]['message']}"):
        assert "recovered — laishan" in text and "recovered laishan: listing_empty" in text
        assert "FAILED" not in text
    assert posts[1][1]["type"] == "success"

    # The run history holds what was reported: the failure while it lasted, nothing after.
    store = Store(f"sqlite:///{tmp_path}/m.db")
    try:
        laishan = [r["stats"]["crawlall"] for r in store.runs() if r["spider"] == "laishan"]
    finally:
        store.close()
    assert [sorted(s["alerts"]) for s in laishan] == [["listing_empty"], ["listing_empty"], []]
    assert laishan[0]["alerts"]["listing_empty"] == laishan[1]["alerts"]["listing_empty"]

    # 4. It breaks again but the alert service is unreachable: the crawl's own exit status,
    # the failed delivery logged, and the failure kept unreported for the next run.
    dead = f"json://127.0.0.1:{closed_port()}/crawl-alerts"
    with running_replica(articles=12, seed=7, faults={"laishan": "layout_changed"}) as origin:
        fourth = crawlall(tmp_path, origin, dead)
    assert fourth.returncode == 1, fourth.stderr[-3000:]
    assert "crawlall: FAILED — laishan [listing_empty] (exit 1)" in fourth.stdout
    assert f"alert not delivered to {dead}" in fourth.stderr
    assert len(box.messages) == 2 and len(posts) == 2
    store = Store(f"sqlite:///{tmp_path}/m.db")
    try:
        last = [r for r in store.runs() if r["spider"] == "laishan"][-1]["stats"]["crawlall"]
    finally:
        store.close()
    assert last["alerts"] == {}


def test_alert_test_command_delivers_to_every_url(tmp_path, smtp_server, webhook):
    smtp_port, box = smtp_server
    hook_port, posts = webhook
    env = dict(os.environ, ALERT_URLS=f"{mail_url(smtp_port)} json://127.0.0.1:{hook_port}/t")
    r = subprocess.run([SCRAPY, "alert-test"], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(box.messages) == 1 and len(posts) == 1
    assert "test alert" in box.messages[0]["Subject"] and "test alert" in posts[0][1]["title"]
    assert r.stdout.count("sent  ") == 2

    dead = f"json://127.0.0.1:{closed_port()}/t"
    r = subprocess.run([SCRAPY, "alert-test", "--url", dead], cwd=ROOT, capture_output=True, text=True,
                       timeout=60, env=env)
    assert r.returncode == 1 and f"FAILED  {dead}" in r.stdout
    assert len(posts) == 1  # --url replaces ALERT_URLS

    r = subprocess.run([SCRAPY, "alert-test"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, ALERT_URLS=""))
    assert r.returncode == 2 and "no alert URL" in r.stderr


# --- pieces -----------------------------------------------------------------------------------


def row(portal, health="ok", failures=(), warnings=()):
    return {"portal": portal, "health": health, "listing_pages": 1, "articles": 0, "new": 0, "updated": 0,
            "unchanged": 0, "dropped": 0, "errors": 0, "duration_s": 1.0,
            "failed_checks": [f.split(": ")[0] for f in failures], "failures": list(failures),
            "warnings": list(warnings)}


T0 = datetime(2026, 3, 2, 6, 15, tzinfo=timezone.utc)
BROKEN = row("yingkou", "fail", failures=["coverage:title: 2 of 40 article pages have a title"])


def test_a_persisting_failure_is_repeated_after_alert_repeat_hours():
    first = plan([BROKEN, row("beipiao")], {}, T0, repeat_hours=24)
    assert first.reported == [("yingkou", "coverage:title", "fail")]
    assert "FAIL yingkou coverage:title: 2 of 40 article pages have a title" in first.body
    assert "beipiao" not in first.body
    day = plan([BROKEN], first.state, T0 + timedelta(hours=23), repeat_hours=24)
    assert not day and day.state["yingkou"] == first.state["yingkou"]
    later = plan([BROKEN], day.state, T0 + timedelta(hours=24, minutes=1), repeat_hours=24)
    assert later.reported == [("yingkou", "coverage:title", "fail")]
    assert "(since 2026-03-02 06:15 UTC)" in later.body  # the problem's age, not the repeat's
    assert later.state["yingkou"]["coverage:title"]["since"] == first.state["yingkou"]["coverage:title"]["since"]


def test_warnings_are_reported_once_and_a_new_problem_beside_an_old_one_is_news():
    stale = row("jining", "warn", warnings=["stale: no new record for 75 days"])
    first = plan([stale], {}, T0)
    assert first.reported == [("jining", "stale", "warn")] and "warning — jining [stale]" in first.title
    assert first.kind == "warning"
    week = plan([stale], first.state, T0 + timedelta(days=7))
    assert not week
    both = row("jining", "fail", failures=["errors: 3 error(s) logged"], warnings=["stale: no new record for 82 days"])
    news = plan([both], week.state, T0 + timedelta(days=8))
    assert news.reported == [("jining", "errors", "fail")]
    # The message shows the whole picture of the portal, the old warning included.
    assert "warn jining stale: no new record for 82 days (since 2026-03-02 06:15 UTC)" in news.body

    # A warning that turns into a failure of the same check is news, within the hour.
    few = row("laishan", "warn", warnings=["coverage:body: 1 of 3 article pages have a body"])
    many = row("laishan", "fail", failures=["coverage:body: 2 of 30 article pages have a body"])
    first = plan([few], {}, T0)
    worse = plan([many], first.state, T0 + timedelta(hours=1))
    assert worse.reported == [("laishan", "coverage:body", "fail")] and worse.kind == "failure"
    assert not plan([many], worse.state, T0 + timedelta(hours=2))


def test_recovery_is_reported_per_check_and_only_for_reported_checks():
    first = plan([BROKEN], {}, T0)
    fixed = plan([row("yingkou")], first.state, T0 + timedelta(days=1))
    assert fixed.recovered == [("yingkou", "coverage:title")] and fixed.reported == []
    assert "recovered — yingkou" in fixed.title and "recovered yingkou: coverage:title fine again" in fixed.body
    assert fixed.state == {"yingkou": {}}
    # A portal that was never reported (no history) has nothing to recover from.
    assert not plan([row("yingkou")], {}, T0)


def test_active_checks_reads_the_summary_row():
    checks = active_checks(row("laishan", "fail", failures=["coverage:body: 1 of 9 pages"],
                               warnings=["http_errors: 2 ignored"]))
    assert checks == {"coverage:body": ("fail", "1 of 9 pages"), "http_errors": ("warn", "2 ignored")}


def test_alert_urls_from_a_string_or_a_list():
    assert alert_urls({"ALERT_URLS": "mailto://a@example.org, json://h/x\njson://h/y"}) == [
        "mailto://a@example.org", "json://h/x", "json://h/y"]
    assert alert_urls({"ALERT_URLS": ["slack://T/B/C", "json://h/x"]}) == ["slack://T/B/C", "json://h/x"]
    assert alert_urls({"ALERT_URLS": ""}) == []


def test_delivery_to_a_service_that_never_answers_gives_up_in_time(caplog):
    # A server that accepts the connection and then says nothing.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"json://127.0.0.1:{silent.getsockname()[1]}/x"
        with caplog.at_level("ERROR", logger="crawler.ops.alerts"):
            results = deliver([url, "nonsense"], "t", "b", timeout=1.5)
    assert [ok for _, ok in results] == [False, False]
    # Given up after ALERT_TIMEOUT, not waiting for the service's own timeouts.
    assert "no answer within ALERT_TIMEOUT=1.5s" in caplog.text
    assert "not a URL apprise can send to" in caplog.text
