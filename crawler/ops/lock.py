"""An exclusive run lock: ``flock`` on a lock file, so a cron job never overlaps itself.

The lock belongs to the open file description, so the kernel releases it when the process
dies, however it dies (no stale lock files to clean up after ``kill -9`` or a reboot).  The
holder writes its pid, start time and command line into the file for the message the next
run prints.
"""

from __future__ import annotations

import fcntl
import os
import sys
from datetime import datetime, timezone
from pathlib import Path


class LockHeld(RuntimeError):
    """Another process holds the lock; ``holder`` is what it wrote into the lock file."""

    def __init__(self, path: Path, holder: str):
        self.path = path
        self.holder = holder
        super().__init__(f"{path} is locked by another run ({holder or 'holder unknown'})")


class RunLock:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once or raise :class:`LockHeld` (never waits)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.read(fd, 4096).decode("utf-8", "replace").strip()
            finally:
                os.close(fd)
            raise LockHeld(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        started = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        info = f"pid {os.getpid()} since {started}: {' '.join(sys.argv)}\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode("utf-8"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
