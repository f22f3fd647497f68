"""Access rules for the tracking app's URL patterns (see tests/access_rules/base.py)."""

RULES: dict = {}
