"""Alerts from ``scrapy crawlall`` to where people look: mail, DingTalk, WeCom, Feishu, Slack,
webhooks — any service apprise knows (``ALERT_URLS``: ``mailto://``, ``dingtalk://``,
``wecombot://``, ``feishu://``, ``slack://``, ``json://`` …).

One message per run, not one per portal, sent when the run has a failure or a new warning and
when a portal recovers.  It carries the summary table's rows of the portals concerned, each
check's message and the log file's path.

Each spider's row of the runs table remembers, in ``stats["crawlall"]["alerts"]``, which of its
checks were reported and when (``{check: {"since": …, "sent": …}}``).  The next run reads the
portal's previous crawlall run (``Store.recent_runs``) and so says nothing about a failure it
reported less than ``ALERT_REPEAT_HOURS`` ago, never repeats a warning (unless it became a failure), and reports a check
that was reported and is now gone as recovered.  Nothing is remembered when no message got
through, so the next run tries again.

Delivery happens after the crawl, each URL in its own thread, all bounded by
``ALERT_TIMEOUT`` seconds; a failure is logged (the URL with its secrets masked) and changes
neither the crawl nor its exit status.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

logger = logging.getLogger("crawler.ops.alerts")

FAIL, WARN = "fail", "warn"


def alert_urls(settings) -> list[str]:
    """``ALERT_URLS``: a list, or one string of URLs separated by spaces, commas or newlines
    (as apprise reads them; the environment variable of the same name is the default)."""
    value = settings.get("ALERT_URLS") or []
    if isinstance(value, str):
        value = [value]
    urls = []
    for entry in value:
        urls += [u for u in str(entry).replace(",", " ").split() if u]
    return urls


def active_checks(row: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """The checks that are not fine in a summary row: ``{check: (level, message)}``."""
    checks: dict[str, tuple[str, str]] = {}
    for level, key in ((WARN, "warnings"), (FAIL, "failures")):
        for text in row.get(key) or []:
            check, _, message = str(text).partition(": ")
            checks[check] = (level, message or check)
    for check in row.get("failed_checks") or []:  # a failure without its message
        checks.setdefault(check, (FAIL, check))
    return checks


@dataclass
class Alert:
    """What one run has to say, and what its runs remember afterwards."""

    title: str = ""
    body: str = ""
    reported: list[tuple[str, str, str]] = field(default_factory=list)  # (portal, check, level)
    recovered: list[tuple[str, str]] = field(default_factory=list)  # (portal, check)
    # per portal: the state to remember when the message got through / when it did not
    state: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    kept_state: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.reported or self.recovered)

    @property
    def kind(self) -> str:
        """apprise's notification type (services colour or mark it): the worst news."""
        levels = {level for _, _, level in self.reported}
        return "failure" if FAIL in levels else "warning" if WARN in levels else "success"


def plan(
    rows: Iterable[Mapping[str, Any]],
    previous: Mapping[str, Mapping[str, Mapping[str, str]]],
    now: datetime,
    repeat_hours: float = 24,
    log_file: str | None = None,
    exit_code: int | None = None,
    host: str | None = None,
) -> Alert:
    """Decide what to report for this run's summary ``rows``, given each portal's remembered
    alert state from its previous crawlall run (``previous[portal]``)."""
    rows = list(rows)
    alert = Alert()
    repeat = timedelta(hours=repeat_hours)
    stamp = now.astimezone(timezone.utc).isoformat(timespec="seconds")
    persisting: dict[tuple[str, str], str] = {}
    for row in rows:
        portal = row["portal"]
        before = dict(previous.get(portal) or {})
        state: dict[str, dict[str, str]] = {}
        for check, (level, _text) in active_checks(row).items():
            seen = before.get(check)
            worse = bool(seen) and level == FAIL and seen.get("level") == WARN  # a warning became a failure
            if seen and not worse and (level == WARN or now - _parse(seen["sent"]) < repeat):
                state[check] = dict(seen)  # reported already: quiet
            else:
                alert.reported.append((portal, check, level))
                state[check] = {"since": seen["since"] if seen else stamp, "sent": stamp, "level": level}
            if seen:
                persisting[(portal, check)] = seen["since"]
        alert.recovered += [(portal, check) for check in before if check not in state]
        alert.state[portal] = state
        alert.kept_state[portal] = before
    if alert:
        alert.title, alert.body = _message(rows, alert, persisting, log_file, exit_code, host, now)
    return alert


def _parse(value: str) -> datetime:
    dt = datetime.fromisoformat(value)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _message(rows, alert, persisting, log_file, exit_code, host, now) -> tuple[str, str]:
    from crawler.ops.summary import format_table

    host = host or socket.gethostname()
    failing = {}
    for portal, check, level in alert.reported:
        failing.setdefault((level, portal), []).append(check)
    failed = [f"{p} [{', '.join(c)}]" for (lvl, p), c in failing.items() if lvl == FAIL]
    warned = [f"{p} [{', '.join(c)}]" for (lvl, p), c in failing.items() if lvl == WARN]
    recovered: dict[str, list[str]] = {}
    for portal, check in alert.recovered:
        recovered.setdefault(portal, []).append(check)
    parts = []
    if failed:
        parts.append("FAILED — " + "; ".join(failed))
    if warned:
        parts.append("warning — " + "; ".join(warned))
    if recovered:
        parts.append("recovered — " + ", ".join(recovered))
    title = f"meetings crawlall on {host}: " + " · ".join(parts)

    concerned = {p for p, _, _ in alert.reported} | set(recovered)
    shown = [r for r in rows if r["portal"] in concerned or r["health"] != "ok"]
    when = now.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"scrapy crawlall on {host}, {when}" + (f", exit {exit_code}" if exit_code is not None else ""), ""]
    lines += [format_table(shown, notes=False, total=False), ""]
    for row in shown:
        for check, (level, message) in active_checks(row).items():
            since = persisting.get((row["portal"], check))
            note = f" (since {_parse(since).strftime('%Y-%m-%d %H:%M UTC')})" if since else ""
            lines.append(f"{'FAIL' if level == FAIL else 'warn'} {row['portal']} {check}: {message}{note}")
    for portal, checks in recovered.items():
        lines.append(f"recovered {portal}: {', '.join(checks)} fine again")
    if log_file:
        lines += ["", f"log: {log_file}"]
    return title, "\n".join(lines)


# --- delivery -------------------------------------------------------------------------------


def deliver(urls: list[str], title: str, body: str, timeout: float = 30,
            kind: str = "info") -> list[tuple[str, bool]]:
    """Send one message to every URL; returns ``[(masked url, delivered)]`` and logs each
    failure.  Never raises and never takes longer than ``timeout`` seconds."""
    try:
        import apprise
    except ImportError as e:  # pragma: no cover - requirements.txt has it
        logger.error("alert not sent: apprise is not installed (%s)", e)
        return [(_scheme(u), False) for u in urls]

    asset = apprise.AppriseAsset(app_id="meetings crawler", app_desc="meetings crawlall")
    targets = []
    results: list[tuple[str, bool]] = []
    for url in urls:
        try:
            service = apprise.Apprise.instantiate(url, asset=asset)
        except Exception:  # noqa: BLE001
            service = None
        if not service:
            logger.error("alert not sent to %s: not a URL apprise can send to (ALERT_URLS)", _scheme(url))
            results.append((_scheme(url), False))
        else:
            targets.append(service)
    if not targets:
        return results

    def send(service) -> bool:
        try:
            return bool(service.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT,
                                       notify_type=apprise.NotifyType(kind)))
        except Exception as e:  # noqa: BLE001 - a plugin's bug must not end the run
            logger.error("alert to %s raised %s: %s", _masked(service), type(e).__name__, e)
            return False

    # Daemon threads, not an executor: a service that never answers must not hold the
    # process at exit either.
    outcome: dict[int, bool] = {}
    threads = []
    for i, service in enumerate(targets):
        thread = threading.Thread(target=lambda i=i, s=service: outcome.__setitem__(i, send(s)),
                                  name=f"alert-{i}", daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for i, service in enumerate(targets):
        masked = _masked(service)
        ok = outcome.get(i)
        if ok:
            logger.info("alert sent to %s", masked)
        elif ok is None:
            logger.error("alert not delivered to %s: no answer within ALERT_TIMEOUT=%ss", masked, timeout)
        else:
            logger.error("alert not delivered to %s (the service's error is logged above)", masked)
        results.append((masked, bool(ok)))
    return results


def _masked(service) -> str:
    """The service's URL with its secrets masked (apprise's privacy form), without the query
    of apprise's own defaults."""
    return service.url(privacy=True).split("?", 1)[0]


def _scheme(url: str) -> str:
    """Only the scheme of a URL apprise rejected: the rest may hold a token."""
    return url.split("://", 1)[0] + "://…" if "://" in url else "(not a URL)"


# --- what the runs table remembers --------------------------------------------------------


def previous_state(store, portals: Iterable[str], before: datetime) -> dict[str, dict[str, Any]]:
    """Each portal's alert state from its latest crawlall run started before ``before``
    (plain ``scrapy crawl`` runs carry none and are passed over)."""
    out = {}
    for portal in portals:
        for run in store.recent_runs(portal, before):
            summary = (run.get("stats") or {}).get("crawlall")
            if isinstance(summary, Mapping):
                out[portal] = dict(summary.get("alerts") or {})
                break
    return out
