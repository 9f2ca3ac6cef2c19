"""One writer at a time across processes, for a knowledge base's ingest and an evaluation run.

An advisory `flock` on a small file: the kernel drops it when its process ends, however it ends
(SIGKILL included), so a crashed writer never leaves a stale lock behind. The file holds the holder's
pid, to name it in the refusal and to recognise a holder in this very process.

The web lab's Cancel stops work at its next progress step while the page has already rerun, so for a
moment a cancelled job in this process still holds its lock. A request from the same process therefore
waits for it (up to `SAME_PROCESS_WAIT_S`) instead of being refused; another process is refused at once.
"""

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SAME_PROCESS_WAIT_S = 120.0


@contextmanager
def exclusive(
    lock_file: Path, refusal: Callable[[str], Exception], same_process_wait_s: float = SAME_PROCESS_WAIT_S
) -> Iterator[None]:
    """Hold `lock_file` for the block, or raise `refusal(holder_pid)`: the caller's own error type, with a
    message that names the holder and what to do."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + same_process_wait_s
    with open(lock_file, "a+") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "unknown"
                if holder != str(os.getpid()) or time.monotonic() >= deadline:
                    raise refusal(holder) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
