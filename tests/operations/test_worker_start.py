"""A web worker loads every view at start and then keeps what start-up created out of the
cyclic garbage collector's full collections (config.wsgi)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_loads_the_views_and_freezes_what_start_up_created():
    code = (
        "import gc, sys, config.wsgi; "
        "print(gc.get_freeze_count(), 'dashboard.views' in sys.modules, "
        "len(gc.get_objects(generation=2)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    frozen, views_loaded, left_in_view = done.stdout.split()

    assert views_loaded == "True"
    assert int(frozen) > 50_000
    assert int(left_in_view) < int(frozen) / 10
