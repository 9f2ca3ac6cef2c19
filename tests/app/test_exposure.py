"""Who can reach the lab: loopback needs nothing, any other address warns, and the arena then wants a password.
A stopped lab leaves nothing listening."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from app.exposure import ARENA_PASSWORD_ENV, ExposureRefused, arena_auth, exposure_warning, is_loopback
from tests.servers import free_port


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_addresses_are_served_without_a_warning(host):
    assert is_loopback(host) and exposure_warning(host, 8501, "web lab") is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "lab.example.org"])
def test_any_other_address_warns_with_the_address_and_the_safe_default(host):
    warning = exposure_warning(host, 8501, "web lab")
    assert warning and f"{host}:8501" in warning and "127.0.0.1" in warning


def test_the_arena_off_loopback_needs_the_password_variable(monkeypatch):
    monkeypatch.delenv(ARENA_PASSWORD_ENV, raising=False)
    assert arena_auth("127.0.0.1") is None
    with pytest.raises(ExposureRefused, match=ARENA_PASSWORD_ENV):
        arena_auth("0.0.0.0")
    monkeypatch.setenv(ARENA_PASSWORD_ENV, "s3cret")
    assert arena_auth("0.0.0.0") == ("raglab", "s3cret") == arena_auth("127.0.0.1")


def test_a_sigterm_to_raglab_lab_stops_the_web_server_and_frees_its_port(tmp_path):
    """What a supervisor (systemd, a container runtime, a bench script) does: signal the pid it started."""
    port = free_port()
    lab = subprocess.Popen([sys.executable, "-m", "app.cli", "lab", "--port", str(port), "--home", str(tmp_path)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not _healthy(port):
            assert lab.poll() is None and time.monotonic() < deadline, "the lab did not start"
            time.sleep(1)
        lab.terminate()
        lab.wait(timeout=30)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    finally:
        if lab.poll() is None:
            lab.kill()


def _healthy(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status == 200
    except OSError:
        return False
