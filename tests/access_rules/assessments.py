"""Access rules for the assessments app's URL patterns (see tests/access_rules/base.py)."""

RULES: dict = {}
