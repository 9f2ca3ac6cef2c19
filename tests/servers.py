"""Starting the lab's servers as real subprocesses for tests, and stopping their whole process group."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def raglab_server(args: list[str], home: Path, is_ready: Callable[[], bool], startup_s: float = 240) -> Iterator[None]:
    """Run `raglab ARGS` until the block ends; fail if `is_ready` never holds within `startup_s`."""
    server = subprocess.Popen(
        [sys.executable, "-m", "lab.cli", *args],
        env={**os.environ, "RAGLAB_HOME": str(home)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + startup_s
        while not is_ready():
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"raglab {' '.join(args)} did not start serving within {startup_s:.0f} s")
            time.sleep(1)
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
