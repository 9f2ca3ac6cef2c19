"""One writer at a time: another process holding the lock is refused at once, naming its pid; a holder in
this same process (a cancelled web-lab job finishing its step) is waited for; the kernel frees the lock
of a killed holder."""

import os
import subprocess
import sys
import threading
import time

import pytest

from lab.core.locks import exclusive

HOLD_IN_CHILD = """
import sys, time
from lab.core.locks import exclusive
with exclusive(__import__("pathlib").Path(sys.argv[1]), RuntimeError):
    print("held", flush=True)
    time.sleep(60)
"""


class Busy(Exception):
    pass


def holding_child(lock_file):
    child = subprocess.Popen([sys.executable, "-c", HOLD_IN_CHILD, str(lock_file)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    return child


def test_another_process_holding_the_lock_is_refused_at_once_by_its_pid(tmp_path):
    lock_file = tmp_path / "run.lock"
    child = holding_child(lock_file)
    try:
        started = time.monotonic()
        with pytest.raises(Busy, match=f"pid {child.pid}"), exclusive(lock_file, lambda pid: Busy(f"pid {pid}")):
            pass
        assert time.monotonic() - started < 2
    finally:
        child.kill()
        child.wait()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    lock_file = tmp_path / "run.lock"
    child = holding_child(lock_file)
    child.kill()
    child.wait()
    with exclusive(lock_file, Busy):
        assert lock_file.read_text() == str(os.getpid())


def test_a_holder_in_this_process_is_waited_for_until_it_lets_go(tmp_path):
    lock_file, held, order = tmp_path / "run.lock", threading.Event(), []

    def stopping_job() -> None:
        with exclusive(lock_file, Busy):
            held.set()
            time.sleep(0.6)
            order.append("first job released")

    job = threading.Thread(target=stopping_job)
    job.start()
    held.wait()
    with exclusive(lock_file, Busy):
        order.append("second job holds")
    job.join()
    assert order == ["first job released", "second job holds"]


def test_a_holder_in_this_process_that_never_lets_go_is_refused_after_the_wait(tmp_path):
    lock_file, held, release = tmp_path / "run.lock", threading.Event(), threading.Event()

    def stuck_job() -> None:
        with exclusive(lock_file, Busy):
            held.set()
            release.wait()

    job = threading.Thread(target=stuck_job)
    job.start()
    held.wait()
    try:
        with pytest.raises(Busy), exclusive(lock_file, Busy, same_process_wait_s=0.5):
            pass
    finally:
        release.set()
        job.join()
