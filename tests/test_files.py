"""Shot files and tables: exact round trips, degrees in the file, quoted text, one-line errors
that say where; the ground floor's atomic writes, new directories and JSON."""

import csv
import json
import os
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hybridlab.data import read_csv, read_shots, write_csv, write_shots
from hybridlab.files import new_directory, to_json, write_bytes, write_json

HEADER = "speed,angle,distance,height,predicted"


def random_shots(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "speed": rng.uniform(0, 80, n),
        "angle": rng.uniform(-np.pi / 2, np.pi / 2, n),
        "distance": rng.uniform(0, 300, n) * rng.uniform(0, 1, n) ** 3,  # many magnitudes
        "height": rng.uniform(0.1, 3, n),
        "predicted": rng.normal(0, 1e-3, n) * 10.0 ** rng.integers(-300, 300, n),
    }


def file_degrees(path):
    if path.suffix == ".csv":
        with open(path, newline="") as file:
            return np.array([float(row["angle"]) for row in csv.DictReader(file)])
    return pq.read_table(path).column("angle").to_numpy()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".pq"])
def test_round_trip_is_exact(tmp_path, suffix):
    shots = random_shots()
    path = tmp_path / f"shots{suffix}"
    write_shots(path, shots)
    back = read_shots(path)
    assert list(back) == list(shots) and all(a.dtype == np.float64 for a in back.values())
    for name in ("speed", "distance", "height", "predicted"):
        assert np.array_equal(back[name], shots[name])
    # The file holds exactly the float64 degrees; the radians come back through them, which
    # float64 allows to 1 ulp (the degree grid is coarser than the radian grid in places).
    assert np.array_equal(file_degrees(path), np.rad2deg(shots["angle"]))
    assert np.array_equal(back["angle"], np.deg2rad(np.rad2deg(shots["angle"])))
    np.testing.assert_array_max_ulp(back["angle"], shots["angle"], maxulp=1)
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_file_holds_degrees(tmp_path, suffix):
    path = tmp_path / f"shots{suffix}"
    angles = np.array([0.0, np.pi / 4, np.pi / 2])
    write_shots(path, {"speed": np.ones(3), "angle": angles, "distance": np.ones(3)})
    assert file_degrees(path).tolist() == [0.0, 45.0, 90.0]
    assert np.array_equal(read_shots(path)["angle"], angles)
    if suffix == ".csv":
        assert path.read_text().splitlines()[:2] == ["speed,angle,distance", "1,0,1"]


def test_degrees_read_as_radians_and_extra_columns_kept(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text("speed, angle ,distance,height,predicted\n10,45,10.2,0,9.5\n 12.5 ,-30,4,1.5,3\n")
    shots = read_shots(path)
    assert list(shots) == ["speed", "angle", "distance", "height", "predicted"]
    assert np.array_equal(shots["angle"], np.deg2rad([45.0, -30.0]))
    assert shots["speed"].tolist() == [10.0, 12.5] and shots["predicted"].tolist() == [9.5, 3.0]


def test_parquet_integers_become_float64(tmp_path):
    path = tmp_path / "shots.parquet"
    pq.write_table(pa.table({"speed": [3, 4], "angle": [30, 60], "distance": pa.array([1, 2], pa.int8())}), path)
    shots = read_shots(path)
    assert all(a.dtype == np.float64 for a in shots.values()) and shots["distance"].tolist() == [1.0, 2.0]


def test_require_chooses_the_columns(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text("speed,distance\n1,2\n")
    assert read_shots(path, require=("speed",))["distance"].tolist() == [2.0]
    with pytest.raises(ValueError, match="column 'angle'"):
        read_shots(path)


def where(path, line=None, column=None):
    """The start of a message: file, then line or row, then column, as a regular expression."""
    parts = [str(path)]
    if line is not None:
        parts.append(f"line {line}" if isinstance(line, int) else line)
    if column is not None:
        parts.append(f"column '{column}'")
    return re.escape(", ".join(parts))


CSV_CASES = {
    "not a number": (f"{HEADER}\n1,2,3,0,4\n1,2,3,0,4\nabc,2,3,0,4\n", 4, "speed", "'abc' is not a number"),
    "empty cell": ("speed,angle,distance\n1,2,3\n1,,3\n", 3, "angle", "'' is not a number"),
    "nan": (f"{HEADER}\n1,2,3,0,nan\n", 2, "predicted", "'nan' is not finite"),
    "inf": ("speed,angle,distance\n1,2,inf\n", 2, "distance", "'inf' is not finite"),
    "minus inf": ("speed,angle,distance\n-Infinity,2,3\n", 2, "speed", "'-Infinity' is not finite"),
    "negative speed": ("speed,angle,distance\n1,2,3\n-0.5,2,3\n", 3, "speed", "'-0.5' is negative; a speed in m/s"),
    "negative distance": ("speed,angle,distance\n1,2,-3\n", 2, "distance", "'-3' is negative; a distance in m"),
    "negative height": (f"{HEADER}\n1,2,3,-1e-9,4\n", 2, "height", "'-1e-9' is negative; a height in m"),
    "down from the ground": (f"{HEADER}\n1,-5,3,0,4\n", 2, "angle", "'-5' degrees is outside [0, 90]"),
    "down, no height": ("speed,angle,distance\n1,-0.1,3\n", 2, "angle", "'-0.1' degrees is outside [0, 90]"),
    "steep from the ground": ("speed,angle,distance\n1,90.5,3\n", 2, "angle", "'90.5' degrees is outside [-90, 90]"),
    "steep from a height": (f"{HEADER}\n1,-91,3,2,4\n", 2, "angle", "'-91' degrees is outside [-90, 90]"),
    "too few fields": ("speed,angle,distance\n1,2,3\n1,2\n", 3, "distance", "no value; the row has 2 fields"),
    "too many fields": ("speed,angle,distance\n1,2,3,4\n", 2, "distance", "fields after the last column"),
    "duplicate column": ("speed,angle,distance,speed\n1,2,3,4\n", 1, "speed", "the column name appears more than once"),
    "missing column": ("speed,angle\n1,2\n", 1, "distance", "no such column; the columns found are 'speed', 'angle'"),
    "no header": ("10,45,3\n11,45,3\n", 1, None, "no header row; found '10'"),
    "unnamed column": ("speed,,distance\n1,2,3\n", 1, None, "column 2 has no name"),
    "no data rows": ("speed,angle,distance\n", 1, None, "no data rows"),
    "bad quoting": ('speed,angle,distance\n1,"2"x,3\n', 2, None, "not valid CSV"),
}


@pytest.mark.parametrize("text,line,column,reason", CSV_CASES.values(), ids=CSV_CASES.keys())
def test_csv_errors_say_where(tmp_path, text, line, column, reason):
    path = tmp_path / "shots.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"^{where(path, line, column)}: {re.escape(reason)}"):
        read_shots(path)


def test_downward_shots_from_a_height_are_fine(tmp_path):
    path = tmp_path / "shots.csv"
    path.write_text(f"{HEADER}\n1,-90,3,2,-4\n1,90,3,0,4\n0,0,0,0,0\n")
    assert read_shots(path)["angle"].tolist() == [-np.pi / 2, np.pi / 2, 0.0]


@pytest.mark.parametrize(
    "text,line,column",
    [
        # A bad distance on line 3 comes before a bad speed on line 4.
        ("speed,angle,distance\n1,2,3\n1,2,-3\n-1,2,3\n", 3, "distance"),
        # Within a row, left to right: the speed before the distance.
        ("speed,angle,distance\n-1,2,x\n", 2, "speed"),
        # A bad cell before a short row, and a short row before a bad cell.
        ("speed,angle,distance\n1,2,nan\n1,2\n", 2, "distance"),
        ("speed,angle,distance\n1,2\n1,2,nan\n", 2, "distance"),
        # A negative height is reported, not the downward angle it would otherwise allow.
        (f"{HEADER}\n1,-5,3,-1,4\n", 2, "height"),
    ],
)
def test_the_first_bad_cell_in_file_order_is_reported(tmp_path, text, line, column):
    path = tmp_path / "shots.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"^{where(path, line, column)}: "):
        read_shots(path)


def test_lines_are_physical_lines(tmp_path):
    # Blank lines are skipped but counted; a quoted field may span two lines.
    path = tmp_path / "shots.csv"
    path.write_text('\nspeed,angle,distance\n1,2,3\n\n1,"2\n",3\n1,2,x\n')
    with pytest.raises(ValueError, match=f"^{where(path, 7, 'distance')}: 'x' is not a number"):
        read_shots(path)
    path.write_text("\nspeed,angle\n1,2\n")
    with pytest.raises(ValueError, match=f"^{where(path, 2, 'distance')}: no such column"):
        read_shots(path)


def test_unreadable_files(tmp_path):
    for path in (tmp_path / "missing.csv", tmp_path / "missing.parquet"):
        with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: cannot read.*No such file"):
            read_shots(path)
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ValueError, match=f"^{re.escape(str(tmp_path / 'dir.csv'))}: cannot read"):
        read_shots(tmp_path / "dir.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("\n\n")
    with pytest.raises(ValueError, match=f"^{re.escape(str(empty))}: empty file"):
        read_shots(empty)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("speed,angle,distance,note\n1,2,3,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=f"^{re.escape(str(latin))}: cannot read"):
        read_shots(latin)
    fake = tmp_path / "fake.parquet"
    fake.write_text(f"{HEADER}\n1,2,3,0,4\n")
    with pytest.raises(ValueError, match=f"^{re.escape(str(fake))}: cannot read as Parquet"):
        read_shots(fake)
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'shots.txt'}: unknown file type '.txt'")):
        read_shots(tmp_path / "shots.txt")


def good_columns(n=4):
    return {"speed": [1.0] * n, "angle": [10.0] * n, "distance": [2.0] * n, "height": [0.0] * n}


PARQUET_CASES = {
    "null": ("speed", 2, None, "null is not a number"),
    "nan": ("distance", 3, float("nan"), "nan is not finite"),
    "inf": ("height", 1, float("inf"), "inf is not finite"),
    "negative speed": ("speed", 4, -2.0, "-2.0 is negative; a speed in m/s"),
    "negative distance": ("distance", 2, -1.0, "-1.0 is negative; a distance in m"),
    "negative height": ("height", 3, -0.5, "-0.5 is negative; a height in m"),
    "down from the ground": ("angle", 2, -1.0, "-1.0 degrees is outside [0, 90]"),
    "steep": ("angle", 4, 120.0, "120.0 degrees is outside [-90, 90]"),
}


@pytest.mark.parametrize("column,row,value,reason", PARQUET_CASES.values(), ids=PARQUET_CASES.keys())
def test_parquet_errors_say_where(tmp_path, column, row, value, reason):
    columns = good_columns()
    columns[column][row - 1] = value
    path = tmp_path / "shots.parquet"
    pq.write_table(pa.table({name: pa.array(values, pa.float64()) for name, values in columns.items()}), path)
    with pytest.raises(ValueError, match=f"^{where(path, f'row {row}', column)}: {re.escape(reason)}"):
        read_shots(path)


@pytest.mark.parametrize(
    "table,column,reason",
    [
        (pa.table({"speed": [1.0], "angle": [1.0]}), "distance", "no such column"),
        (pa.table({"speed": [1.0], "angle": [1.0], "distance": ["far"]}), "distance", "holds string, not numbers"),
        (pa.table([pa.array([1.0])] * 4, names=["speed", "angle", "distance", "angle"]), "angle",
         "the column name appears more than once"),
        (pa.table({"speed": pa.array([], pa.float64()), "angle": pa.array([], pa.float64()),
                   "distance": pa.array([], pa.float64())}), None, "no data rows"),
    ],
)
def test_parquet_column_errors(tmp_path, table, column, reason):
    path = tmp_path / "shots.parquet"
    pq.write_table(table, path)
    with pytest.raises(ValueError, match=f"^{where(path, None, column)}: {re.escape(reason)}"):
        read_shots(path)


def test_down_from_a_height_in_parquet_is_fine(tmp_path):
    columns = good_columns()
    columns["height"][1], columns["angle"][1] = 1.0, -80.0
    path = tmp_path / "shots.parquet"
    pq.write_table(pa.table(columns), path)
    assert read_shots(path)["angle"][1] == np.deg2rad(-80.0)


FAILING_WRITES = {
    "bad suffix": (lambda d: write_shots(d / "shots.txt", random_shots()), "unknown file type '.txt'"),
    "no suffix": (lambda d: write_shots(d / "shots", random_shots()), "unknown file type ''"),
    "no directory, csv": (lambda d: write_shots(d / "no" / "s.csv", random_shots()), "no directory"),
    "no directory, parquet": (lambda d: write_shots(d / "no" / "s.parquet", random_shots()), "no directory"),
    "no directory, write_csv": (lambda d: write_csv(d / "no" / "t.csv", {"t": [1.0]}), "no directory"),
    "unequal, csv": (lambda d: write_shots(d / "s.csv", {**random_shots(), "predicted": [1.0]}), "unequal lengths"),
    "unequal, parquet": (lambda d: write_shots(d / "s.pq", {**random_shots(), "speed": [1.0]}), "unequal lengths"),
    "unequal, write_csv": (lambda d: write_csv(d / "t.csv", {"a": [1, 2], "b": [1]}), "unequal lengths (a 2, b 1)"),
    "missing column": (lambda d: write_shots(d / "s.csv", {"speed": [1.0], "angle": [0.1]}), "column 'distance'"),
    "negative speed": (
        lambda d: write_shots(d / "s.parquet", {"speed": [1.0, -1.0], "angle": [0.0, 0.0], "distance": [0.0, 0.0]}),
        "row 2, column 'speed': -1.0 is negative",
    ),
    "not numbers": (
        lambda d: write_shots(d / "s.csv", {**random_shots(1), "note": ["x"]}), "column 'note': not numbers"
    ),
    "2-D column": (lambda d: write_csv(d / "t.csv", {"a": np.ones((2, 2))}), "1-D"),
    "not a string or number": (lambda d: write_csv(d / "t.csv", {"a": [{"x": 1}, 1.0]}),
                               "neither a number nor a string"),
}


@pytest.mark.parametrize("write,message", FAILING_WRITES.values(), ids=FAILING_WRITES.keys())
def test_a_failing_write_leaves_nothing(tmp_path, write, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        write(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["shots.csv", "shots.parquet"])
def test_a_write_failing_midway_keeps_the_old_file(tmp_path, monkeypatch, name):
    path = tmp_path / name
    write_shots(path, random_shots(seed=1))
    before = path.read_bytes()

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", fail)
    # Named by the user's path, never the temporary file's.
    with pytest.raises(ValueError, match=f"^cannot write {re.escape(str(path))}: disk full$"):
        write_shots(path, random_shots(seed=2))
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes() == before


def test_write_csv_strings_and_numbers(tmp_path):
    path = tmp_path / "results.csv"
    write_csv(path, {"model": ["mlp", "ude (k fitted)", ""], "rmse": [0.1, 1e-300, 3], "n": np.arange(3)})
    lines = path.read_text().splitlines()
    assert lines == ["model,rmse,n", "mlp,0.1,0", "ude (k fitted),1e-300,1", ",3,2"]
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert [float(row["rmse"]) for row in rows] == [0.1, 1e-300, 3.0]


def test_write_csv_replaces_an_existing_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("old\n")
    write_csv(path, {"t": np.array([0.5])})
    assert path.read_text() == "t\n0.5\n" and list(tmp_path.iterdir()) == [path]


TRICKY_TEXT = ["Smith, J.", 'say "hi"', "two\nlines", "a lone\rreturn", "crlf\r\n", "", " padded ", "1.5",
               '","', "naïve ☂"]


def test_write_csv_quotes_text_that_reads_back_as_written(tmp_path):
    path = tmp_path / "notes.csv"
    n = len(TRICKY_TEXT)
    write_csv(path, {"note": TRICKY_TEXT, "a,b": np.arange(n), 'say "x"': np.linspace(0, 1, n)})
    back = read_csv(path, text=("note",))
    assert list(back) == ["note", "a,b", 'say "x"']
    assert back["note"].tolist() == TRICKY_TEXT
    assert np.array_equal(back["a,b"], np.arange(n)) and np.array_equal(back['say "x"'], np.linspace(0, 1, n))
    with open(path, newline="", encoding="utf-8") as file:  # any CSV reader sees the same
        assert [row[0] for row in csv.reader(file)] == ["note", *TRICKY_TEXT]


def test_write_csv_quotes_only_what_needs_it(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, {"who": ["Smith, J.", "plain", 'a "b"'], "x": [0.5, 2.0, 1e-300]})
    assert path.read_text().splitlines() == ["who,x", '"Smith, J.",0.5', "plain,2", '"a ""b""",1e-300']


def test_a_single_empty_text_cell_is_not_a_blank_line(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, {"note": ["", "x", ""]})
    assert read_csv(path, text=("note",))["note"].tolist() == ["", "x", ""]


def test_numbers_round_trip_exactly_through_read_csv(tmp_path):
    shots = random_shots()
    path = tmp_path / "t.csv"
    write_csv(path, shots)
    back = read_csv(path)
    assert list(back) == list(shots)
    assert all(back[name].dtype == np.float64 and np.array_equal(back[name], shots[name]) for name in shots)
    assert not any(cell.endswith(".0") for line in path.read_text().splitlines() for cell in line.split(","))


def test_read_csv_reads_predictions_with_their_split(tmp_path):
    """predictions.csv as the runner writes it: a text column ``split``, angle in degrees."""
    path = tmp_path / "predictions.csv"
    split = np.array(["train", "train", "interp", "extrap"])
    columns = {"split": split, "speed": [5.0, 10.5, 20.0, 90.0], "angle": [5.0, 45.0, 30.25, 85.0],
               "distance": [1.25, 10.0, 30.0, 200.0], "true": [1.2, 10.1, 29.9, 201.0],
               "mlp": [1.0, np.nan, 30.5, np.inf]}
    write_csv(path, columns)
    table = read_csv(path, text=("split",))
    assert list(table) == list(columns)
    assert table["split"].tolist() == split.tolist() and table["split"].dtype.kind == "U"
    assert table["speed"][table["split"] == "train"].tolist() == [5.0, 10.5]
    for name in ("speed", "angle", "distance", "true", "mlp"):
        assert table[name].dtype == np.float64
        np.testing.assert_array_equal(table[name], columns[name])  # NaN where NaN; angle still degrees
    with pytest.raises(ValueError, match=f"^{where(path, 2, 'split')}: 'train' is not a number"):
        read_csv(path)


@pytest.mark.parametrize("text,line,column,reason", [
    ("split,x\ntrain,1\ntest,\n", 3, "x", "'' is not a number"),
    ("split,x\ntrain,1\ntest\n", 3, "x", "no value; the row has 1 fields where the header has 2"),
    ("split,x,split\ntrain,1,2\n", 1, "split", "the column name appears more than once"),
    ("split,x\n", 1, None, "no data rows"),
])
def test_read_csv_errors_say_where(tmp_path, text, line, column, reason):
    path = tmp_path / "table.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"^{where(path, line, column)}: {re.escape(reason)}"):
        read_csv(path, text=("split",))


# --- the ground floor: hybridlab.files ---------------------------------------------------------


def test_json_writes_non_finite_numbers_as_null(tmp_path):
    value = {"a": [np.float32(1.5), np.nan, float("inf")], "b": {"c": -np.inf, "n": np.int64(3), "t": np.bool_(True)}}
    assert json.loads(to_json(value)) == {"a": [1.5, None, None], "b": {"c": None, "n": 3, "t": True}}
    path = tmp_path / "v.json"
    write_json(path, value)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text and json.loads(text)["a"] == [1.5, None, None]


def test_write_bytes_replaces_whole_or_not_at_all(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    write_bytes(path, b"old")
    write_bytes(path, b"new")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["page.html"]

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", fail)
    with pytest.raises(ValueError, match=f"^cannot write {re.escape(str(path))}: disk full$"):
        write_bytes(path, b"newer")
    assert path.read_bytes() == b"new" and os.listdir(tmp_path) == ["page.html"]
    with pytest.raises(ValueError, match="no directory"):
        write_bytes(tmp_path / "missing" / "x.png", b"")


def test_new_directory_appears_whole_or_not_at_all(tmp_path):
    with new_directory(tmp_path / "run") as work:
        (tmp_path / work / "a.txt").write_text("a")
        assert os.listdir(tmp_path) == [os.path.basename(work)]
    assert os.listdir(tmp_path) == ["run"] and (tmp_path / "run" / "a.txt").read_text() == "a"
    with pytest.raises(RuntimeError, match="interrupted"), new_directory(tmp_path / "failed") as work:
        (tmp_path / work / "a.txt").write_text("a")
        raise RuntimeError("interrupted")
    assert os.listdir(tmp_path) == ["run"]
    with pytest.raises(ValueError, match="already exists"), new_directory(tmp_path / "run"):
        pass
    with pytest.raises(ValueError, match="no directory"), new_directory(tmp_path / "missing" / "run"):
        pass
