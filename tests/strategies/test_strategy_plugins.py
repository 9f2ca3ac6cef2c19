"""A strategy shipped by another package: installed with pip, found through its entry point, listed and run.

The package is the README's "Write your own strategy" example, so the documented code is the tested code.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "raglab_example_strategy"
README = REPO_ROOT / "README.md"
RAGLAB = [sys.executable, "-m", "app.cli"]
PIP = [sys.executable, "-m", "pip"]


def raglab(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAGLAB_HOME": str(home)}
    return subprocess.run([*RAGLAB, *args], capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def installed_example(tmp_path_factory):
    """The fixture package, installed from a copy so the build leaves nothing in the repository."""
    source = tmp_path_factory.mktemp("plugin") / FIXTURE.name
    shutil.copytree(FIXTURE, source)
    install = [*PIP, "install", "--no-deps", "--no-build-isolation", "-q", str(source)]
    subprocess.run(install, check=True, capture_output=True, text=True, timeout=300)
    try:
        yield "short-context"
    finally:
        subprocess.run([*PIP, "uninstall", "-y", "-q", "raglab-example-strategy"], capture_output=True, timeout=300)


def test_the_documented_example_is_the_fixture_package_code():
    section = README.read_text().split("### Write your own strategy", 1)[1]
    documented = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    assert documented == (FIXTURE / "raglab_example_strategy.py").read_text()


def test_an_installed_plugin_is_listed_with_its_parameters_and_stages(installed_example, lab_home):
    result = raglab("strategies", "--json", home=lab_home)
    assert result.returncode == 0, result.stderr
    listed = {entry["name"]: entry for entry in json.loads(result.stdout)}
    assert "traditional" in listed and installed_example in listed
    plugin = listed[installed_example]
    assert plugin["stages"] == ["embed", "retrieve", "generate"]
    assert plugin["parameters"] == [
        {"name": "passages", "type": "int", "default": 2, "range": "1 to 10", "description": "Passages the generator reads."}
    ]


def test_an_installed_plugin_answers_through_raglab_ask(installed_example, demo_kb, lab_home):
    result = raglab(
        "ask", "Were Scott Derrickson and Ed Wood of the same nationality?",
        "--kb", demo_kb.name, "--strategy", installed_example, "--json", home=lab_home,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["strategy"] == installed_example and answer["error"] is None
    assert len(answer["contexts"]) == 2
    assert [stage["name"] for stage in answer["trace"]["stages"]] == ["embed", "retrieve", "generate"]

