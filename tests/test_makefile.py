"""`make run` for a new user: PORT and HOST, a one-sentence Python version check, progress.

Each test runs make on a throwaway virtualenv path (VENV=...), so nothing of the real .venv is
touched; a "Python 3.12" is the machine's Python 3.11 told to report 3.12 (sitecustomize).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def make(*args: str, venv: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [MAKE, "--no-print-directory", *args, f"VENV={venv}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_serves_on_the_port_and_host_given(tmp_path):
    dry = make("-n", "run", "PORT=8123", "HOST=0.0.0.0", venv=tmp_path / "venv")
    assert dry.returncode == 0, dry.stderr
    assert "manage.py serve 0.0.0.0:8123" in dry.stdout
    assert "http://0.0.0.0:8123" in dry.stdout
    default = make("-n", "run", venv=tmp_path / "venv")
    assert "manage.py serve 127.0.0.1:8000" in default.stdout


def test_the_install_says_what_it_does_and_shows_pips_progress(tmp_path):
    dry = make("-n", "install", venv=tmp_path / "venv")
    assert "Installing Selfkind's dependencies" in dry.stdout
    assert "pip install --progress-bar on" in dry.stdout
    assert 'pip install --quiet ".[dev]"' not in dry.stdout


def a_python_reporting(tmp_path: Path, version: str) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import sys\n"
        f"sys.version_info = ({version.replace('.', ', ')}, 'final', 0)\n"
        f"sys.version = '{version} (pretending)'\n"
    )
    python = tmp_path / "python3.12"
    python.write_text(f'#!/bin/sh\nPYTHONPATH={site} exec {sys.executable} "$@"\n')
    python.chmod(0o755)
    return python


def test_the_wrong_python_is_one_sentence_naming_the_version_and_python_not_a_traceback(
    tmp_path,
):
    python = a_python_reporting(tmp_path, "3.12.1")
    result = make("install", f"PYTHON={python}", venv=tmp_path / "venv")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert (
        f"Selfkind needs Python 3.11, but {python} is Python 3.12.1: install Python 3.11 and "
        "run make again with PYTHON=/path/to/python3.11." in result.stderr
    )
    assert not (tmp_path / "venv").exists()  # stopped before making anything


def test_no_python_at_all_is_one_sentence_too(tmp_path):
    result = make("install", "PYTHON=/nowhere/python3.11", venv=tmp_path / "venv")
    assert result.returncode != 0
    assert "Selfkind needs Python 3.11, and there is no Python at '/nowhere/python3.11'" in (
        result.stderr
    )
    assert "not found" not in result.stderr.replace("no Python at", "")
