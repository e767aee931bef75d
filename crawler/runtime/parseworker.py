"""A parser worker process: ``python -m crawler.runtime.parseworker``, started by ``crawler/runtime/parsepool.py``.

It reads frames from stdin, each a function and its arguments, runs them and writes the
answers to stdout; when stdin closes it writes its own resource usage and exits.  Its life
is bound to its stdin: the crawl process stops it by closing it.  Ctrl-C (sent to the whole
process group) or a SIGTERM meant for the crawl must not end it with pages in hand, so it
ignores both from its first lines: this module imports only the standard library, and the
heavy modules (Scrapy, lxml) come in with the first task.  Twisted resets ignored signals in
the child, so they cannot be inherited; a signal in the few milliseconds of interpreter
start-up costs a worker, not a page.
"""

from __future__ import annotations

import os
import pickle
import resource
import struct
import sys
import traceback

# A frame: payload size, task id, then the pickled payload.  The id stays outside the
# pickle, so a payload the worker cannot unpickle still fails only its own task.
HEADER = struct.Struct("!IQ")
EXIT = 0  # task id of a worker's last frame, its resource usage (tasks count from 1)


def frame(task_id: int, payload) -> bytes:
    data = pickle.dumps(payload, protocol=5)
    return HEADER.pack(len(data), task_id) + data


def answer(task_id: int, data) -> bytes:
    try:
        fn, args = pickle.loads(data)
        reply = (True, fn(*args))
    except Exception as exc:  # noqa: BLE001 - sent back to the crawl as the page's error
        exc.add_note("in the parser worker:\n" + traceback.format_exc())
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001
            exc = RuntimeError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        reply = (False, exc)
    return frame(task_id, reply)


def serve(stdin_fd: int, stdout) -> None:
    buffer = bytearray()
    while True:
        chunk = os.read(stdin_fd, 1 << 20)
        if not chunk:
            break
        buffer += chunk
        # Answer every complete frame read so far, then write the answers at once: the crawl
        # process wakes once per batch, not once per page.
        replies = []
        while len(buffer) >= HEADER.size:
            size, task_id = HEADER.unpack_from(buffer)
            end = HEADER.size + size
            if len(buffer) < end:
                break
            data = bytes(memoryview(buffer)[HEADER.size:end])
            del buffer[:end]
            replies.append(answer(task_id, data))
        if replies:
            stdout.write(b"".join(replies))
            stdout.flush()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    stdout.write(frame(EXIT, (True, {"max_rss_mb": usage.ru_maxrss / 1024,
                                     "cpu_seconds": usage.ru_utime + usage.ru_stime})))
    stdout.flush()


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Frames only on stdout: anything printed goes to stderr, which the crawl logs.
    out = sys.stdout.buffer
    sys.stdout = sys.stderr
    serve(sys.stdin.fileno(), out)
