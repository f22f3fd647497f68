"""Declared access rules for every URL pattern, checked by tests/test_access_matrix.py.

Each app declares its patterns in a module here. A rule names, per persona, the expected
status: 200, 302, 403, 404, 405, or LOGIN (redirect to the login page). Patterns with
arguments give a function building the kwargs from the test World (usually "the clinician's
client"), so outsiders are checked against a record that really exists.
"""

from __future__ import annotations

from tests.access_rules import accounts, assessments, clinic, dashboard, delivery, tracking
from tests.access_rules.base import Rule

RULES: dict[str, Rule] = {}
for module in (clinic, accounts, assessments, tracking, dashboard, delivery):
    overlap = RULES.keys() & module.RULES.keys()
    assert not overlap, f"URL names declared twice: {overlap}"
    RULES.update(module.RULES)
