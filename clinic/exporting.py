"""Helpers shared by every CSV export."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula (CSV injection): a leading quote is added
    where the text starts with a formula character."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def spreadsheet_cell(value: object) -> object:
    """A CSV cell: text made spreadsheet-safe; numbers and dates as they are (a negative number
    is a number, not a formula); None as an empty cell."""
    if value is None:
        return ""
    return spreadsheet_safe(value) if isinstance(value, str) else value
