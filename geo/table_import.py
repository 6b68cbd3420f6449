"""Read planners' point tables (CSV, TXT, XLSX, GeoJSON) into WGS84 points.

Planners hand over POI lists exported from Amap, Baidu or Excel: GBK or UTF-8
text, odd delimiters, a few broken rows, coordinates in GCJ-02 or BD-09. This
module reads such a table, converts the coordinates to WGS84 with
:func:`geo.datum.to_wgs84`, and keeps loading when single rows are bad: every
bad row becomes a :class:`RowProblem` with the row number a planner sees in a
spreadsheet. Only problems with the whole file raise
:class:`~geo.errors.InputDataError`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import math
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
from openpyxl.utils import get_column_letter

from geo.datum import Datum, parse_datum, to_wgs84
from geo.errors import InputDataError

logger = logging.getLogger(__name__)

# Reasons a row is skipped; RowProblem.reason is always one of these.
REASON_MISSING: Final = "missing coordinate"
REASON_NON_NUMERIC: Final = "non-numeric coordinate"
REASON_NOT_FINITE: Final = "coordinate is NaN or infinite"
REASON_OUT_OF_RANGE: Final = "coordinate outside valid lon/lat range"
REASON_OUTSIDE_BBOX: Final = "outside study area"
REASON_COLUMN_COUNT: Final = "wrong number of columns"
REASON_UNDECODABLE: Final = "undecodable text (not UTF-8 or GBK)"
REASON_NOT_POINT: Final = "geometry is not a Point"
REASON_NO_GEOMETRY: Final = "missing geometry"

TEXT_EXTENSIONS: Final = (".csv", ".txt")
EXCEL_EXTENSIONS: Final = (".xlsx",)
GEOJSON_EXTENSIONS: Final = (".geojson", ".json")
SUPPORTED_EXTENSIONS: Final = TEXT_EXTENSIONS + EXCEL_EXTENSIONS + GEOJSON_EXTENSIONS

LON_NAMES: Final = ("lng", "lon", "long", "longitude", "x", "经度")
LAT_NAMES: Final = ("lat", "latitude", "y", "纬度")

# Columns the result adds; an input column with one of these names is renamed.
ADDED_COLUMNS: Final = ("row", "lon_wgs84", "lat_wgs84", "geometry")

_AUTO_ENCODINGS: Final = ("utf-8-sig", "gb18030")
_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NOT_FINITE_WORDS: Final = frozenset({"nan", "inf", "infinity"})


@dataclass(frozen=True)
class RowProblem:
    """One input row that was skipped.

    Attributes
    ----------
    row
        The 1-based row a planner sees in a spreadsheet (header = 1, first data
        row = 2); for GeoJSON the 1-based feature index.
    reason
        Why the row was skipped; one of the ``REASON_*`` constants.
    """

    row: int
    reason: str


@dataclass(frozen=True, eq=False)
class PointTable:
    """A point table read by :func:`read_point_table`.

    Attributes
    ----------
    points
        The good rows, EPSG:4326. Input columns are kept as text (``str``, or
        ``None`` where a cell is empty), except the two coordinate columns,
        which hold the original (unconverted) values as floats. Added columns:
        ``row`` (the spreadsheet row or feature number), ``lon_wgs84``,
        ``lat_wgs84`` and ``geometry`` (WGS84 points).
    problems
        The skipped rows, in file order.
    encoding
        The text encoding used (``None`` for XLSX).
    datum
        The datum of the input coordinates.
    datum_note
        One line describing the datum conversion.
    source
        The file that was read.
    """

    points: gpd.GeoDataFrame
    problems: tuple[RowProblem, ...]
    encoding: str | None
    datum: Datum
    datum_note: str
    source: Path

    def problems_by_reason(self) -> dict[str, int]:
        """Count the skipped rows per reason, most frequent first.

        Returns
        -------
        dict
            Reason → number of rows.
        """
        counts = Counter(problem.reason for problem in self.problems)
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def summary(self) -> str:
        """Describe the load in one line.

        Returns
        -------
        str
            E.g. "1290 points loaded, 3 rows skipped (2 outside study area, 1
            missing coordinate)".
        """
        loaded = _plural(len(self.points), "point")
        if not self.problems:
            return f"{loaded} loaded, no rows skipped"
        reasons = ", ".join(
            f"{count} {reason}" for reason, count in self.problems_by_reason().items()
        )
        return f"{loaded} loaded, {_plural(len(self.problems), 'row')} skipped ({reasons})"


@dataclass
class _RawTable:
    """A table as read from a file, before coordinates are checked (all cells text)."""

    columns: list[str]
    rows: list[int] = field(default_factory=list)
    records: list[list[str | None]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    encoding: str | None = None
    lon_col: str | None = None
    lat_col: str | None = None


@dataclass(frozen=True)
class _Coordinates:
    """Parsed coordinates of the rows that passed the per-row checks."""

    index: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    problems: list[RowProblem]


def read_point_table(
    path: str | os.PathLike[str],
    *,
    datum: Datum,
    bbox: tuple[float, float, float, float] | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    encoding: str | None = None,
) -> PointTable:
    """Read a table of points and convert its coordinates to WGS84.

    Parameters
    ----------
    path
        A ``.csv``/``.txt`` (comma, tab or semicolon separated), ``.xlsx``
        (first sheet) or ``.geojson``/``.json`` (FeatureCollection of Points) file.
    datum
        The datum of the coordinates in the file: "wgs84", "gcj02" (Amap,
        Tencent) or "bd09" (Baidu).
    bbox
        Optional study area (lon_min, lat_min, lon_max, lat_max) in WGS84;
        rows outside it after conversion are skipped as problems.
    lon_col, lat_col
        Coordinate column names; found automatically when omitted (lng, lon,
        long, longitude, x, 经度 / lat, latitude, y, 纬度, any case). Ignored
        for GeoJSON, whose coordinates come from the geometry.
    encoding
        Text encoding of a CSV/TXT file; when omitted, UTF-8 then GB18030
        (covers GBK and GB2312) are tried, and undecodable lines are skipped.

    Returns
    -------
    PointTable
        The good rows as WGS84 points, and the problems of the skipped rows.

    Raises
    ------
    InputDataError
        If the file is missing, empty, of an unsupported type, unreadable, or
        has no coordinate columns.
    """
    source = Path(path)
    canonical = parse_datum(datum)
    _check_bbox(bbox)
    raw = _read_raw(source, lon_col=lon_col, lat_col=lat_col, encoding=encoding)
    if not raw.records and not raw.problems:
        raise InputDataError(f"{source}: no data rows below the header; add rows and try again")
    table = _to_point_table(raw, source=source, datum=canonical, bbox=bbox)
    logger.info("%s: %s", source.name, table.summary())
    return table


def _plural(count: int, noun: str) -> str:
    """Return e.g. "1 point" or "3 points"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _check_bbox(bbox: tuple[float, float, float, float] | None) -> None:
    """Reject a study-area box whose corners are swapped or not numbers."""
    if bbox is None:
        return
    usage = "give four numbers (lon_min, lat_min, lon_max, lat_max) in WGS84 degrees"
    try:
        lon_min, lat_min, lon_max, lat_max = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise InputDataError(f"bbox {bbox!r}: {usage}") from exc
    if not all(math.isfinite(v) for v in (lon_min, lat_min, lon_max, lat_max)):
        raise InputDataError(f"bbox {bbox!r}: {usage}")
    if not (lon_min < lon_max and lat_min < lat_max):
        raise InputDataError(f"bbox {bbox!r}: min must be below max; {usage}")


def _read_raw(
    source: Path,
    *,
    lon_col: str | None,
    lat_col: str | None,
    encoding: str | None,
) -> _RawTable:
    """Check the path, read the file by its extension and find the coordinate columns."""
    suffix = _check_path(source)
    if suffix in GEOJSON_EXTENSIONS:
        if lon_col or lat_col:
            logger.info("%s: lon_col/lat_col ignored, GeoJSON points carry coordinates", source)
        return _read_geojson(source)
    raw = _read_excel(source) if suffix in EXCEL_EXTENSIONS else _read_text(source, encoding)
    raw.lon_col = _find_column(raw.columns, lon_col, LON_NAMES, source=source, option="lon_col")
    raw.lat_col = _find_column(raw.columns, lat_col, LAT_NAMES, source=source, option="lat_col")
    if raw.lon_col == raw.lat_col:
        raise InputDataError(
            f"{source}: longitude and latitude are both column {raw.lon_col!r}; "
            "pass different lon_col and lat_col"
        )
    return raw


def _check_path(source: Path) -> str:
    """Return the lower-case extension of a readable, non-empty file of a supported type."""
    if not source.exists():
        raise InputDataError(f"{source}: file not found; check the path and the file name")
    if source.is_dir():
        raise InputDataError(f"{source}: is a directory; give the path of a table file inside it")
    suffix = source.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        supported = ", ".join(SUPPORTED_EXTENSIONS)
        raise InputDataError(
            f"{source}: unsupported file type {suffix or '(no extension)'!r}; "
            f"save the table as one of {supported}"
        )
    if source.stat().st_size == 0:
        raise InputDataError(
            f"{source}: the file is empty (0 bytes, no data rows); export the table again"
        )
    return suffix


def _find_column(
    columns: Sequence[str],
    wanted: str | None,
    candidates: Sequence[str],
    *,
    source: Path,
    option: str,
) -> str:
    """Find a coordinate column: the one asked for, else the first known name (any case)."""
    by_lower: dict[str, str] = {}
    for name in columns:
        by_lower.setdefault(name.lower(), name)
    if wanted is not None:
        if wanted in columns:
            return wanted
        if wanted.strip().lower() in by_lower:
            return by_lower[wanted.strip().lower()]
        raise InputDataError(
            f"{source}: column {wanted!r} given as {option} is not in the file; "
            f"its columns are {_listing(columns)}"
        )
    for candidate in candidates:
        if candidate in by_lower:
            return by_lower[candidate]
    raise InputDataError(
        f"{source}: no {option.split('_')[0]} column found among {_listing(columns)}; "
        f"name it one of {', '.join(candidates)} or pass {option}=..."
    )


def _listing(columns: Sequence[str], limit: int = 30) -> str:
    """Column names for a message: a long header (a binary file read as text) is cut."""
    shown = [name if len(name) <= 80 else name[:80] + "…" for name in columns[:limit]]
    more = f" and {len(columns) - limit} more" if len(columns) > limit else ""
    return f"{shown}{more}"


# ---------------------------------------------------------------- text (CSV/TXT)


def _read_text(source: Path, encoding: str | None) -> _RawTable:
    """Read a delimited text file, decoding it as well as the bytes allow."""
    data = source.read_bytes()
    used, lines = _decode(data, encoding, source=source)
    raw = _parse_lines(lines, source=source)
    raw.encoding = used
    return raw


def _decode(data: bytes, encoding: str | None, *, source: Path) -> tuple[str, list[str | None]]:
    """Decode the file into lines; a line that cannot be decoded is ``None``.

    With no ``encoding`` given, UTF-8 (with or without BOM) is tried first,
    then GB18030. A file that is mostly valid UTF-8 with a few corrupt lines is
    decoded as UTF-8 line by line rather than wholesale as GB18030, which would
    silently turn its Chinese text into mojibake.
    """
    if encoding is not None:
        _check_codec(encoding, source=source)
        return encoding, _decode_with(data, encoding)
    try:
        return "utf-8-sig", _split_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    byte_lines = data.splitlines(keepends=True)
    utf8_bad = _count_undecodable(byte_lines, "utf-8-sig")
    utf8_non_ascii_ok = sum(
        1 for line in byte_lines if not line.isascii() and _decodes(line, "utf-8-sig")
    )
    if utf8_non_ascii_ok <= utf8_bad:
        try:
            return "gb18030", _split_text(data.decode("gb18030"))
        except UnicodeDecodeError:
            pass
    gb_bad = _count_undecodable(byte_lines, "gb18030")
    best = "utf-8-sig" if utf8_bad <= gb_bad else "gb18030"
    logger.warning(
        "%s: neither UTF-8 nor GBK throughout; decoding line by line as %s "
        "(%d undecodable lines skipped)",
        source,
        best,
        min(utf8_bad, gb_bad),
    )
    return best, _decode_lines(byte_lines, best)


def _check_codec(encoding: str, *, source: Path) -> None:
    """Reject an encoding name Python does not know."""
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InputDataError(
            f"{source}: unknown encoding {encoding!r}; use e.g. 'utf-8' or 'gbk', "
            "or leave encoding unset to detect it"
        ) from exc


def _decode_with(data: bytes, encoding: str) -> list[str | None]:
    """Decode with one encoding; fall back to line by line if the whole file fails."""
    try:
        return _split_text(data.decode(encoding))
    except UnicodeDecodeError:
        return _decode_lines(data.splitlines(keepends=True), encoding)


def _split_text(text: str) -> list[str | None]:
    """Split decoded text into lines, keeping line endings (as csv expects)."""
    return list(io.StringIO(text, newline=""))


def _decodes(line: bytes, encoding: str) -> bool:
    """Tell whether one line decodes."""
    try:
        line.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _count_undecodable(lines: Iterable[bytes], encoding: str) -> int:
    """Count the lines that do not decode."""
    return sum(1 for line in lines if not _decodes(line, encoding))


def _decode_lines(lines: Iterable[bytes], encoding: str) -> list[str | None]:
    """Decode each line on its own; ``None`` for a line that does not decode."""
    return [line.decode(encoding) if _decodes(line, encoding) else None for line in lines]


def _parse_lines(lines: list[str | None], *, source: Path) -> _RawTable:
    """Parse decoded lines as delimited records below a header."""
    first = next((line for line in lines if line is None or line.strip()), "")
    if first is None:
        raise InputDataError(
            f"{source}: the header line cannot be decoded; "
            "save the file as UTF-8 (or GBK) text, or pass encoding=..."
        )
    if not first:
        raise InputDataError(f"{source}: holds only blank lines (no header, no data rows)")
    delimiter = _sniff_delimiter(first)
    records = _records(lines, delimiter)
    header_at = next(
        (
            i
            for i, record in enumerate(records)
            if record.fields is None or any(f.strip() for f in record.fields)
        ),
        None,
    )
    if header_at is None:
        raise InputDataError(f"{source}: no header line with column names; add one")
    if records[header_at].fields is None:  # else a data row would become the header
        raise InputDataError(
            f"{source}: the header line cannot be parsed (a field longer than "
            f"{csv.field_size_limit()} characters, or broken quotes); fix the first line"
        )
    raw = _RawTable(columns=_column_names(records[header_at].fields or []))
    for record in records[header_at + 1 :]:
        _add_text_record(raw, record)
    return raw


@dataclass(frozen=True)
class _Record:
    """One spreadsheet row of a text file: its fields, or why it could not be read."""

    row: int
    fields: list[str] | None
    reason: str | None = None


def _records(lines: list[str | None], delimiter: str) -> list[_Record]:
    """Split lines into records numbered from 1 as a spreadsheet would show them.

    A quoted field may span lines (one record); an undecodable line is one
    record of its own; a blank line is a record with no fields.
    """
    records: list[_Record] = []
    run: list[str] = []
    for line in lines:
        if line is not None:
            run.append(line)
            continue
        records += _parse_run(run, delimiter, first_row=len(records) + 1)
        run = []
        records.append(_Record(len(records) + 1, None, REASON_UNDECODABLE))
    return records + _parse_run(run, delimiter, first_row=len(records) + 1)


def _parse_run(lines: list[str], delimiter: str, *, first_row: int) -> list[_Record]:
    """Parse consecutive decodable lines; a record csv rejects becomes a problem."""
    records: list[_Record] = []
    position = 0
    while position < len(lines):
        reader = csv.reader(lines[position:], delimiter=delimiter)
        try:
            for fields in reader:
                records.append(_Record(first_row + len(records), fields))
            return records
        except csv.Error as exc:
            logger.debug("row %d: %s", first_row + len(records), exc)
            records.append(_Record(first_row + len(records), None, REASON_COLUMN_COUNT))
            position += max(reader.line_num, 1)
    return records


def _sniff_delimiter(header_line: str) -> str:
    """Pick the delimiter that splits the header into most columns (comma on a tie)."""
    widths = {d: _width(header_line, d) for d in (",", "\t", ";")}
    return max(widths, key=lambda d: widths[d])  # max keeps the first of equal widths


def _width(line: str, delimiter: str) -> int:
    """Number of fields ``delimiter`` splits ``line`` into; 0 if csv rejects the line."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:  # e.g. a field over csv.field_size_limit(): not split by this delimiter
        return 0


def _column_names(header: Sequence[Any]) -> list[str]:
    """Strip header names, name blank ones and make duplicates unique ("name.1")."""
    names: list[str] = []
    seen: set[str] = set()
    last_suffix: dict[str, int] = {}  # restart where the base's last duplicate stopped:
    for position, value in enumerate(header, start=1):  # from 1 is quadratic in repeats
        base = "" if value is None else str(value).strip()
        base = base or f"unnamed_{position}"
        name, suffix = base, last_suffix.get(base, 0)
        while name in seen:
            suffix += 1
            name = f"{base}.{suffix}"
        last_suffix[base] = suffix
        seen.add(name)
        names.append(name)
    return names


def _add_text_record(raw: _RawTable, record: _Record) -> None:
    """Add one text record to the table, or a problem if it is broken."""
    if record.fields is None:
        raw.problems.append(RowProblem(record.row, record.reason or REASON_COLUMN_COUNT))
        return
    fields = record.fields
    if not any(field.strip() for field in fields):
        return  # a blank line is no row
    width = len(raw.columns)
    if len(fields) > width and not any(field.strip() for field in fields[width:]):
        fields = fields[:width]  # trailing empty separators, as some exports write
    if len(fields) != width:
        raw.problems.append(RowProblem(record.row, REASON_COLUMN_COUNT))
        logger.debug("row %d: %d fields, expected %d", record.row, len(fields), width)
        return
    raw.rows.append(record.row)
    raw.records.append(list(fields))


# ---------------------------------------------------------------- Excel


def _read_excel(source: Path) -> _RawTable:
    """Read the first sheet of an .xlsx workbook; the first non-empty row is the header."""
    rows = _excel_rows(source)
    body = [
        (number, values) for number, values in rows if any(_cell_text(v) for v in values.values())
    ]
    if not body:
        raise InputDataError(
            f"{source}: the first sheet is empty (no data rows); put the table on the first sheet"
        )
    (_, header), data = body[0], body[1:]
    keep = _excel_columns(header, [values for _, values in data])
    names = [_cell_text(header.get(i)) for i in keep]
    labels = [
        name if name and name.strip() else f"unnamed_{get_column_letter(i + 1)}"
        for name, i in zip(names, keep, strict=True)
    ]
    raw = _RawTable(columns=_column_names(labels))
    for number, values in data:
        raw.rows.append(number)
        raw.records.append([_cell_text(values.get(i)) for i in keep])
    return raw


def _excel_rows(source: Path) -> list[tuple[int, dict[int, Any]]]:
    """Load the values of the first sheet: (sheet row number, {0-based column: value}).

    Only rows holding a value are returned, each as a sparse mapping: a sheet with one
    stray cell at XFD1048576 is a few kilobytes, and its dense rectangle 17 billion cells.
    """
    try:
        # our own handle: openpyxl leaves its file open when a broken workbook fails to load
        # (a ResourceWarning later, an error under warnings-as-errors)
        with warnings.catch_warnings(record=True) as caught, source.open("rb") as handle:
            warnings.simplefilter("always")
            workbook = openpyxl.load_workbook(handle, read_only=False, data_only=True)
    except Exception as exc:
        raise InputDataError(
            f"{source}: cannot read as an Excel workbook ({type(exc).__name__}: {exc}); "
            "open it in Excel or WPS and save it again as .xlsx"
        ) from exc
    for warning in caught:
        logger.debug("%s: openpyxl: %s", source, warning.message)
    try:
        if not workbook.worksheets:  # e.g. only a chart sheet, or the sheet part is missing
            raise InputDataError(
                f"{source}: the workbook has no worksheet; "
                "open it in Excel or WPS and save it again as .xlsx"
            )
        sheet = workbook.worksheets[0]
        if len(workbook.worksheets) > 1:
            logger.info("%s: reading the first sheet %r only", source, sheet.title)
        return _sparse_rows(sheet)
    finally:
        workbook.close()


def _sparse_rows(sheet: Any) -> list[tuple[int, dict[int, Any]]]:
    """The rows of ``sheet`` that hold a value, as {0-based column: value}, in row order."""
    cells = getattr(sheet, "_cells", None)  # {(row, column): Cell}: the cells in the file
    if not isinstance(cells, dict):  # another openpyxl: the dense walk (slow on stray cells)
        dense = enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)
        return [(n, {i: v for i, v in enumerate(vs) if v is not None}) for n, vs in dense]
    rows: dict[int, dict[int, Any]] = {}
    for (row, column), cell in cells.items():
        if cell.value is not None:
            rows.setdefault(row, {})[column - 1] = cell.value
    return [(row, dict(sorted(rows[row].items()))) for row in sorted(rows)]


def _excel_columns(header: dict[int, Any], data: list[dict[int, Any]]) -> list[int]:
    """Indices of the columns to keep: named ones, and unnamed ones that hold data."""
    used = {i for i, value in header.items() if _cell_text(value)}
    for values in data:
        used.update(i for i, value in values.items() if _cell_text(value))
    return sorted(used)


def _cell_text(value: Any) -> str | None:
    """Turn a cell value into text; ``None`` for an empty cell."""
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


# ---------------------------------------------------------------- GeoJSON


def _read_geojson(source: Path) -> _RawTable:
    """Read a FeatureCollection (or a single Feature) of Points."""
    features = _geojson_features(source)
    keys: dict[str, None] = {}
    for feature in features:
        keys.update(dict.fromkeys(str(k).strip() for k in _properties(feature)))
    columns = _column_names(list(keys))
    lon_name, lat_name = _free_name("lon", columns), _free_name("lat", columns)
    raw = _RawTable(
        columns=[*columns, lon_name, lat_name],
        encoding="utf-8",
        lon_col=lon_name,
        lat_col=lat_name,
    )
    for number, feature in enumerate(features, start=1):
        _add_feature(raw, number, feature, columns)
    return raw


def _geojson_features(source: Path) -> list[Any]:
    """Parse the file and return its list of features."""
    try:
        document = json.loads(source.read_bytes().decode("utf-8-sig"), parse_int=_json_int)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputDataError(
            f"{source}: not valid GeoJSON ({exc}); export it again as UTF-8 GeoJSON"
        ) from exc
    except RecursionError as exc:
        raise InputDataError(
            f"{source}: not valid GeoJSON (arrays or objects nested too deeply); "
            "export it again as UTF-8 GeoJSON"
        ) from exc
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "Feature":
        return [document]
    if kind != "FeatureCollection" or not isinstance(document.get("features"), list):
        raise InputDataError(
            f"{source}: expected a GeoJSON FeatureCollection of Point features, "
            f"found {kind or type(document).__name__!r}"
        )
    features: list[Any] = document["features"]
    if not features:
        raise InputDataError(f"{source}: the FeatureCollection has no features (no data rows)")
    return features


def _json_int(text: str) -> int | float:
    """Parse a JSON integer; one too long for ``int`` (over 4300 digits) becomes ±inf.

    Python refuses to convert such a literal (ValueError), which would reject the whole
    file; as ±inf it is one row's non-finite coordinate or one odd property value.
    """
    try:
        return int(text)
    except ValueError:
        return float(text)


def _properties(feature: Any) -> dict[Any, Any]:
    """A feature's properties, or an empty dict when absent or malformed."""
    props = feature.get("properties") if isinstance(feature, dict) else None
    return props if isinstance(props, dict) else {}


def _free_name(base: str, taken: Sequence[str]) -> str:
    """``base``, or ``base_geojson`` (then numbered) if a property already uses it."""
    lowered = {name.lower() for name in taken}
    name, n = base, 0
    while name.lower() in lowered:
        n += 1
        name = f"{base}_geojson" if n == 1 else f"{base}_geojson{n}"
    return name


def _add_feature(raw: _RawTable, number: int, feature: Any, columns: list[str]) -> None:
    """Add one feature as a record, or a problem if it is not a Point."""
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict):
        raw.problems.append(RowProblem(number, REASON_NO_GEOMETRY))
        return
    if geometry.get("type") != "Point":
        raw.problems.append(RowProblem(number, REASON_NOT_POINT))
        logger.debug("feature %d: %s geometry", number, geometry.get("type"))
        return
    coords = geometry.get("coordinates")
    if not isinstance(coords, list | tuple) or len(coords) < 2:
        raw.problems.append(RowProblem(number, REASON_MISSING))
        return
    props = {str(k).strip(): v for k, v in _properties(feature).items()}
    values = [_property_text(props.get(name)) for name in columns]
    raw.rows.append(number)
    raw.records.append([*values, _property_text(coords[0]), _property_text(coords[1])])


def _property_text(value: Any) -> str | None:
    """Turn a JSON value into text (objects and arrays as JSON); ``None`` for null."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


# ---------------------------------------------------------------- coordinates


def _to_point_table(
    raw: _RawTable,
    *,
    source: Path,
    datum: Datum,
    bbox: tuple[float, float, float, float] | None,
) -> PointTable:
    """Check the coordinates of every record, convert them and build the result."""
    assert raw.lon_col is not None and raw.lat_col is not None
    lon_at, lat_at = raw.columns.index(raw.lon_col), raw.columns.index(raw.lat_col)
    coords = _parse_coordinates(raw, lon_at, lat_at)
    conversion = to_wgs84(coords.lon, coords.lat, datum)
    inside = _inside_bbox(conversion.lon, conversion.lat, bbox)
    problems = [*raw.problems, *coords.problems]
    problems += [RowProblem(raw.rows[i], REASON_OUTSIDE_BBOX) for i in coords.index[~inside]]
    problems.sort(key=lambda problem: problem.row)
    if len(coords.problems) == len(raw.records) and raw.records:
        _hint_all_bad(coords.problems, source)
    keep = coords.index[inside]
    points = _build_frame(
        raw,
        keep,
        lon=coords.lon[inside],
        lat=coords.lat[inside],
        lon_wgs84=conversion.lon[inside],
        lat_wgs84=conversion.lat[inside],
    )
    return PointTable(
        points=points,
        problems=tuple(problems),
        encoding=raw.encoding,
        datum=datum,
        datum_note=conversion.note,
        source=source,
    )


def _parse_coordinates(raw: _RawTable, lon_at: int, lat_at: int) -> _Coordinates:
    """Parse and range-check the coordinates of every record."""
    index: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    problems: list[RowProblem] = []
    for i, record in enumerate(raw.records):
        lon, lat, reason = _parse_pair(record[lon_at], record[lat_at])
        if reason is not None:
            problems.append(RowProblem(raw.rows[i], reason))
            continue
        index.append(i)
        lons.append(lon)
        lats.append(lat)
    return _Coordinates(
        index=np.asarray(index, dtype=np.int64),
        lon=np.asarray(lons, dtype=np.float64),
        lat=np.asarray(lats, dtype=np.float64),
        problems=problems,
    )


def _parse_pair(lon_text: str | None, lat_text: str | None) -> tuple[float, float, str | None]:
    """Parse one lon/lat pair; the third item is the problem reason, if any."""
    lon, lon_reason = _parse_number(lon_text)
    lat, lat_reason = _parse_number(lat_text)
    for reason in (REASON_MISSING, REASON_NON_NUMERIC, REASON_NOT_FINITE):
        if reason in (lon_reason, lat_reason):
            return lon, lat, reason
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        return lon, lat, REASON_OUT_OF_RANGE
    return lon, lat, None


def _parse_number(text: str | None) -> tuple[float, str | None]:
    """Parse one coordinate strictly (no "1_000", no "12°"); return it and a problem reason."""
    stripped = "" if text is None else text.strip()
    if not stripped:
        return math.nan, REASON_MISSING
    if stripped.lstrip("+-").lower() in _NOT_FINITE_WORDS:
        return math.nan, REASON_NOT_FINITE
    if not _NUMBER.fullmatch(stripped):
        return math.nan, REASON_NON_NUMERIC
    value = float(stripped)
    return value, (None if math.isfinite(value) else REASON_NOT_FINITE)


def _inside_bbox(
    lon: np.ndarray, lat: np.ndarray, bbox: tuple[float, float, float, float] | None
) -> np.ndarray:
    """Mask of points inside the study area (all True without one)."""
    if bbox is None:
        return np.ones(lon.shape, dtype=bool)
    lon_min, lat_min, lon_max, lat_max = bbox
    return (lon >= lon_min) & (lon <= lon_max) & (lat >= lat_min) & (lat <= lat_max)


def _hint_all_bad(problems: list[RowProblem], source: Path) -> None:
    """Log a hint when no row at all has usable coordinates."""
    if all(problem.reason == REASON_OUT_OF_RANGE for problem in problems):
        logger.warning(
            "%s: every coordinate is outside the lon/lat range; the columns may be "
            "projected metres or swapped (set lon_col/lat_col)",
            source,
        )
    else:
        logger.warning("%s: no row has usable coordinates", source)


def _build_frame(
    raw: _RawTable,
    keep: np.ndarray,
    *,
    lon: np.ndarray,
    lat: np.ndarray,
    lon_wgs84: np.ndarray,
    lat_wgs84: np.ndarray,
) -> gpd.GeoDataFrame:
    """Assemble the GeoDataFrame of the kept records."""
    names = [_output_name(name, raw.columns) for name in raw.columns]
    # the text columns as one object block: a Series per column costs ~0.1 ms each, which
    # is seconds for a header of 100,000 columns (a binary file read as text)
    text = np.empty((len(keep), len(names)), dtype=object)
    for row, i in enumerate(keep):
        text[row, :] = raw.records[i]
    frame = pd.DataFrame(text, columns=names, dtype="object")
    for name, out_name in zip(raw.columns, names, strict=True):
        if name == raw.lon_col:
            frame[out_name] = np.asarray(lon, dtype="float64")
        elif name == raw.lat_col:
            frame[out_name] = np.asarray(lat, dtype="float64")
    extra = pd.DataFrame(
        {
            "row": np.asarray([raw.rows[i] for i in keep], dtype="int64"),
            "lon_wgs84": np.asarray(lon_wgs84, dtype="float64"),
            "lat_wgs84": np.asarray(lat_wgs84, dtype="float64"),
        }
    )
    frame = pd.concat([frame, extra], axis=1)
    geometry = gpd.points_from_xy(lon_wgs84, lat_wgs84, crs="EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _output_name(name: str, columns: Sequence[str]) -> str:
    """Rename an input column that clashes with an added column ("row" → "row_original")."""
    if name not in ADDED_COLUMNS:
        return name
    renamed = f"{name}_original"
    while renamed in columns:
        renamed += "_"
    logger.warning("input column %r renamed to %r (the name is used for a result)", name, renamed)
    return renamed
