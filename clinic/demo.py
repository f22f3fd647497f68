"""Hooks that let other apps add their own demo data to `manage.py seed_demo`.

clinic imports neither assessments nor tracking; they register a seeder in AppConfig.ready():

    from clinic.demo import register_demo_seeder
    register_demo_seeder(MySeeder())

A seeder has `add_arguments(parser)` (its own size flags) and `seed(context)`. Seeders must be
idempotent (running seed_demo twice changes nothing the second time) and use bulk inserts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from clinic.models import Client, Organisation, User


DEMO_PASSWORD = "selfkind-demo"  # noqa: S105 - the published password of the synthetic demo


@dataclass
class DemoContext:
    organisations: dict[str, Organisation]
    staff: dict[str, User]
    clients: list[Client]  # the hand-made demo clients (about 60), portal client first
    bench_organisation: Organisation | None
    options: dict[str, Any]
    rng: random.Random
    write: Any  # callable(str) for progress lines
    created: dict[str, int] = field(default_factory=dict)


class DemoSeeder(Protocol):
    def add_arguments(self, parser: ArgumentParser) -> None: ...

    def seed(self, context: DemoContext) -> None: ...


_seeders: list[DemoSeeder] = []


def register_demo_seeder(seeder: DemoSeeder) -> None:
    if all(type(existing) is not type(seeder) for existing in _seeders):
        _seeders.append(seeder)


def demo_seeders() -> list[DemoSeeder]:
    return list(_seeders)
