"""The ``hybridlab`` command: parse, call the library, print. Angles are degrees here.

Every error a user can cause (a bad number, an invalid parameter) ends in one line on stderr
and exit status 2, with no traceback and no partial output file.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
from equinox import EquinoxRuntimeError

LAUNCH_HELP = "Units: speed in m/s, angle in degrees above the horizontal, mass in kg, g in m/s², height in m."


class UsageError(Exception):
    """A command-line mistake: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _physics_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("physics (SI units)")
    group.add_argument("--mass", type=float, default=1.0, help="mass in kg (default 1)")
    group.add_argument("--g", type=float, default=9.81, help="gravity in m/s² (default 9.81)")
    group.add_argument("--height", type=float, default=0.0, help="launch height above the ground in m (default 0)")
    group.add_argument(
        "--drag", choices=("none", "linear", "quadratic"), default="none", help="drag law (default none)"
    )
    group.add_argument("--k", type=float, default=None, help="linear drag F = -k v, k in kg/s")
    group.add_argument("--c", type=float, default=None, help="quadratic drag F = -c |v| v, c in kg/m")


def _seed(text: str) -> int:
    """A --seed: an integer in [0, 2**63) (what a JAX key and NumPy's generators accept)."""
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if not 0 <= seed < 2**63:
        raise argparse.ArgumentTypeError(f"{seed} is outside [0, 2**63)")
    return seed


def _launch_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, required=True, help="launch speed in m/s")
    parser.add_argument("--angle", type=float, required=True, help="launch angle in degrees above the horizontal")


def _projectile(args):
    from hybridlab.models.priors import projectile_from

    return projectile_from(_physics_spec(args))


def _range(args) -> None:
    p, angle = _projectile(args), np.deg2rad(args.angle)
    distance = float(p.range(args.speed, angle))
    if not args.json:
        print(f"{distance:.15g}")
        return
    apex_x, apex_y = p.apex(args.speed, angle)
    impact_speed, impact_angle = p.impact(args.speed, angle)
    summary = {
        "range": distance,
        "flight_time": float(p.flight_time(args.speed, angle)),
        "apex": {"x": float(apex_x), "y": float(apex_y)},
        "impact": {"speed": float(impact_speed), "angle": float(np.rad2deg(impact_angle))},
    }
    print(json.dumps(summary))


def _trajectory(args) -> None:
    from hybridlab.data import write_csv

    if args.points < 2:
        raise UsageError(f"--points {args.points}: must be at least 2")
    p, angle = _projectile(args), np.deg2rad(args.angle)
    t = np.linspace(0.0, float(p.flight_time(args.speed, angle)), args.points)
    x, y = p.trajectory(args.speed, angle, t)
    write_csv(args.out, {"t": t, "x": x, "y": y})


def _simulate(args) -> None:
    import jax

    from hybridlab.data import simulate_shots, write_shots

    shots = simulate_shots(
        _projectile(args),
        args.n,
        tuple(args.speed),
        tuple(np.deg2rad(args.angle)),
        args.noise,
        jax.random.key(args.seed),
        args.relative,
    )
    write_shots(args.out, shots)


def _run(args) -> None:
    from hybridlab.experiments.runner import run, table

    models = None if args.models is None else [name.strip() for name in args.models.split(",") if name.strip()]
    metrics = run(args.scenario, args.seed, args.out, args.quick, models, progress=not args.quiet,
                  echo=(lambda line: None) if args.quiet else print)
    print(f"scenario {metrics['scenario']} (seed {metrics['seed']}{', quick' if args.quick else ''}): "
          f"{metrics['truth']}")
    print(table(metrics))
    print(f"written: {metrics['directory']}/report.html")


def _rung(args):
    """The model named by --model, built from the physics options where it needs physics."""
    from hybridlab.models import RUNGS, BasisRegression, Hybrid, MLP, PhysicsFit

    if args.model not in RUNGS:
        raise UsageError(f"--model {args.model!r}: choose from {', '.join(RUNGS)}")
    if args.model == "physics":
        unknown = [name.strip() for name in args.unknown.split(",") if name.strip()]
        return PhysicsFit(_physics_spec(args, unknown), unknown)
    if args.model == "hybrid":
        return Hybrid(_physics_spec(args), seed=args.seed)
    if args.model in ("mlp", "basis"):
        return {"mlp": MLP, "basis": BasisRegression}[args.model](seed=args.seed)
    return RUNGS[args.model]()


#: Starting guesses for an unknown drag coefficient the user did not give (SI units).
DRAG_START = {"k": 1.0, "c": 1e-3}


def _physics_spec(args, unknown=None) -> dict:
    """The physics options as a JSON description. ``unknown`` (for a fit): parameters to be
    fitted, whose values are starting guesses, so an unknown drag coefficient may be left out."""
    spec = {"drag": args.drag, "mass": args.mass, "g": args.g, "height": args.height}
    name = {"linear": "k", "quadratic": "c"}.get(args.drag)
    for other in ("k", "c"):
        if getattr(args, other) is not None and other != name:
            raise UsageError(f"--{other} does not apply to --drag {args.drag}")
    if name is not None:
        value = getattr(args, name)
        if value is None and name not in (unknown or ()):
            hint = "" if unknown is None else f" (or --unknown {name})"
            raise UsageError(f"--drag {args.drag} needs --{name}{hint}")
        spec[name] = DRAG_START[name] if value is None else value
    return spec


def _fit(args) -> None:
    from hybridlab.data import check_new_directory, read_shots, to_json
    from hybridlab.models.base import save_new

    check_new_directory(args.out, "--out")  # before a fit that may take minutes
    shots = read_shots(args.shots)
    _check_heights(args, shots)
    model = _rung(args)
    model.fit(np.column_stack([shots["speed"], shots["angle"]]), shots["distance"])
    save_new(model, args.out)
    summary = model.summary()
    if args.json:
        print(to_json(summary))
        return
    print(f"{args.model} fitted on {len(shots['distance'])} shots from {args.shots}; saved in {args.out}")
    print(f"parameters: {summary['n_params']}")
    for name, estimate in (summary["physics"] or {}).items():
        print(f"{name} = {estimate['value']:.6g} ± {estimate['stderr']:.2g}")
    if summary["formula"]:
        print(f"formula: {summary['formula']}")


def _check_heights(args, shots) -> None:
    """Every rung models shots from one launch height, --height: a file's height column must
    agree with it (a model of speed and angle cannot tell shots from other heights apart)."""
    if "height" not in shots:
        return
    other = np.flatnonzero(~np.isclose(shots["height"], args.height, rtol=1e-6, atol=1e-9))  # float32 files
    if other.size:
        row = int(other[0])
        raise UsageError(f"{args.shots}, data row {row + 1}, column 'height': {shots['height'][row]:g} m, but "
                         f"--height is {args.height:g} m; fit the shots of one launch height, given by --height")


def _predict(args) -> None:
    from hybridlab.data import from_file_units, read_shots, write_shots
    from hybridlab.models import load

    model = load(args.model_dir)
    # The input's values pass through to the output unchanged (angle stays in degrees).
    shots = read_shots(args.shots, require=("speed", "angle"), file_units=True)
    launches = from_file_units(shots)
    shots["predicted"] = model.predict(np.column_stack([launches["speed"], launches["angle"]]))
    write_shots(args.out, shots, require=("speed", "angle"), file_units=True)


def _demo(args) -> None:
    from hybridlab.experiments.demo import demo

    print(demo())


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hybridlab", description="Hybrid scientific machine learning on the projectile.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub = commands.add_parser("range", help="range of one shot", description="Range of one shot in m. " + LAUNCH_HELP)
    _launch_options(sub)
    _physics_options(sub)
    sub.add_argument(
        "--json", action="store_true",
        help="print range (m), flight_time (s), apex x, y (m), impact speed (m/s) and angle (degrees below the horizontal)",
    )
    sub.set_defaults(run=_range)

    sub = commands.add_parser(
        "trajectory", help="trajectory of one shot as CSV",
        description="Write t (s), x (m), y (m) from launch to landing. " + LAUNCH_HELP,
    )
    _launch_options(sub)
    _physics_options(sub)
    sub.add_argument("--points", type=int, default=200, help="number of equally spaced times (default 200)")
    sub.add_argument("--out", required=True, help="CSV file to write (columns t,x,y)")
    sub.set_defaults(run=_trajectory)

    sub = commands.add_parser(
        "simulate", help="a noisy shots dataset as CSV",
        description="Write n random shots: columns speed (m/s), angle (degrees), distance (m), with additive "
        "(and optionally relative) Gaussian noise on the distance, clipped at 0; from --height > 0 also a height "
        "column (m). The same seed gives the same file. " + LAUNCH_HELP,
    )
    sub.add_argument("--n", type=int, default=1000, help="number of shots (default 1000)")
    sub.add_argument("--speed", type=float, nargs=2, default=(5.0, 85.0), metavar=("LOW", "HIGH"),
                     help="speed range in m/s (default 5 85)")
    sub.add_argument("--angle", type=float, nargs=2, default=(5.0, 85.0), metavar=("LOW", "HIGH"),
                     help="angle range in degrees (default 5 85)")
    sub.add_argument("--noise", type=float, default=0.01, help="noise standard deviation in m (default 0.01)")
    sub.add_argument("--relative", type=float, default=0.0,
                     help="relative noise: the distance is also multiplied by 1 + N(0, r²) (default 0)")
    sub.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    _physics_options(sub)
    sub.add_argument("--out", required=True,
                     help="CSV or Parquet file to write (columns speed,angle,distance[,height])")
    sub.set_defaults(run=_simulate)

    sub = commands.add_parser(
        "run", help="fit every rung of a scenario, evaluate, write a report",
        description="Fit every model of the ladder on one scenario's data, evaluate in the training region and "
        "outside it, print a table and write metrics.json, models/, predictions.csv, figures/ and report.html.",
    )
    sub.add_argument("--scenario", default="shotput", help="cannon, shotput (default), baseball or cuberoot")
    sub.add_argument("--models", default=None, help="comma-separated model names (default: all of the scenario's)")
    sub.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    sub.add_argument("--out", default=None, help="run directory to create (default runs/<scenario>-<time>)")
    sub.add_argument("--quick", action="store_true", help="smaller data and shorter training (under a minute)")
    sub.add_argument("--quiet", action="store_true", help="no progress bar or status lines")
    sub.set_defaults(run=_run)

    sub = commands.add_parser(
        "fit", help="fit one model to your shots (CSV/Parquet: speed,angle,distance)",
        description="Fit one rung to measured shots (columns speed in m/s, angle in degrees, distance in m), "
        "save it in --out and print its summary. " + LAUNCH_HELP,
    )
    sub.add_argument("shots", help="CSV or Parquet file of shots")
    sub.add_argument("--model", required=True, help="nearest, linear, mlp, basis, physics or hybrid")
    sub.add_argument("--unknown", default="k", help="physics: comma-separated parameters to fit, of k, c, g, mass, "
                     "height (default k); the given values are the starting guesses")
    sub.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    sub.add_argument("--out", required=True, help="directory to save the model in (must not exist)")
    sub.add_argument("--json", action="store_true", help="print the summary as JSON")
    _physics_options(sub)
    sub.set_defaults(run=_fit)

    sub = commands.add_parser(
        "predict", help="predict distances for shots with a saved model",
        description="Write the input shots with a 'predicted' column (m).",
    )
    sub.add_argument("model_dir", help="directory written by 'hybridlab fit' or a run's models/<name>")
    sub.add_argument("shots", help="CSV or Parquet file with columns speed (m/s), angle (degrees)")
    sub.add_argument("--out", required=True, help="CSV or Parquet file to write")
    sub.set_defaults(run=_predict)

    sub = commands.add_parser("demo", help="the lecture's shot put: range tables and timing")
    sub.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        args.run(args)
    except (UsageError, ValueError, OSError, EquinoxRuntimeError) as error:
        # EquinoxRuntimeError: a check that fired inside a compiled solve (a bad value met
        # mid-fit); the user still gets one line, and every writer has left nothing behind.
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"hybridlab: error: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
