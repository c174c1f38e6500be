"""The house's written rules, checked (ARCHITECTURE.md, issue 31): import-linter's contracts
(``.importlinter``) hold, and every room of ``src/hybridlab`` is named in them, so a new room
cannot sit outside the rules; every scenario is in ``SCENARIOS``; modules and functions stay
short."""

import configparser
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"


def test_the_import_contracts_hold():
    linter = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(linter), "--config", str(CONFIG), "--no-cache"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_room_is_named_in_the_contracts():
    config = configparser.ConfigParser()
    config.read(CONFIG)
    named = set()
    for section in config.sections():
        for key in ("layers", "source_modules", "forbidden_modules"):
            for line in config[section].get(key, "").split("\n"):
                named |= {part.strip() for part in line.split("|") if part.strip()}
    package = ROOT / "src" / "hybridlab"
    rooms = {f"hybridlab.{p.name}" for p in package.iterdir() if (p / "__init__.py").exists()}
    rooms |= {f"hybridlab.{p.stem}" for p in package.glob("*.py") if not p.stem.startswith("_")}
    assert rooms - named == set()


def test_every_scenario_is_in_SCENARIOS():
    """Each scenario job of experiments/ (a module-level ``run_<name>``) is an entry of
    ``SCENARIOS``, whose job names it, and every job resolves to its function."""
    import importlib
    import re

    from hybridlab.experiments.scenarios import LADDERS, SCENARIOS, JobScenario

    jobs = {spec.job for spec in SCENARIOS.values() if isinstance(spec, JobScenario)}
    for job in jobs:
        module, function = job.split(":")
        assert callable(getattr(importlib.import_module(module), function))
    found = set()
    for path in (ROOT / "src" / "hybridlab" / "experiments").glob("*.py"):
        for name in re.findall(r"^def (run_\w+)\(", path.read_text(), flags=re.MULTILINE):
            found.add(f"hybridlab.experiments.{path.stem}:{name}")
    assert found == jobs
    assert set(LADDERS) | {spec.name for spec in SCENARIOS.values() if isinstance(spec, JobScenario)} == set(SCENARIOS)


#: Modules over 400 lines of code today (docstrings not counted), each held at most at its size
#: now until it is split (issue 31).
LONG_MODULES = {"inverse/aiming.py": 403}


def _docstring_lines(tree) -> set[int]:
    """The line numbers of every docstring of a module, class or function: documentation (the
    Parameters and Returns of the API reference) is not code, and a rule on length should not
    push it out."""
    import ast

    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


def test_no_module_over_400_lines_and_no_function_over_60():
    """Short modules and functions, counted in lines of code (docstrings left out); the long
    modules of :data:`LONG_MODULES` may not grow."""
    import ast

    package = ROOT / "src" / "hybridlab"
    for path in package.rglob("*.py"):
        name = path.relative_to(package).as_posix()
        text = path.read_text()
        tree = ast.parse(text)
        docs = _docstring_lines(tree)
        code = len(text.splitlines()) - len(docs)
        assert code <= LONG_MODULES.get(name, 400), (name, code)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = set(range(node.lineno, node.end_lineno + 1)) - docs
                assert len(body) <= 60, f"{name}: {node.name}"


#: NumPy's and the math module's angle conversions: only ``data/units.py`` may call them.
_CONVERSIONS = {"deg2rad", "rad2deg", "radians", "degrees"}


def _angle_conversions(tree) -> list[int]:
    """The lines of a module that convert an angle by hand: a call of a conversion
    (``np.deg2rad``, ``math.degrees``, an imported ``rad2deg`` …) or 180 against π."""
    import ast

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if called in _CONVERSIONS:
                found.append(node.lineno)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult)) and any(
                getattr(side, "attr", getattr(side, "id", None)) == "pi" for side in (node.left, node.right)):
            if any(isinstance(inner, ast.Constant) and inner.value == 180 for inner in ast.walk(node)):
                found.append(node.lineno)
    return found


def test_angles_are_converted_in_one_place():
    """Radians inside the library, degrees in files, on the command line and in what a person
    reads: ``hybridlab.data.units`` converts (issue 31 §4, §5), no other module does."""
    import ast

    assert _angle_conversions(ast.parse("import math\nmath.radians(3)\nnp.rad2deg(x)\ny = x * 180 / np.pi")) \
        == [2, 3, 4]
    package = ROOT / "src" / "hybridlab"
    offenders = {path.relative_to(package).as_posix() for path in package.rglob("*.py")
                 if _angle_conversions(ast.parse(path.read_text()))}
    assert offenders == {"data/units.py"}


#: Strings outside physics/ that equal a drag law's name, term or coefficient and mean
#: something else, each with what it means there. Anything else is a law spelled by hand.
OTHER_MEANINGS = {
    ("dynamics/trajectory_fit.py", "linear"): "SciPy's least_squares loss",
    ("experiments/equations.py", "k"): "the metrics keys of the linear-drag inverse problem, read by its report",
    ("experiments/gust.py", "k"): "the metrics key of the gust scenario's drag rate, read by its report",
    ("experiments/learning.py", "cubic"): "the published cubic-polynomial baseline of the drops benchmark",
    ("experiments/scenarios.py", "constant"): "a learning-rate schedule",
    ("experiments/scenarios.py", "linear"): "the linear-regression rung's name",
    ("experiments/wind.py", "linear"): "the linear operator's name",
    ("inverse/learned.py", "none"): "the learned aim's branch without a penalty",
    ("inverse/regularisation.py", "constant"): "a learning-rate schedule",
    ("models/__init__.py", "linear"): "the linear-regression rung's name (its module, imported on first use)",
    ("models/linear.py", "linear"): "the rung's name",
    ("models/mlp.py", "constant"): "a learning-rate schedule",
    ("models/nearest.py", "k"): "the number of neighbours",
    ("report/equations.py", "k"): "metrics keys read from the run's files",
    ("report/equations.py", "none"): "a table cell: no standard error",
    ("report/figures.py", "none"): "Matplotlib's line style and face colour",
    ("report/forecast.py", "none"): "Matplotlib's face colour; a table cell",
    ("report/gust.py", "k"): "a metrics key read from the run's files",
    ("report/gust.py", "none"): "Matplotlib's line style",
    ("report/sweep.py", "none"): "a table cell",
}


def test_no_module_outside_physics_spells_a_drag_law():
    """A drag law's name, its terms' words and its coefficients' names are the physics' (its
    plain-data registry, ``physics/laws.py``); other rooms take them from there (issue 31 §5).
    Docstrings aside, a string equal to one of them outside physics/ must be in
    :data:`OTHER_MEANINGS`, and every entry there must still be found."""
    import ast

    from hybridlab.physics.laws import FITTED_LAWS, LAWS, TERMS

    spelled = set(LAWS) | set(FITTED_LAWS) | {word for word, _ in TERMS.values()}
    spelled |= {name for law in LAWS.values() for name in law.coefficients}
    package = ROOT / "src" / "hybridlab"
    found = set()
    for path in package.rglob("*.py"):
        name = path.relative_to(package).as_posix()
        if name.startswith("physics/"):
            continue
        tree = ast.parse(path.read_text())
        docs = _docstring_lines(tree)
        found |= {(name, node.value) for node in ast.walk(tree) if isinstance(node, ast.Constant)
                  and node.value in spelled and node.lineno not in docs}
    assert found - set(OTHER_MEANINGS) == set()
    assert set(OTHER_MEANINGS) - found == set()


#: Figures an experiment draws from live objects, each with why no run directory holds it.
LIVE_FIGURES = {("experiments/jobs.py", "plot_aim"): "aim --plot draws the answer to a request; no run writes files",
                ("experiments/jobs.py", "write_figure"): "writes that picture"}


def test_every_figure_of_a_run_is_drawn_from_its_files():
    """The rooms that run jobs hand the report room a directory (``build_…``/``draw_…`` take a
    path), never the objects they fitted: every figure can be drawn again from the files its job
    wrote (issue 31 §5). A test of each job (tests/test_learning.py, test_forecasting.py …)
    redraws from the files alone."""
    import ast

    package = ROOT / "src" / "hybridlab"
    found = set()
    for path in (package / "experiments").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            # report.schema: the types of the files' contents, not a figure
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hybridlab.report") \
                    and node.module != "hybridlab.report.schema":
                found |= {(path.relative_to(package).as_posix(), alias.name) for alias in node.names
                          if not alias.name.startswith(("build_", "draw_"))}
    assert found == set(LIVE_FIGURES)


def test_g_is_written_once():
    """g's two values, the projectiles' 9.81 m/s² and standard gravity's 9.80665, are numbers of
    ``physics/constants.py`` alone; every other module names them (issue 31 §5)."""
    import ast

    package = ROOT / "src" / "hybridlab"
    found = {(path.relative_to(package).as_posix(), node.lineno) for path in package.rglob("*.py")
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Constant) and node.value in (9.81, 9.80665) and not isinstance(node.value, bool)}
    assert {name for name, _ in found} == {"physics/constants.py"}


def test_no_public_function_outside_physics_abbreviates_the_projectile():
    """One name per concept (issue 31 §5): a public function of a room above physics/ takes the
    projectile as ``projectile``, never ``p`` (the names of the physics: ARCHITECTURE.md)."""
    import ast

    package = ROOT / "src" / "hybridlab"
    found = [(path.relative_to(package).as_posix(), node.name) for path in package.rglob("*.py")
             if path.relative_to(package).parts[0] != "physics"
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
             and "p" in [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]]
    assert found == []
