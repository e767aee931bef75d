"""Run the replica as a subprocess (for tests and scripts)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@contextlib.contextmanager
def running_replica(articles: int = 60, seed: int = 1, latency_ms: float = 0, host: str = "127.0.0.1",
                    timeout: float = 60, faults: dict[str, str] | None = None, prerender: tuple[str, ...] = (),
                    generation: str = "archive", extra_portals: int = 0):
    """Start ``python -m crawler.replica --port 0`` and yield its origin (``http://127.0.0.1:PORT``).
    ``faults``: ``{"laishan": "layout_changed", "yingkou": "http503:2"}`` (crawler/replica/faults.py);
    ``prerender``: portals whose article pages are rendered at start and served from memory;
    ``generation``: "archive" (as ``build_site``'s default), "current" or "both";
    ``extra_portals``: that many more portals on hosts of their own (crawler/replica/extra.py).
    The subprocess is terminated (then killed) on exit."""
    cmd = [sys.executable, "-m", "crawler.replica", "--port", "0", "--host", host, "--articles", str(articles),
           "--seed", str(seed), "--latency", str(latency_ms), "--generation", generation,
           "--extra-portals", str(extra_portals)]
    for portal, mode in (faults or {}).items():
        cmd += ["--fault", f"{portal}={mode}"]
    for portal in prerender:
        cmd += ["--prerender", portal]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise RuntimeError("replica did not start in time")
        line = proc.stdout.readline().strip()
        prefix = "replica listening on "
        if not line.startswith(prefix):
            err = proc.stderr.read() if proc.poll() is not None else ""
            raise RuntimeError(f"replica failed to start: {line!r} {err}")
        yield line[len(prefix):]
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for f in (proc.stdout, proc.stderr):
            if f:
                f.close()
