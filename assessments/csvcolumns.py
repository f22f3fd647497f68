"""The columns assessments reads from CSV files, for `clinic.csvinput`.

Item columns are named item_1, item_2, ... in every file: a column named like one must be named
exactly and once, whether or not the instrument at hand has that item.
"""

from __future__ import annotations

import re

from assessments.instruments import Instrument
from assessments.scoring import item_columns
from clinic.csvinput import Columns

ITEM_COLUMN_PATTERN = r"item_[1-9][0-9]*"  # no leading zeros: item_07 is not item_7

IMPORT_COLUMNS = Columns(
    required=("client_code", "instrument", "administered_on"),
    pattern=ITEM_COLUMN_PATTERN,
    needs="and item_1, item_2, ... as the instruments in the file need",
)


def score_columns(instrument: Instrument) -> Columns:
    """A file scored for one instrument: its item columns, every other column passed through."""
    return Columns(
        required=tuple(item_columns(instrument)),
        pattern=ITEM_COLUMN_PATTERN,
        needs=f"{instrument.short_name} needs item_1..item_{instrument.item_count}",
    )


def item_number(name: str) -> int | None:
    """7 for the column item_7; None for a column that is not an item column."""
    return int(name[5:]) if re.fullmatch(ITEM_COLUMN_PATTERN, name) else None
