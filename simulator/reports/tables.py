"""Every table the project writes for people and spreadsheets: CSV files and the Excel workbook.

One mechanism for both:

* text that a spreadsheet would read as a formula (a cell beginning with ``=``, ``+``, ``-``, ``@``, a
  tab or a carriage return, e.g. a scenario named ``=HYPERLINK(...)``) stays text: in CSV it gets a
  leading single quote (as OWASP recommends against CSV injection), in the workbook it is written with
  ``write_string`` and the workbook converts no string to a formula or a link;
* every file is written whole or not at all (a temporary file beside it, then a rename), and an I/O
  error names the file in one line (:class:`~simulator.errors.ChannelError`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ChannelError

#: A text cell beginning with one of these is read as a formula by spreadsheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text a spreadsheet shows as written: ``=SUM(A1)`` -> ``'=SUM(A1)``; other text unchanged."""
    return "'" + text if isinstance(text, str) and text.startswith(FORMULA_START) else text


def safe_frame(frame: pd.DataFrame, index: bool = False) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells, column names (and index, if written) cannot become formulas."""
    out = frame.reset_index() if index else frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype == object or isinstance(values.dtype, pd.CategoricalDtype | pd.StringDtype):
            out[column] = values.map(lambda v: neutralise(v) if isinstance(v, str) else v).astype(object)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (folders created); an I/O error names the file."""
    from ..sweeps.storage import atomic_write_bytes  # here: the engine writes CSV too, and sweeps import it

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_dir():
            raise ChannelError(f"cannot write {path}: it is a folder")
        atomic_write_bytes(path, data)
    except OSError as exc:
        raise ChannelError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write text (UTF-8) atomically; an I/O error names the file."""
    return write_bytes(path, text.encode("utf-8"))


def write_csv(frame: pd.DataFrame, path: str | Path, index: bool = False) -> Path:
    """Write a table as CSV, atomically, with formula-like text cells neutralised (the one CSV writer)."""
    buffer = io.StringIO()
    # CRLF line ends (RFC 4180): the csv writer then quotes any text holding a CR or an LF, so a stray
    # carriage return in a name cannot split a row in two.
    safe_frame(frame, index=index).to_csv(buffer, index=False, lineterminator="\r\n")
    return write_text(path, buffer.getvalue())


# -- the workbook -------------------------------------------------------------------------------------

#: Number formats by what a column holds (the vocabulary's kinds, plus plain numbers and months).
NUMBER_FORMATS = {
    "money": "#,##0",
    "share": "0.0%",
    "probability": "0.0%",
    "index": "0.000",
    "count": "#,##0",
    "mean count": "#,##0.0",
    "flow": "#,##0",
    "number": "#,##0.####",
    "month": "0",
    "text": "@",
}


@dataclass
class Sheet:
    """One sheet of the workbook: a title line, a header row (frozen) and the table.

    ``kinds`` maps a column to its format (:data:`NUMBER_FORMATS`; text by default for object columns,
    ``number`` for numeric ones); ``units`` adds a unit to a column's header (``revenue P50 (USD)``).
    ``note`` is written under the table (e.g. why a sheet is empty).
    """

    name: str
    title: str
    table: pd.DataFrame
    kinds: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    note: str = ""
    widths: Mapping[str, int] = field(default_factory=dict)
    #: A format per row, for numbers in columns without a kind of their own (a summary's money and share rows).
    row_kinds: Sequence[str] | None = None


def write_xlsx(path: str | Path, sheets: Sequence[Sheet]) -> Path:
    """Write an Excel workbook (XlsxWriter), atomically. Text is always written as text."""
    import xlsxwriter

    buffer = io.BytesIO()
    # No string becomes a formula, a number or a link: text stays as the scenario wrote it.
    book = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False},
    )
    title_format = book.add_format({"bold": True, "font_size": 13, "font_color": "#1f4e79"})
    header_format = book.add_format({"bold": True, "bg_color": "#d6eaf8", "border": 1, "text_wrap": True})
    note_format = book.add_format({"italic": True, "font_color": "#5d6d7e"})
    formats = {kind: book.add_format({"num_format": text}) for kind, text in NUMBER_FORMATS.items()}
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    for sheet in sheets:
        ws = book.add_worksheet(sheet.name[:31])
        ws.write_string(0, 0, sheet.title, title_format)
        columns = list(sheet.table.columns)
        for j, column in enumerate(columns):
            unit = sheet.units.get(column)
            ws.write_string(2, j, f"{column} ({unit})" if unit else str(column), header_format)
            kind = sheet.kinds.get(column) or ("text" if sheet.table[column].dtype == object else "number")
            width = sheet.widths.get(column) or (48 if kind == "text" and column in ("note", "source") else 16)
            ws.set_column(j, j, width, wrap if kind == "text" else formats[kind])
        ws.freeze_panes(3, 0)
        for i, row in enumerate(sheet.table.itertuples(index=False)):
            row_kind = sheet.row_kinds[i] if sheet.row_kinds is not None else ""
            for j, value in enumerate(row):
                fmt = formats.get(sheet.kinds.get(columns[j]) or row_kind)
                _write_cell(ws, i + 3, j, value, fmt)
        if sheet.note:
            ws.write_string(len(sheet.table) + 4, 0, sheet.note, note_format)
        if len(sheet.table):
            ws.autofilter(2, 0, 2 + len(sheet.table), max(len(columns) - 1, 0))
    book.close()
    return write_bytes(path, buffer.getvalue())


def _write_cell(ws: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or value is pd.NA:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool | np.bool_):
        ws.write_boolean(row, col, bool(value))
    elif isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if math.isfinite(number):
            ws.write_number(row, col, number, fmt)
        else:
            ws.write_blank(row, col, None, fmt)
    else:
        text = value if isinstance(value, str) else _text(value)
        ws.write_string(row, col, text)


def _text(value: Any) -> str:
    from ..formatting import value_text

    return value_text(list(value) if isinstance(value, tuple) else value)
