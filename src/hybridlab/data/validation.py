"""The checks a file's cells must pass, as a table of rules: column, condition, message.

Cells are in file units: speed in m/s, angle in degrees, distance and height in m. A file is
judged by :func:`validate`: first its columns (each named once, the required ones present),
then that it has data, then every cell in file order (row by row, left to right); the first
cell that breaks a rule is reported, with the first rule it breaks, in the order of the table.
A row with the wrong number of fields is reported as such, before any rule looks at its cells.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Table:
    """A file as read, before validation: one float64 cell per row and column.

    ``not_number`` marks cells that are not numbers (left NaN in ``values``); ``field_counts``
    is the number of fields of each CSV row (0 for a row of the right length, whose cells are
    read); ``lines`` the physical line of each CSV row and ``header_line`` of the header
    (None for Parquet and for columns about to be written); ``texts`` the CSV cells as written;
    ``raw`` a Parquet file's columns kept as they are (by column index; see ``read_shots``).
    """

    source: str
    columns: tuple[str, ...]
    values: np.ndarray
    not_number: np.ndarray
    field_counts: np.ndarray
    lines: tuple[int, ...] | None = None
    header_line: int | None = None
    texts: list[list[str]] | None = None
    raw: dict[int, list] | None = None

    @classmethod
    def from_columns(cls, source: str, columns: Mapping[str, np.ndarray]) -> Table:
        """A table of equal-length float64 columns (cells are numbers unless masked)."""
        values = np.column_stack(list(columns.values())) if columns else np.zeros((0, 0))
        return cls(source, tuple(columns), values, np.zeros(values.shape, bool), np.zeros(len(values), int))

    def column(self, name: str) -> np.ndarray:
        """The values of one column (NaN where not a number)."""
        return self.values[:, self.columns.index(name)]

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


@dataclass(frozen=True)
class Rule:
    """One check: ``broken(table)`` is True where a cell breaks it, ``message`` says why.

    ``column``: the column the rule applies to, skipped where a file has no such column, and
    ``broken`` gives one flag per row; None: every column, and ``broken`` gives one per cell.
    ``{value}`` in the message stands for the cell as written.
    """

    column: str | None
    broken: Callable[[Table], np.ndarray]
    message: str

    def cells(self, table: Table) -> np.ndarray:
        """The (rows, columns) mask of the cells of ``table`` that break this rule."""
        if self.column is None:
            return self.broken(table)
        mask = np.zeros(table.values.shape, bool)
        if self.column in table.columns:
            mask[:, table.columns.index(self.column)] = self.broken(table)
        return mask


def _down_from_the_ground(table: Table) -> np.ndarray:
    """Angle < 0 (degrees) for a shot from height 0, or from an unknown height (no column)."""
    heights = table.column("height") if "height" in table.columns else np.zeros(len(table.values))
    return (heights == 0) & (table.column("angle") < 0)


NUMBERS = Rule(None, lambda table: table.not_number, "{value} is not a number")
FINITE = Rule(None, lambda table: ~np.isfinite(table.values) & ~table.not_number, "{value} is not finite")

#: The rules of a shots file, in the order they are tried on each cell.
SHOT_RULES = (
    NUMBERS,
    FINITE,
    Rule("speed", lambda table: table.column("speed") < 0, "{value} is negative; a speed in m/s must be >= 0"),
    Rule("distance", lambda table: table.column("distance") < 0,
         "{value} is negative; a distance in m must be >= 0"),
    Rule("height", lambda table: table.column("height") < 0, "{value} is negative; a height in m must be >= 0"),
    Rule("angle", lambda table: np.abs(table.column("angle")) > 90, "{value} degrees is outside [-90, 90]"),
    # A shot from a height > 0 may be thrown downwards; from the ground it cannot.
    Rule("angle", _down_from_the_ground,
         "{value} degrees is outside [0, 90] for a shot from height 0 (only a shot from height > 0 may point down)"),
)


def _track_ids(table: Table) -> list:
    """Each row's track: its id cell as written (``shot``, or ``ball`` with ``drop``); one track
    for a file with neither column."""
    if "shot" not in table.columns and "ball" not in table.columns:
        return [0] * len(table.values)
    name = "shot" if "shot" in table.columns else "ball"
    j = table.columns.index(name)
    cells = [row[j] if len(row) > j else "" for row in table.texts] if table.texts is not None else table.raw[j]
    if name == "ball" and "drop" in table.columns:
        return list(zip(cells, table.column("drop").tolist()))
    return list(cells)


def _time_goes_back(table: Table) -> np.ndarray:
    """A time not after the one before it in the same track."""
    ids = _track_ids(table)
    same = np.array([a == b for a, b in zip(ids[1:], ids[:-1])], bool)
    t = table.column("t")
    return np.r_[False, same & ~(t[1:] > t[:-1])]


def _track_resumes(table: Table) -> np.ndarray:
    """A row of a track that ended rows before: a track's rows must be together."""
    ids = _track_ids(table)
    seen, broken = set(), np.zeros(len(ids), bool)
    for i, key in enumerate(ids):
        broken[i] = key in seen and key != ids[i - 1]
        seen.add(key)
    return broken


#: The rules of a trajectories file (shots ``shot,t,x,y`` or drops ``ball,drop,t,height[,velocity]``).
TRACK_RULES = (
    NUMBERS,
    FINITE,
    Rule("t", _time_goes_back, "{value} s is not after the time before it in the same track; times must increase"),
    Rule("t", _track_resumes, "{value} s: this track's rows were interrupted by another track's; keep them together"),
)


#: The rules of one track (t,x,y[,wind]): the trajectories' rules, and times >= 0.
ONE_TRACK_RULES = TRACK_RULES + (
    Rule("t", lambda table: table.column("t") < 0, "{value} s is negative; times must be >= 0"),
)


def validate(table: Table, require: Sequence[str], rules: Sequence[Rule] = SHOT_RULES) -> None:
    """Raise ValueError for the first thing wrong: the columns, no data, or a cell in file order."""
    _check_columns(table, require)
    if len(table.values) == 0:
        raise ValueError(f"{table.where()}: no data rows")
    problem = _first_bad_cell(table, rules)
    if problem is not None:
        raise ValueError(problem)


def _check_columns(table: Table, require: Sequence[str]) -> None:
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


def _first_bad_cell(table: Table, rules: Sequence[Rule]) -> str | None:
    """The message for the first cell, in file order, that breaks a rule; None if none does."""
    broken = _first_rule_broken(table, rules)
    bad = np.flatnonzero(broken)  # row-major order is file order
    if bad.size == 0:
        return None
    row, column = divmod(int(bad[0]), len(table.columns))
    if broken[row, column] < 0:
        return _field_count_problem(table, row)
    message = rules[broken[row, column] - 1].message.format(value=table.shown(row, column))
    return f"{table.where(row, table.columns[column])}: {message}"


def _first_rule_broken(table: Table, rules: Sequence[Rule]) -> np.ndarray:
    """For every cell, 1 + the index of the first rule it breaks, 0 if none, or -1 in a row of
    the wrong length (whose cells no rule looks at)."""
    first = np.zeros(table.values.shape, int)
    first[table.field_counts > 0, :] = -1
    for number, rule in enumerate(rules, start=1):
        first[(first == 0) & rule.cells(table)] = number
    return first


def _field_count_problem(table: Table, row: int) -> str:
    """Why a CSV row of the wrong length is wrong, naming the first column without a value."""
    count, width = int(table.field_counts[row]), len(table.columns)
    counts = f"the row has {count} fields where the header has {width}"
    if count < width:
        return f"{table.where(row, table.columns[count])}: no value; {counts}"
    return f"{table.where(row, table.columns[-1])}: fields after the last column; {counts}"
