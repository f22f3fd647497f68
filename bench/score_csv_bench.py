"""Benchmark `manage.py score_csv` against the pandas I/O floor.

Generates 100,000 random SCS rows (a pass-through id column, about 2% of rows with one blank
item) in a temporary directory, then times, best of 3:

- the I/O floor: pandas reading the CSV as text (dtype=str, keep_default_na=False) and writing
  it back, which any CSV tool built on pandas pays;
- the score_csv command on the same file, called in-process with --output.

Goal: score_csv at most 2x the floor. Run from the repository root:

    .venv/bin/python bench/score_csv_bench.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATIO = 2.0


def make_input(path: Path, rows: int, seed: int = 2003) -> None:
    """Random SCS answers 1..5, one blank item in about 2% of rows, and an id column."""
    rng = np.random.default_rng(seed)
    answers = rng.integers(1, 6, size=(rows, 26)).astype(str).astype(object)
    with_blank = np.flatnonzero(rng.random(rows) < 0.02)
    answers[with_blank, rng.integers(0, 26, size=len(with_blank))] = ""
    frame = pd.DataFrame(answers, columns=[f"item_{n}" for n in range(1, 27)])
    frame.insert(0, "client_id", [f"C{n:07d}" for n in range(rows)])
    frame.to_csv(path, index=False)


def best_of(repeats: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()

    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "scs.csv"
        make_input(source, options.rows)
        floor_out = Path(directory) / "floor.csv"
        scored_out = Path(directory) / "scored.csv"

        def io_floor() -> None:
            frame = pd.read_csv(source, dtype=str, keep_default_na=False)
            frame.to_csv(floor_out, index=False)

        def score_csv() -> None:
            call_command("score_csv", "scs", str(source), output=str(scored_out))

        floor = best_of(options.repeats, io_floor)
        scoring = best_of(options.repeats, score_csv)
        size = source.stat().st_size / 1e6

    ratio = scoring / floor
    print(f"input: {options.rows:,} SCS rows, {size:.1f} MB; best of {options.repeats}")
    print(f"pandas read + write (I/O floor): {floor:.3f} s")
    print(f"score_csv:                       {scoring:.3f} s")
    verdict = "meets" if ratio <= GOAL_RATIO else "misses"
    print(f"ratio: {ratio:.2f}x ({verdict} the goal of {GOAL_RATIO:g}x)")


if __name__ == "__main__":
    main()
