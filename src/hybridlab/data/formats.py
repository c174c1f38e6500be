"""Shot files and tables: CSV and Parquet, written atomically and validated when read or written.

Inside the library an angle is in radians; in a file the column ``angle`` is in degrees.
:mod:`hybridlab.data.units` is the one place that converts. Every other
quantity is SI in both places: speed in m/s, distance and height in m. The checks a shots file
must pass are the rules of :mod:`hybridlab.data.validation`.

The float64 radians of an angle do not always survive the trip through float64 degrees: about
13% of angles come back 1 ulp away, because in places the degree grid is coarser than the radian
grid scaled by 180/π, and no conversion can undo that. Every other column, and the degrees in
the file, read back bit for bit.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import ArrayLike

from hybridlab.data.tracks import KINDS, Tracks, from_columns
from hybridlab.data.units import from_file_units, to_file_units
from hybridlab.data.validation import NUMBERS, ONE_TRACK_RULES, TRACK_RULES, Table, validate
from hybridlab.files import open_regular, replace_atomically, write_bytes

SHOT_COLUMNS = ("speed", "angle", "distance")
#: The columns of a shots file that are checked (the others may be kept as they are).
CHECKED = SHOT_COLUMNS + ("height",)
#: The largest shots or table file read, in bytes (some five million rows of CSV): a file is
#: read whole, and its parsed rows take several times its size in memory.
MAX_FILE_BYTES = 256 * 2**20
_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


# --- writing ---------------------------------------------------------------------------------


def write_csv(path: str | os.PathLike, columns: Mapping[str, ArrayLike]) -> None:
    """Write equal-length columns of numbers or strings to a CSV file atomically.

    A header row of the column names comes first. Numbers are written in the shortest form that
    reads back as the same float64 (Python's ``repr``, without a bare ``.0``); units are whatever
    the caller's are. Text is quoted by the ``csv`` module where it must be (a comma, a quote or
    a line break: ``QUOTE_MINIMAL``), in the csv module's standard dialect (RFC 4180, lines
    ending in CR LF), so any string reads back as written. Raises ValueError (and writes nothing)
    for a value that is neither a number nor a string, unequal lengths, or a missing directory.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (replaced if it exists); its directory must exist.
    columns : mapping of str to array_like
        Column name → 1-D values (numbers or strings), all of one length, in the caller's units.

    Raises
    ------
    ValueError
        If there are no columns, a column is not 1-D, a value is neither a number nor a string, the columns
        are of unequal lengths, ``path`` is not a file name in an existing directory, or the file cannot be
        written.
    """
    if not columns:
        raise ValueError(f"cannot write {os.fspath(path)}: no columns")
    where = {name: f"cannot write {os.fspath(path)}, column {name!r}" for name in columns}
    cells = {name: _column_cells(where[name], values) for name, values in columns.items()}
    _check_lengths(path, {name: len(column) for name, column in cells.items()})
    text = io.StringIO()
    # The csv module's own line end, CR LF: with it every Python quotes a field holding a lone CR.
    _csv_writer(text, list(cells)).writerows(zip(*cells.values()))
    write_bytes(path, text.getvalue().encode("utf-8"))


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

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.parquet`` or ``.pq`` file (replaced if it exists); its directory must exist.
    shots : mapping of str to array_like
        Column name → 1-D numbers, all of one length: ``speed`` (m/s), ``angle`` (rad; degrees with
        ``file_units``), ``distance`` (m), ``height`` (m), others.
    require : sequence of str
        Columns that must be present.
    file_units : bool
        Whether ``angle`` is in degrees already.

    Raises
    ------
    ValueError
        If the suffix is unknown, a column is not 1-D numbers, the columns are of unequal lengths, a required
        column is missing, a value breaks a check of :func:`read_shots`, there are no shots, or the file cannot
        be written.
    """
    write_shot_chunks(path, [shots], require, file_units)


def write_shot_chunks(
    path: str | os.PathLike, chunks: Iterable[Mapping[str, ArrayLike]], require: Sequence[str] = SHOT_COLUMNS,
    file_units: bool = False,
) -> None:
    """:func:`write_shots` for shots that arrive in ``chunks`` (each a mapping of columns, all
    with the same names), written one after the other without holding more than one in
    memory: CSV text per chunk, a Parquet row group per chunk. Each chunk is checked as it
    comes; a bad one leaves nothing written (the file appears whole or not at all).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.parquet`` or ``.pq`` file (replaced if it exists); its directory must exist.
    chunks : iterable of mapping of str to array_like
        The shots, chunk by chunk, each as ``shots`` of :func:`write_shots` (``speed`` m/s, ``angle`` rad,
        ``distance`` m, …), with the same columns in the same order.
    require : sequence of str
        Columns that must be present.
    file_units : bool
        Whether ``angle`` is in degrees already.

    Raises
    ------
    ValueError
        If the suffix is unknown, there are no chunks, a chunk's columns differ from the first's, a chunk fails
        :func:`write_shots`' checks, or the file cannot be written.
    """
    kind = _format(path)

    def write(temporary: str) -> None:
        writer, names = None, None
        with contextlib.ExitStack() as stack:
            for shots in chunks:
                columns = _checked_shots(path, shots, require, file_units)
                if names is None:
                    names = list(columns)
                elif list(columns) != names:
                    raise ValueError(f"cannot write {os.fspath(path)}: a chunk has columns {list(columns)}, "
                                     f"the first had {names}")
                if kind == "parquet":
                    table = pa.table({name: _arrow_column(values) for name, values in columns.items()})
                    writer = writer or stack.enter_context(pq.ParquetWriter(temporary, table.schema))
                    writer.write_table(table)
                else:
                    writer = writer or _csv_writer(stack.enter_context(open(temporary, "w", encoding="utf-8",
                                                                             newline="")), names)
                    writer.writerows(zip(*(_column_cells(f"cannot write {os.fspath(path)}, column {name!r}", values)
                                           for name, values in columns.items())))
            if names is None:
                raise ValueError(f"cannot write {os.fspath(path)}: no shots")

    replace_atomically(path, write)


def _checked_shots(path, shots: Mapping[str, ArrayLike], require: Sequence[str], file_units: bool) -> dict:
    """The shots as float64 columns in the file's units, checked as :func:`read_shots` checks."""
    columns = {name: _float_column(path, name, values) for name, values in shots.items()}
    _check_lengths(path, {name: len(values) for name, values in columns.items()})
    columns = columns if file_units else to_file_units(columns)
    validate(Table.from_columns(f"cannot write {os.fspath(path)}", columns), require)
    return columns


def _csv_writer(handle, names: Sequence[str]):
    """A CSV writer on ``handle`` with the header row written (see :func:`write_csv`)."""
    writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
    writer.writerow([str(name) for name in names])
    return writer


def write_table(path: str | os.PathLike, columns: Mapping[str, ArrayLike]) -> None:
    """Write equal-length columns to CSV (:func:`write_csv`) or Parquet, chosen by the suffix
    (``.csv``, ``.parquet``, ``.pq``), atomically. Numbers are written as float64; a column of
    strings (or of other Python values, as :func:`read_shots` keeps them) as text in a CSV file
    and as Parquet's inferred type. ValueError for an unknown suffix, before anything is done.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.parquet`` or ``.pq`` file (replaced if it exists); its directory must exist.
    columns : mapping of str to array_like
        Column name → 1-D values, all of one length, in the caller's units (see :func:`write_csv`).

    Raises
    ------
    ValueError
        If the suffix is unknown, the columns are of unequal lengths, a CSV value is neither a number nor a
        string (see :func:`write_csv`), ``path`` is not a file name in an existing directory, or the file
        cannot be written.
    """
    if _format(path) == "csv":
        write_csv(path, columns)
        return
    _check_lengths(path, {name: len(values) for name, values in columns.items()})
    table = pa.table({name: _arrow_column(values) for name, values in columns.items()})
    replace_atomically(path, lambda temporary: pq.write_table(table, temporary))


def _arrow_column(values: ArrayLike) -> pa.Array:
    """A column as Arrow data: numbers as float64, anything else as Arrow infers it."""
    array = np.asarray(values)
    if array.dtype.kind in "biuf":
        return pa.array(array.astype(np.float64), pa.float64())
    return pa.array(array.tolist())


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
    if array.dtype == object:  # a column kept as the file held it (read_shots, keep_other)
        return ["" if value is None else value if isinstance(value, str) else _cell(where, value)
                for value in array.tolist()]
    return [_cell(where, value) for value in array.tolist()]


def _number_text(value: float) -> str:
    """The shortest text that reads back as ``value`` exactly (``repr``), without a bare ``.0``."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _cell(where: str, value: object) -> str:
    """The CSV text of one value that is a string (as it is) or a real number."""
    if isinstance(value, str):
        return value
    try:
        return _number_text(float(value))
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {value!r} is neither a number nor a string") from None


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


# --- reading ---------------------------------------------------------------------------------


def read_shots(
    path: str | os.PathLike, require: Sequence[str] = SHOT_COLUMNS, file_units: bool = False,
    keep_other: bool = False,
) -> dict[str, np.ndarray]:
    """Read and validate shots from CSV or Parquet, chosen by the suffix.

    Returns a float64 array for every column of the file, in file order: ``speed`` (m/s),
    ``angle`` converted from degrees in the file to radians, ``distance`` (m), ``height`` (m)
    and any others. Every column must hold numbers; each column in ``require`` must be present.
    A CSV file needs a header row. Checks (:data:`~hybridlab.data.validation.SHOT_RULES`): every
    value finite; speed, distance, height >= 0; angle in [0, 90] degrees, or in [-90, 90] for a
    shot with height > 0. ValueError names the file, the place of the first bad value in file
    order (CSV: ``line N`` counting the header as line 1; Parquet: ``row N`` counting data rows
    from 1) and its column. ``file_units=True`` leaves ``angle`` in degrees, as the file holds it.

    ``keep_other=True``: the columns other than speed, angle, distance and height are neither
    checked nor converted but kept as the file holds them, in NumPy object arrays: a CSV file's
    text exactly as written, a Parquet file's values (None for null), so that they can be
    written back untouched (:func:`write_table`).

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.parquet`` or ``.pq`` file (at most 256 MiB).
    require : sequence of str
        Columns that must be present.
    file_units : bool
        Whether to keep ``angle`` in degrees.
    keep_other : bool
        Whether to keep the other columns unchecked, as the file holds them.

    Returns
    -------
    shots : dict of str to numpy.ndarray
        Each column, shape (n,): ``speed`` (m/s), ``angle`` (rad; degrees with ``file_units``), ``distance``
        (m), ``height`` (m), others.

    Raises
    ------
    ValueError
        If the suffix is unknown, the file cannot be read or parsed, a required column is missing, or a value
        breaks its check.
    """
    kind = _format(path)
    table = _read_csv(path) if kind == "csv" else _read_parquet(path, lambda name: keep_other and name not in CHECKED)
    kept = [j for j, name in enumerate(table.columns) if keep_other and name not in CHECKED]
    checked = table
    if kept:  # cells of kept columns are nobody's business: mark them as good numbers
        values, not_number = table.values.copy(), table.not_number.copy()
        values[:, kept], not_number[:, kept] = 0.0, False
        checked = dataclasses.replace(table, values=values, not_number=not_number)
    validate(checked, require)
    shots = {name: _kept_column(table, j) if j in kept else np.ascontiguousarray(table.values[:, j])
             for j, name in enumerate(table.columns)}
    return shots if file_units else from_file_units(shots)


def _kept_column(table: Table, j: int) -> np.ndarray:
    """Column ``j`` as the file holds it: CSV text, or the Parquet values (see read_shots)."""
    if table.texts is not None:
        cells = [fields[j] if len(fields) > j else "" for fields in table.texts]
    else:
        cells = table.raw[j]
    array = np.empty(len(cells), dtype=object)
    array[:] = cells
    return array


def read_csv(path: str | os.PathLike, text: Collection[str] = ()) -> dict[str, np.ndarray]:
    """Read a CSV table of columns, as :func:`write_csv` writes it: the columns named in ``text``
    as arrays of strings, every other as float64 (``nan`` and ``inf`` are numbers).

    Values are as the file holds them, in the file's units (``angle`` stays in degrees). The
    first non-blank row names the columns. ValueError names the file, line and column of the
    first row of the wrong length or non-number in a numeric column, as :func:`read_shots` does.

    Parameters
    ----------
    path : str or os.PathLike
        A CSV file (at most 256 MiB) with a header row.
    text : collection of str
        The columns read as strings.

    Returns
    -------
    columns : dict of str to numpy.ndarray
        Each column, shape (n,), in file order: float64 in the file's units, or strings for those of ``text``.

    Raises
    ------
    ValueError
        If the file cannot be read, is not valid CSV or UTF-8, is empty or lacks a header row, a column has no
        name, a row has the wrong number of fields, or a cell of a numeric column is not a number.
    """
    table = _read_csv(path)
    numeric = np.array([name not in text for name in table.columns], bool)
    validate(dataclasses.replace(table, not_number=table.not_number & numeric), (), rules=(NUMBERS,))
    return {
        name: np.ascontiguousarray(table.values[:, j]) if numeric[j]
        else np.array([fields[j] for fields in table.texts], dtype=str)
        for j, name in enumerate(table.columns)
    }


#: The header rows a file may have, for messages about a missing one.
_HEADERS = "speed,angle,distance (shots), shot,t,x,y (2-D tracks) or ball,drop,t,height (drops)"


def _read_csv(path: str | os.PathLike) -> Table:
    """A CSV file as a table: the first non-blank row names the columns, the rest are data."""
    source = os.fspath(path)
    try:
        with open_regular(path, MAX_FILE_BYTES) as binary:
            rows = _csv_rows(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""), source)
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{source}: cannot read: {error}") from None
    if not rows:
        raise ValueError(f"{source}: empty file; expected a header row naming the columns, {_HEADERS}")
    header_line, header = rows[0]
    columns = _csv_header(source, header_line, header)
    data = rows[1:]
    values, not_number, field_counts = _csv_cells([fields for _, fields in data], len(columns))
    lines = tuple(line for line, _ in data)
    texts = [fields for _, fields in data]
    return Table(source, columns, values, not_number, field_counts, lines, header_line, texts)


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
                f"(the first row must name the columns, {_HEADERS})"
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


def _read_parquet(path: str | os.PathLike, keep: Callable[[str], bool] = lambda name: False) -> Table:
    """A Parquet file as a table; every column must have an integer or floating type, except a
    column whose name ``keep`` accepts: its values are kept in ``Table.raw`` (and left NaN, not
    numbers, in ``values``)."""
    source = os.fspath(path)
    try:
        with open_regular(path, MAX_FILE_BYTES) as file:
            table = pq.ParquetFile(file).read()  # not pq.read_table: it rejects repeated names
    except (OSError, pa.ArrowException) as error:
        raise ValueError(f"{source}: cannot read as Parquet: {error}") from None
    columns = tuple(table.column_names)
    values = np.full((table.num_rows, len(columns)), np.nan)
    not_number = np.ones(values.shape, bool)
    raw = {}
    for j, (name, column) in enumerate(zip(columns, table.columns)):
        if keep(name):
            raw[j] = column.to_pylist()
        elif not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            raise ValueError(f"{source}, column {name!r}: holds {column.type}, not numbers")
        else:
            values[:, j] = column.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False)
            not_number[:, j] = column.is_null().to_numpy(zero_copy_only=False)
    return Table(source, columns, values, not_number, np.zeros(table.num_rows, int), raw=raw)


# --- trajectories ----------------------------------------------------------------------------

#: The id column of each kind of tracks file: text (a shot's label, a ball's name).
_IDS = {"shot": "shot", "drop": "ball"}


def read_tracks(path: str | os.PathLike) -> Tracks:
    """Read and validate trajectories from CSV or Parquet: ``shot,t,x,y`` (2-D shots) or
    ``ball,drop,t,height[,velocity]`` (vertical drops), told apart by the ``shot`` or ``ball``
    column; the id column is text, every other cell a finite number; within a track the rows
    are together and the times increase. ValueError names the file, the line (Parquet: row)
    and column of the first bad cell, as :func:`read_shots` does.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.parquet`` or ``.pq`` file (at most 256 MiB).

    Returns
    -------
    tracks : Tracks
        ``"shot"`` tracks (x, y in m) or ``"drop"`` tracks (height in m, velocity in m/s), times in s.

    Raises
    ------
    ValueError
        If the suffix is unknown, the file cannot be read, it has no ``shot`` or ``ball`` column, a required
        column is missing, a cell is bad, or a track's rows are not together with increasing times.
    """
    table = _read_with_ids(path)
    kind = next((kind for kind, name in _IDS.items() if name in table.columns), None)
    if kind is None:
        raise ValueError(f"{table.where()}: no 'shot' or 'ball' column; a tracks file has the columns "
                         "shot,t,x,y (shots) or ball,drop,t,height[,velocity] (drops)")
    ids = table.columns.index(_IDS[kind])
    validate(_ids_as_text(table, ids), KINDS[kind][0], rules=TRACK_RULES)
    columns = {name: table.values[:, j] for j, name in enumerate(table.columns)}
    columns[_IDS[kind]] = _kept_column(table, ids)
    return from_columns(kind, columns)


def _read_with_ids(path: str | os.PathLike) -> Table:
    """A tracks file as a table, its id columns (shot, ball) kept as the file holds them."""
    kind_of = {"csv": _read_csv, "parquet": lambda p: _read_parquet(p, lambda name: name in _IDS.values())}
    return kind_of[_format(path)](path)


def _ids_as_text(table: Table, ids: int) -> Table:
    """``table`` with its id column ``ids`` left out of the number rules (an id is text)."""
    values, not_number = table.values.copy(), table.not_number.copy()
    values[:, ids], not_number[:, ids] = 0.0, False
    return dataclasses.replace(table, values=values, not_number=not_number)


def read_track(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read and validate one track from CSV or Parquet: columns t (s), x, y (m) and, optionally,
    wind (the true horizontal wind at each time, m/s, when it is known); at least 3 rows. ValueError
    names the file, line (Parquet: row) and column of the first bad cell."""
    table = _read_with_ids(path)
    name = next((name for name in _IDS.values() if name in table.columns), None)
    if name is not None:  # a tracks file: it must hold one track
        ids = _kept_column(table, table.columns.index(name))
        other = np.flatnonzero(ids != ids[0]) if len(ids) else []
        if len(other):
            raise ValueError(f"{table.where(int(other[0]), name)}: {name} {ids[other[0]]} begins here, after "
                             f"{name} {ids[0]}; one track is read: keep one {name}'s rows")
        table = _ids_as_text(table, table.columns.index(name))
    validate(table, ("t", "x", "y"), rules=ONE_TRACK_RULES)
    if len(table.values) < 3:
        raise ValueError(f"{table.where()}: {len(table.values)} rows; a track needs at least 3")
    return {name: np.ascontiguousarray(table.column(name)) for name in ("t", "x", "y", "wind")
            if name in table.columns}


def write_tracks(path: str | os.PathLike, tracks: Tracks) -> None:
    """Write trajectories to CSV or Parquet (chosen by the suffix), atomically, in the columns
    :func:`read_tracks` reads.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv``, ``.parquet`` or ``.pq`` file; its directory must exist.
    tracks : Tracks
        The tracks: times (s), positions (m), velocities (m/s) where recorded.

    Raises
    ------
    ValueError
        If the suffix is unknown, ``path`` is not a file name in an existing directory, or the file cannot be
        written.
    """
    write_table(path, tracks.columns())
