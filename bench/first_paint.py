"""First paint of every web-lab page: how long a person looks at an empty page before its title and first control.

Streamlit sends each element to the browser as the page's script runs, so a page that imports torch,
spaCy or llama.cpp before it draws anything shows a blank page (or a grey skeleton) for as long as the
imports take. The Python interpreter keeps a module once imported, so only the first page opened in a
server process pays for them: each page is therefore measured on a server of its own, started fresh
(`cold`), and then once more on that same server in a new browser context (`warm`, imports done).

Times run from the start of navigation (the browser's `performance.now()`) until the page's title (its
`h1`) and its first control (an input, button, radio group or combobox in the main area) are on screen,
recorded by a MutationObserver in the page, so the polling from here adds no delay. A page that draws no
control (Reports before any run) shows "-" there, once its script has finished and `RENDER_GRACE_S` passed.
The first row, `(bare)`, is the floor: a page holding only a title and a selectbox, served by the same
Streamlit, which is what the browser and Streamlit cost by themselves.

The servers run `python -m app.cli lab` from `--tree` (default: this repository), so the same script measures
another checkout of the lab, e.g. main's before a change and this one after it. The lab home (`--home`)
gets the bundled demo knowledge base first, built by that tree's code unless already there, so Home does
not start by building it.

    .venv/bin/python bench/first_paint.py [--tree DIR] [--home DIR] [--pages Home,Corpus]
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
STARTUP_S, PAGE_TIMEOUT_S = 180, 180
RENDER_GRACE_S = 3.0
"""The browser draws the last elements a little after the script has finished: wait this long for a control."""
RECORD_PAINT = """
window.__paint = {};
const CONTROLS = 'input, textarea, button, [role="radiogroup"], [role="combobox"]';
const shown = (element) => element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden';
new MutationObserver(() => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return;
  const title = main.querySelector('h1');
  if (!window.__paint.title && title && title.textContent.trim() && shown(title)) window.__paint.title = performance.now();
  if (!window.__paint.control && [...main.querySelectorAll(CONTROLS)].some(shown)) window.__paint.control = performance.now();
}).observe(document, {subtree: true, childList: true, attributes: true});
"""
SCRIPT_STATE = "document.querySelector('[data-testid=stApp]')?.dataset.testScriptState"
BARE_PAGE = 'import streamlit as st\nst.title("Bare")\nst.selectbox("Pick", ["a", "b"])\n'


def page_paths(tree: Path) -> dict[str, str]:
    """Page name to URL path, as Streamlit names them: Home at /, `pages/3_Evaluate.py` at /Evaluate."""
    pages = {"Home": "/"}
    for script in sorted((tree / "pages").glob("*.py")):
        name = script.stem.split("_", 1)[1]
        pages[name] = f"/{name}"
    return pages


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_demo_home(tree: Path, home: Path) -> None:
    """The bundled demo KB in `home`, built with `tree`'s code when the home has no knowledge base yet."""
    build = "from lab.core import LabSettings; from lab.ingestion import ensure_demo_kb; ensure_demo_kb(LabSettings())"
    subprocess.run([sys.executable, "-c", build], cwd=tree, env={**os.environ, "RAGLAB_HOME": str(home)}, check=True)


class LabServer:
    """`python -m app.cli lab` from a tree (or `streamlit run` on a bare page), on a free port, until the block ends."""

    def __init__(self, tree: Path, home: Path, bare_page: Path | None = None):
        self.tree, self.home = tree, home
        self.url = f"http://localhost:{free_port()}"
        port = self.url.rsplit(":", 1)[1]
        self.command = (
            ["-m", "streamlit", "run", str(bare_page), "--server.port", port, "--server.headless", "true",
             "--browser.gatherUsageStats", "false"]
            if bare_page else ["-m", "app.cli", "lab", "--port", port, "--home", str(home)]
        )

    def __enter__(self) -> "LabServer":
        self.process = subprocess.Popen(
            [sys.executable, *self.command], cwd=self.tree, env={**os.environ, "RAGLAB_HOME": str(self.home)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_S
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"raglab lab from {self.tree} did not answer within {STARTUP_S} s")
            time.sleep(0.2)
        return self

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def __exit__(self, *exc) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def first_paint(browser, url: str) -> tuple[float | None, float | None]:
    """(title ms, first control ms) from navigation, in a fresh browser context; None where it never appeared."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.add_init_script(RECORD_PAINT)
    page.goto(url, wait_until="commit")
    deadline = time.monotonic() + PAGE_TIMEOUT_S
    while time.monotonic() < deadline:
        paint = page.evaluate("window.__paint || {}")
        if paint.get("title") and paint.get("control"):
            break
        if paint.get("title") and page.evaluate(SCRIPT_STATE) == "notRunning":
            deadline = min(deadline, time.monotonic() + RENDER_GRACE_S)
        time.sleep(0.05)
    paint = page.evaluate("window.__paint || {}")
    context.close()
    return paint.get("title"), paint.get("control")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def shown(ms: float | None) -> str:
    return f"{ms:8.0f}" if ms is not None else f"{'-':>8}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=REPO_ROOT, help="checkout of the lab to serve (default: this one)")
    parser.add_argument("--home", type=Path, help="lab home to serve (default: a temporary one with the demo KB)")
    parser.add_argument("--pages", help="comma-separated page names (default: all)")
    args = parser.parse_args()
    tree = args.tree.resolve()
    pages = page_paths(tree)
    chosen = args.pages.split(",") if args.pages else list(pages)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch:
        home = (args.home or Path(scratch) / "home").resolve()
        ensure_demo_home(tree, home)
        print(f"tree {tree}\nCPU {cpu_model()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
        print(f"{'page':10} {'cold h1':>8} {'control':>8} {'warm h1':>8} {'control':>8}   (ms from navigation)")
        bare_page = Path(scratch) / "bare.py"
        bare_page.write_text(BARE_PAGE)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name in ["(bare)", *chosen]:
                with LabServer(tree, home, bare_page if name == "(bare)" else None) as server:
                    cold = first_paint(browser, server.url + pages.get(name, "/"))
                    warm = first_paint(browser, server.url + pages.get(name, "/"))
                print(f"{name:10} {shown(cold[0])} {shown(cold[1])} {shown(warm[0])} {shown(warm[1])}", flush=True)
            browser.close()
        print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
