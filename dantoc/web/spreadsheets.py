"""Reading an uploaded XLSX workbook without trusting it (catalog and translation imports).

openpyxl parses the parts of a workbook with the XML parser, and a damaged or hostile file
fails in whatever way the parser or openpyxl's own code happens to fail: ``TypeError`` for a
``<fill/>`` without content in the styles, ``ParseError`` for broken sheet XML,
``KeyError``/``IndexError`` for missing parts. With ``defusedxml`` installed openpyxl refuses
DTDs and entities (billion laughs, external entities). So the one reader here reads the first
sheet eagerly, inside one ``try``, and turns any failure into :class:`BadWorkbook`, which the
importers answer with their localized "not a valid XLSX workbook" message; the cause is
logged for the administrator.
"""

from __future__ import annotations

import io
import itertools
import logging
import math
from typing import Any

import openpyxl

log = logging.getLogger(__name__)


class BadWorkbook(Exception):
    """The upload is not a workbook openpyxl can read."""


def _clean(value: Any) -> Any:
    """A cell value; NaN and infinities (a numeric cell holding ``NaN``) become their text,
    which every column then refuses with its own message."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def xlsx_rows(data: bytes, limit: int) -> list[tuple]:
    """The first ``limit`` rows of the workbook's first sheet, as tuples of cell values
    (an empty list for a workbook without sheets or rows).

    :raise BadWorkbook: for anything openpyxl cannot read.
    """
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            if not book.worksheets:
                return []
            rows = book.worksheets[0].iter_rows(values_only=True)
            return [tuple(_clean(value) for value in row)
                    for row in itertools.islice(rows, limit)]
        finally:
            book.close()
    except Exception as error:  # any failure of the parser is a bad file
        log.info("unreadable XLSX upload: %s: %s", type(error).__name__, error)
        raise BadWorkbook(str(error)) from error
