"""The reader of PostgreSQL's binary COPY of float8 rows (the whole-clinic dose-response reads
190,000 intervals through it): pure, no database."""

from __future__ import annotations

import math
import struct

import pytest

from dashboard.selectors import COPY_SIGNATURE, _binary_copy_floats

HEADER = COPY_SIGNATURE + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)


def copy_of(rows, *, length=8, header=HEADER) -> bytes:
    body = b"".join(
        struct.pack(">h", len(row))
        + b"".join(struct.pack(">i", length) + struct.pack(">d", value) for value in row)
        for row in rows
    )
    return header + body + TRAILER


def test_rows_of_floats_come_back_in_order_with_nan_kept():
    values = _binary_copy_floats(copy_of([(1.0, -0.25, 3.0), (2.0, math.nan, 1e6)]), 3)
    assert values.shape == (2, 3)
    assert values[0].tolist() == [1.0, -0.25, 3.0]
    assert values[1, 0] == 2.0 and math.isnan(values[1, 1]) and values[1, 2] == 1e6


def test_a_header_extension_is_skipped():
    header = COPY_SIGNATURE + struct.pack(">ii", 0, 4) + b"\x00\x01\x02\x03"
    assert _binary_copy_floats(copy_of([(1.0, 2.0, 3.0)], header=header), 3).tolist() == [
        [1.0, 2.0, 3.0]
    ]


def test_no_rows_is_an_empty_array_of_the_width():
    assert _binary_copy_floats(copy_of([]), 4).shape == (0, 4)


@pytest.mark.parametrize(
    "data",
    [
        copy_of([(1.0, 2.0)]),  # two fields where three are expected
        copy_of([(1.0, 2.0, 3.0)], length=4),  # not float8
        copy_of([(1.0, 2.0, 3.0)])[1:],  # no signature
        copy_of([(1.0, 2.0, 3.0)])[:-2],  # no trailer
        copy_of([(1.0, 2.0, 3.0)], header=COPY_SIGNATURE + struct.pack(">ii", 1 << 16, 0)),
        COPY_SIGNATURE + b"\x00",  # cut short in the header
        b"",
    ],
)
def test_anything_but_rows_of_float8_is_refused_rather_than_misread(data):
    with pytest.raises(ValueError, match="not a binary COPY"):
        _binary_copy_floats(data, 3)
