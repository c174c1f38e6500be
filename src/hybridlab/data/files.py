"""Shot files: CSV and Parquet, written atomically and validated when read or written.

Inside the library an angle is in radians; in a file the column ``angle`` is in degrees.
:func:`_angle_to_file` and :func:`_angle_from_file` are the one place that converts. Every other
quantity is SI in both places: speed in m/s, distance and height in m.

The float64 radians of an angle do not always survive the trip through float64 degrees: about
13% of angles come back 1 ulp away, because in places the degree grid is coarser than the radian
grid scaled by 180/π, and no conversion can undo that. Every other column, and the degrees in
the file, read back bit for bit.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import ArrayLike

SHOT_COLUMNS = ("speed", "angle", "distance")
_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_FORBIDDEN = (",", '"', "\n", "\r")


def _angle_to_file(angle: np.ndarray) -> np.ndarray:
    """Radians (library) to degrees (file): θ° = θ · 180/π."""
    return np.rad2deg(angle)


def _angle_from_file(angle: np.ndarray) -> np.ndarray:
    """Degrees (file) to radians (library): θ = θ° · π/180."""
    return np.deg2rad(angle)


def to_file_units(columns: Mapping[str, ArrayLike]) -> dict[str, ArrayLike]:
    """The columns as a file holds them: a copy with ``angle`` (if any) in degrees."""
    columns = dict(columns)
    if "angle" in columns:
        columns["angle"] = _angle_to_file(np.asarray(columns["angle"], dtype=np.float64))
    return columns


def from_file_units(columns: Mapping[str, ArrayLike]) -> dict[str, ArrayLike]:
    """The columns as the library uses them: a copy with ``angle`` (if any) in radians."""
    columns = dict(columns)
    if "angle" in columns:
        columns["angle"] = _angle_from_file(np.asarray(columns["angle"], dtype=np.float64))
    return columns


# --- writing ---------------------------------------------------------------------------------


def write_csv(path: str | os.PathLike, columns: Mapping[str, ArrayLike]) -> None:
    """Write equal-length columns of numbers or strings to a CSV file atomically.

    A header row of the column names comes first. Numbers are written in the shortest form that
    reads back as the same float64 (Python's ``repr``); units are whatever the caller's are.
    Strings are written as they are, so they must not hold a comma, a quote or a line break.
    Raises ValueError (and writes nothing) for such a string, unequal lengths, or a missing
    directory.
    """
    if not columns:
        raise ValueError(f"cannot write {os.fspath(path)}: no columns")
    where = {name: f"cannot write {os.fspath(path)}, column {name!r}" for name in columns}
    cells = {name: _column_cells(where[name], values) for name, values in columns.items()}
    _check_lengths(path, {name: len(column) for name, column in cells.items()})
    rows = [",".join(_text(where[name], name) for name in cells)]
    rows.extend(",".join(row) for row in zip(*cells.values()))
    replace_atomically(path, lambda temporary: _write_text(temporary, "\n".join(rows) + "\n"))


def write_shots(
    path: str | os.PathLike, shots: Mapping[str, ArrayLike], require: Sequence[str] = SHOT_COLUMNS,
    file_units: bool = False,
) -> None:
    """Write shots to CSV or Parquet, chosen by the suffix (``.csv``, ``.parquet``, ``.pq``).

    ``shots`` maps column names to equal-length float arrays: ``speed`` (m/s), ``angle`` (rad),
    ``distance`` (m), optionally ``height`` (m) and any other numeric columns; the columns in
    ``require`` must be there. The file holds the angle in degrees. The shots must pass the
    checks :func:`read_shots` makes, so every file written can be read back; otherwise
    ValueError, and nothing is written. ``file_units=True``: ``angle`` is in degrees already
    (as :func:`read_shots` with ``file_units=True`` gives it), so a file's values pass through
    unchanged.
    """
    kind = _format(path)
    columns = {name: _float_column(path, name, values) for name, values in shots.items()}
    _check_lengths(path, {name: len(values) for name, values in columns.items()})
    columns = columns if file_units else to_file_units(columns)
    _validate(_Table.from_columns(f"cannot write {os.fspath(path)}", columns), require)
    if kind == "csv":
        write_csv(path, columns)
    else:
        table = pa.table({name: pa.array(values, pa.float64()) for name, values in columns.items()})
        replace_atomically(path, lambda temporary: pq.write_table(table, temporary))


def to_json(value, indent: int | None = None) -> str:
    """``value`` as JSON text, with every NaN or infinite float written as ``null``
    (JSON has neither; Python's ``json`` would write the non-standard ``NaN``/``Infinity``)."""
    return json.dumps(_finite(value), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike, value) -> None:
    """Write :func:`to_json` of ``value`` (indented) to ``path`` atomically."""
    text = to_json(value, indent=1) + "\n"
    replace_atomically(path, lambda temporary: _write_text(temporary, text))


def _finite(value):
    """A copy of a JSON-able value with non-finite floats (NumPy ones too) replaced by None."""
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _format(path: str | os.PathLike) -> str:
    """``"csv"`` or ``"parquet"`` from the suffix of ``path`` (any letter case)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in _FORMATS:
        raise ValueError(f"{os.fspath(path)}: unknown file type {suffix!r}; use .csv, .parquet or .pq")
    return _FORMATS[suffix]


def _column_cells(where: str, values: ArrayLike) -> list[str]:
    """The CSV text of each value of one column: numbers by :func:`_number_text`, strings as they are.

    ``where`` (the file and column) starts any error message.
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{where}: expected a 1-D array, got shape {array.shape}")
    if array.dtype.kind in "biuf":
        return [_number_text(value) for value in array.astype(np.float64).tolist()]
    return [_cell(where, value) for value in array.tolist()]


def _number_text(value: float) -> str:
    """The shortest text that reads back as ``value`` exactly (``repr``), without a bare ``.0``."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _cell(where: str, value: object) -> str:
    """The CSV text of one value that is a string or a real number."""
    if isinstance(value, str):
        return _text(where, value)
    try:
        return _number_text(float(value))
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {value!r} is neither a number nor a string") from None


def _text(where: str, text: str) -> str:
    """``text`` unchanged, after checking that it cannot break the CSV layout."""
    if any(character in text for character in _FORBIDDEN):
        raise ValueError(f"{where}: {text!r} holds a comma, quote or line break, which CSV cannot hold as is")
    return text


def _float_column(path: str | os.PathLike, name: str, values: ArrayLike) -> np.ndarray:
    """One column of shots as a 1-D float64 array."""
    where = f"cannot write {os.fspath(path)}, column {name!r}"
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: not numbers") from None
    if array.ndim != 1:
        raise ValueError(f"{where}: expected a 1-D array, got shape {array.shape}")
    return array


def _check_lengths(path: str | os.PathLike, lengths: Mapping[str, int]) -> None:
    """Raise ValueError unless every column has the same number of rows."""
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} {length}" for name, length in lengths.items())
        raise ValueError(f"cannot write {os.fspath(path)}: columns of unequal lengths ({listed})")


def _write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` as UTF-8, line breaks as given."""
    with open(path, "w", newline="", encoding="utf-8") as file:
        file.write(text)


def replace_atomically(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Call ``write(temporary)`` on a new file beside ``path``, then rename it onto ``path``.

    The rename is atomic, so a reader sees the old file or the whole new one, never a part;
    on any error the temporary file is removed and ``path`` is left as it was. The file gets
    the permissions a plain ``open`` would give (the process's umask applies).
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ValueError(f"cannot write {os.fspath(path)}: no directory {directory}")
    suffix = os.path.splitext(os.fspath(path))[1]
    temporary = _new_name(directory, ".tmp-", suffix, lambda name: os.close(os.open(name, _EXCLUSIVE, 0o666)))
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def check_new_directory(path: str | os.PathLike, what: str = "directory", parent: bool = True) -> None:
    """ValueError unless ``path`` does not exist yet (and, with ``parent``, its parent directory
    does); ``what`` names it in the message (``--out``)."""
    if os.path.exists(path):
        raise ValueError(f"{what} {os.fspath(path)}: already exists; choose a new directory")
    directory = os.path.dirname(os.path.abspath(path))
    if parent and not os.path.isdir(directory):
        raise ValueError(f"{what} {os.fspath(path)}: no directory {directory}")


@contextlib.contextmanager
def new_directory(path: str | os.PathLike) -> Iterator[str]:
    """``with new_directory(path) as work:`` fill the temporary directory ``work``; on success
    it is renamed to ``path``, on any error removed, so ``path`` appears whole or not at all.

    ValueError if ``path`` exists or its parent directory does not.
    """
    check_new_directory(path)
    path = os.path.abspath(path)
    prefix = f".{os.path.basename(path)}.partial-"
    work = _new_name(os.path.dirname(path), prefix, "", lambda name: os.mkdir(name, 0o777))
    try:
        yield work
        os.replace(work, path)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL


def _new_name(directory: str, prefix: str, suffix: str, create: Callable[[str], None]) -> str:
    """Create a new file or directory (``create(name)`` must fail if ``name`` exists) under a
    random name in ``directory`` and return its path. Unlike ``tempfile``, whose files are
    owner-only, this leaves the permissions to the umask, as ``open`` and ``mkdir`` do."""
    for _ in range(100):
        name = os.path.join(directory, f"{prefix}{secrets.token_hex(6)}{suffix}")
        try:
            create(name)
            return name
        except FileExistsError:
            continue
    raise ValueError(f"cannot write in {directory}: no free temporary name")


# --- reading ---------------------------------------------------------------------------------


def read_shots(
    path: str | os.PathLike, require: Sequence[str] = SHOT_COLUMNS, file_units: bool = False
) -> dict[str, np.ndarray]:
    """Read and validate shots from CSV or Parquet, chosen by the suffix.

    Returns a float64 array for every column of the file, in file order: ``speed`` (m/s),
    ``angle`` converted from degrees in the file to radians, ``distance`` (m), ``height`` (m)
    and any others. Every column must hold numbers; each column in ``require`` must be present.
    A CSV file needs a header row. Checks: every value finite; speed, distance, height >= 0;
    angle in [0, 90] degrees, or in [-90, 90] for a shot with height > 0. ValueError names
    the file, the place of the first bad value in file order (CSV: ``line N`` counting the
    header as line 1; Parquet: ``row N`` counting data rows from 1) and its column.
    ``file_units=True`` leaves ``angle`` in degrees, as the file holds it.
    """
    table = _read_csv(path) if _format(path) == "csv" else _read_parquet(path)
    _validate(table, require)
    shots = {name: np.ascontiguousarray(table.values[:, j]) for j, name in enumerate(table.columns)}
    return shots if file_units else from_file_units(shots)


@dataclass(frozen=True)
class _Table:
    """A shots file as read, before validation: one float64 cell per row and column.

    ``not_number`` marks cells that are not numbers (left NaN in ``values``); ``field_counts``
    is the number of fields of each CSV row (0 for a row of the right length, whose cells are
    read); ``lines`` the physical line of each CSV row and ``header_line`` of the header
    (None for Parquet and for columns about to be written); ``texts`` the CSV cells as written.
    """

    source: str
    columns: tuple[str, ...]
    values: np.ndarray
    not_number: np.ndarray
    field_counts: np.ndarray
    lines: tuple[int, ...] | None = None
    header_line: int | None = None
    texts: list[list[str]] | None = None

    @classmethod
    def from_columns(cls, source: str, columns: Mapping[str, np.ndarray]) -> _Table:
        """A table of equal-length float64 columns (cells are numbers unless masked)."""
        values = np.column_stack(list(columns.values())) if columns else np.zeros((0, 0))
        return cls(source, tuple(columns), values, np.zeros(values.shape, bool), np.zeros(len(values), int))

    def where(self, row: int | None = None, column: str | None = None) -> str:
        """``"file, line 7, column 'speed'"``: the file and, where given, a row and column."""
        parts = [self.source]
        if row is None and self.header_line is not None:
            parts.append(f"line {self.header_line}")
        elif row is not None:
            parts.append(f"line {self.lines[row]}" if self.lines is not None else f"row {row + 1}")
        if column is not None:
            parts.append(f"column {column!r}")
        return ", ".join(parts)

    def shown(self, row: int, column: int) -> str:
        """A cell as the user wrote it: the CSV text, or the Parquet number or null."""
        if self.texts is not None:
            return repr(self.texts[row][column])
        return "null" if self.not_number[row, column] else repr(float(self.values[row, column]))


def _read_csv(path: str | os.PathLike) -> _Table:
    """A CSV file as a table: the first non-blank row names the columns, the rest are data."""
    source = os.fspath(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            rows = _csv_rows(file, source)
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{source}: cannot read: {error}") from None
    if not rows:
        raise ValueError(f"{source}: empty file; expected a header row naming the columns, e.g. speed,angle,distance")
    header_line, header = rows[0]
    columns = _csv_header(source, header_line, header)
    data = rows[1:]
    values, not_number, field_counts = _csv_cells([fields for _, fields in data], len(columns))
    lines = tuple(line for line, _ in data)
    texts = [fields for _, fields in data]
    return _Table(source, columns, values, not_number, field_counts, lines, header_line, texts)


def _csv_rows(file, source: str) -> list[tuple[int, list[str]]]:
    """(line, fields) for each non-blank row; line is the physical line the row starts on."""
    reader = csv.reader(file, strict=True)
    rows = []
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return rows
        except csv.Error as error:
            raise ValueError(f"{source}, line {start}: not valid CSV: {error}") from None
        if fields:
            rows.append((start, fields))


def _csv_header(source: str, line: int, header: list[str]) -> tuple[str, ...]:
    """The column names of a header row, surrounding spaces removed."""
    names = tuple(name.strip() for name in header)
    for number, name in enumerate(names, start=1):
        if not name:
            raise ValueError(f"{source}, line {line}: column {number} has no name")
        if _number(name) is not None:
            raise ValueError(
                f"{source}, line {line}: no header row; found {name!r} where a column name should be "
                "(the first row must name the columns, e.g. speed,angle,distance)"
            )
    return names


def _csv_cells(rows: list[list[str]], width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cell values (NaN where not a number), the not-a-number mask, and the rows of wrong length.

    The third array holds the field count of each row that does not have ``width`` fields, else 0.
    """
    values = np.full((len(rows), width), np.nan)
    not_number = np.zeros((len(rows), width), bool)
    field_counts = np.zeros(len(rows), int)
    for i, fields in enumerate(rows):
        if len(fields) != width:
            field_counts[i] = len(fields)
            continue
        for j, text in enumerate(fields):
            number = _number(text)
            if number is None:
                not_number[i, j] = True
            else:
                values[i, j] = number
    return values, not_number, field_counts


def _number(text: str) -> float | None:
    """The number ``text`` spells (surrounding spaces allowed), or None."""
    try:
        return float(text)
    except ValueError:
        return None


def _read_parquet(path: str | os.PathLike) -> _Table:
    """A Parquet file as a table; every column must have an integer or floating type."""
    source = os.fspath(path)
    try:
        with open(path, "rb") as file:
            table = pq.ParquetFile(file).read()  # not pq.read_table: it rejects repeated names
    except (OSError, pa.ArrowException) as error:
        raise ValueError(f"{source}: cannot read as Parquet: {error}") from None
    columns = tuple(table.column_names)
    for name, column in zip(columns, table.columns):
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            raise ValueError(f"{source}, column {name!r}: holds {column.type}, not numbers")
    values = np.zeros((table.num_rows, len(columns)))
    not_number = np.zeros(values.shape, bool)
    for j, column in enumerate(table.columns):
        values[:, j] = column.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        not_number[:, j] = column.is_null().to_numpy(zero_copy_only=False)
    return _Table(source, columns, values, not_number, np.zeros(table.num_rows, int))


# --- validation ------------------------------------------------------------------------------


def _validate(table: _Table, require: Sequence[str]) -> None:
    """Raise ValueError for the first thing wrong: the columns, no data, or a cell in file order."""
    _check_columns(table, require)
    if len(table.values) == 0:
        raise ValueError(f"{table.where()}: no data rows")
    problem = _first_bad_cell(table)
    if problem is not None:
        raise ValueError(problem)


def _check_columns(table: _Table, require: Sequence[str]) -> None:
    """Every column name once; every required column present."""
    seen = set()
    for name in table.columns:
        if name in seen:
            raise ValueError(f"{table.where(column=name)}: the column name appears more than once")
        seen.add(name)
    for name in require:
        if name not in seen:
            found = ", ".join(repr(column) for column in table.columns)
            raise ValueError(f"{table.where(column=name)}: no such column; the columns found are {found}")


def _first_bad_cell(table: _Table) -> str | None:
    """The message for the first cell, in file order, that breaks a rule; None if none does."""
    codes, reasons = _judge(table)
    bad = np.flatnonzero(codes)  # row-major order is file order
    if bad.size == 0:
        return None
    row, column = divmod(int(bad[0]), len(table.columns))
    if codes[row, column] == 1:
        return _field_count_problem(table, row)
    reason = reasons[codes[row, column]].format(value=table.shown(row, column))
    return f"{table.where(row, table.columns[column])}: {reason}"


def _field_count_problem(table: _Table, row: int) -> str:
    """Why a CSV row of the wrong length is wrong, naming the first column without a value."""
    count, width = int(table.field_counts[row]), len(table.columns)
    counts = f"the row has {count} fields where the header has {width}"
    if count < width:
        return f"{table.where(row, table.columns[count])}: no value; {counts}"
    return f"{table.where(row, table.columns[-1])}: fields after the last column; {counts}"


def _judge(table: _Table) -> tuple[np.ndarray, list[str]]:
    """For every cell, the number of the first rule it breaks (0: none) and each rule's reason.

    Rule 1 is a row of the wrong length (the whole row); a row's later rules are not looked at.
    """
    values = table.values
    codes = np.zeros(values.shape, np.int8)
    codes[table.field_counts > 0, :] = 1
    reasons = ["", ""]

    def rule(column: str | None, broken: np.ndarray, reason: str) -> None:
        reasons.append(reason)
        mask = broken
        if column is not None:
            mask = np.zeros(values.shape, bool)
            mask[:, table.columns.index(column)] = broken
        codes[(codes == 0) & mask] = len(reasons) - 1

    rule(None, table.not_number, "{value} is not a number")
    rule(None, ~np.isfinite(values) & ~table.not_number, "{value} is not finite")
    for name, quantity in (("speed", "a speed in m/s"), ("distance", "a distance in m"), ("height", "a height in m")):
        if name in table.columns:
            rule(name, _column(table, name) < 0, "{value} is negative; " + quantity + " must be >= 0")
    if "angle" in table.columns:
        _angle_rules(table, rule)
    return codes, reasons


def _angle_rules(table: _Table, rule: Callable[[str, np.ndarray, str], None]) -> None:
    """Angle in degrees: within [-90, 90], and >= 0 for a shot from height 0 (or no height column).

    A shot from a height > 0 may be thrown downwards; from the ground it cannot.
    """
    angle = _column(table, "angle")
    from_ground = _column(table, "height") == 0 if "height" in table.columns else np.ones(len(angle), bool)
    rule("angle", np.abs(angle) > 90, "{value} degrees is outside [-90, 90]")
    rule(
        "angle",
        from_ground & (angle < 0),
        "{value} degrees is outside [0, 90] for a shot from height 0 (only a shot from height > 0 may point down)",
    )


def _column(table: _Table, name: str) -> np.ndarray:
    """The values of one column (NaN where not a number)."""
    return table.values[:, table.columns.index(name)]
