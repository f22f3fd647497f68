"""Helpers shared by every CSV export."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection): a leading quote is added
    where the text starts with a formula character."""
    return "'" + text if text[:1] in FORMULA_STARTS else text
