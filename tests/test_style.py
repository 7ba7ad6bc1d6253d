"""The code stays ruff clean and its imports run one way (the rules are in pyproject.toml).
Both tools are in requirements-test.txt: a missing one is a failure, not a skip."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT


def tool(name):
    """The command ``name`` of the environment running the tests (beside its python first)."""
    found = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    assert found, f"{name} is not installed: see README, Set up"
    return found


def test_ruff_finds_nothing():
    result = subprocess.run([tool("ruff"), "check", "digitnet", "tests", "bench"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_imports_run_one_way_without_cycles():
    """pyproject.toml's [tool.importlinter] contracts: the layers, and no cycle anywhere."""
    result = subprocess.run([tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout
