"""The per-portal concurrency limit holds with no download delay (crawler/runtime/downloader.py)."""

import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SPIDER = textwrap.dedent("""
    import scrapy

    class Many(scrapy.Spider):
        name = "many"
        allowed_domains = ["127.0.0.1"]

        async def start(self):
            for i in range(8):
                yield scrapy.Request(f"{self.origin}/page/{i}", dont_filter=True)

        def parse(self, response):
            pass
""")


class Server:
    """Counts requests in flight; each answer takes a while, so overlaps show."""

    def __init__(self):
        self.lock = threading.Lock()
        self.active = self.peak = self.total = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    server.active += 1
                    server.total += 1
                    server.peak = max(server.peak, server.active)
                time.sleep(0.2)
                with server.lock:
                    server.active -= 1
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "13")
                self.end_headers()
                self.wfile.write(b"<html></html>")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()


@pytest.mark.parametrize("limit", [1, 2])
def test_per_domain_limit_holds_without_download_delay(tmp_path, limit):
    server = Server()
    try:
        spider = tmp_path / "many.py"
        spider.write_text(SPIDER)
        cmd = [str(Path(sys.executable).parent / "scrapy"), "runspider", str(spider),
               "-a", f"origin={server.origin}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0",
               "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={limit}", "-s", "ROBOTSTXT_OBEY=0", "-s", "MEETINGS_DB=",
               "-s", "HEALTH_ENABLED=0"]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=120)
    finally:
        server.close()
    assert server.total == 8
    assert server.peak == limit
