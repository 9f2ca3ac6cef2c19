"""Starting real servers (the lab's, and a llama.cpp model server) as subprocesses for tests, and stopping them."""

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def raglab_server(
    args: list[str], home: Path, is_ready: Callable[[], bool], startup_s: float = 240, env: dict[str, str] | None = None
) -> Iterator[None]:
    """Run `raglab ARGS` until the block ends; fail if `is_ready` never holds within `startup_s`."""
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, "RAGLAB_HOME": str(home), **(env or {})},
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


def lab_server(home: Path, extra: list[str]) -> tuple[str, AbstractContextManager[None]]:
    """The web lab's URL, and the block that serves it (`raglab lab --port PORT EXTRA`) on `home`."""
    url = f"http://localhost:{free_port()}"

    def healthy() -> bool:
        try:
            return urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200
        except OSError:
            return False

    return url, raglab_server(["lab", "--port", url.rsplit(":", 1)[1], *extra], home, healthy, startup_s=120)


class LlamaCppServer:
    """llama-cpp-python's OpenAI-compatible server on the embedded GGUF, on 127.0.0.1, started and stopped by tests.

    `models` maps an alias to its llama.cpp settings; the server loads the one a request names. The
    port stays the same across `stop()` and `start()`, as a real server that goes down and comes back.
    """

    def __init__(self, gguf: Path, models: dict[str, dict], folder: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.config = folder / "llama-server.json"
        self.log = folder / "llama-server.log"
        entries = [{"model": str(gguf), "model_alias": alias, "n_ctx": 4096, "verbose": False, **extra}
                   for alias, extra in models.items()]
        self.config.write_text(json.dumps({"host": "127.0.0.1", "port": self.port, "models": entries}))
        self.process: subprocess.Popen | None = None

    def start(self, startup_s: float = 120) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--config_file", str(self.config)],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + startup_s
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start within {startup_s:.0f} s; see {self.log}")
            time.sleep(0.5)

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/models", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.process = None


class FaultyProxy:
    """A real HTTP hop in front of a real server that can be told to answer 503 for a while, as a
    struggling server or load balancer does, or to hold requests until released, as a stalled one does. Everything else is forwarded as it is, and every completion
    exchange is kept in `completions` as (request, response), so a test can see what the server answered."""

    def __init__(self, target_url: str):
        self.target = target_url.rstrip("/").removesuffix("/v1")
        self.failing = threading.Event()
        self.holding = threading.Event()
        self.refused = 0
        self.completions: list[tuple[dict, dict]] = []
        recording = threading.Lock()
        proxy = self

        class Forward(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._forward(None)

            def do_POST(self) -> None:
                self._forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def _forward(self, body: bytes | None) -> None:
                while proxy.holding.is_set():
                    time.sleep(0.05)
                if proxy.failing.is_set():
                    proxy.refused += 1
                    self._reply(503, b'{"error": {"message": "service unavailable (test proxy)"}}')
                    return
                request = urllib.request.Request(proxy.target + self.path, data=body, method=self.command,
                                                 headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(request, timeout=600) as answer:
                        payload = answer.read()
                    if body and self.path.endswith("/completions"):
                        with recording:
                            proxy.completions.append((json.loads(body), json.loads(payload)))
                    self._reply(answer.status, payload)
                except urllib.error.HTTPError as error:
                    self._reply(error.code, error.read())

            def _reply(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Forward)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
