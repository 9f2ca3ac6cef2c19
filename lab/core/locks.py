"""One writer at a time across processes, for a knowledge base's ingest and an evaluation run.

An advisory `flock` on a small file: the kernel drops it when its process ends, however it ends
(SIGKILL included), so a crashed writer never leaves a stale lock behind. The file holds the holder's
pid, only to name it in the refusal.
"""

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive(lock_file: Path, refusal: Callable[[str], Exception]) -> Iterator[None]:
    """Hold `lock_file` for the block, or raise `refusal(holder_pid)` at once: the caller's own error type,
    with a message that names the holder and what to do."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise refusal(handle.read().strip() or "unknown") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
