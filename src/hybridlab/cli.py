"""The ``hybridlab`` command: parse, call the library, print. Angles are degrees here.

Every error a user can cause (a bad number, an invalid parameter) ends in one line on stderr
and exit status 2, with no traceback and no partial output file.
"""

from __future__ import annotations

import argparse
import math
import re
import sys

from hybridlab import __version__, stopping

LAUNCH_HELP = "Units: speed in m/s, angle in degrees above the horizontal, mass in kg, g in m/s², height in m."


class UsageError(Exception):
    """A command-line mistake: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _drag_laws() -> dict[str, dict[str, str]]:
    """Every built-in drag law's coefficients with a line of help each: what the command line
    offers as options (read from plain data: printing the help imports no JAX)."""
    from hybridlab.physics.laws import LAWS

    return {name: {coefficient: f"{law.title}: {coefficient} in {c.unit} (see {law.class_name})"
                   for coefficient, c in law.coefficients.items()} for name, law in LAWS.items()}


def _physics_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("physics (SI units)")
    group.add_argument("--mass", type=float, default=1.0, help="mass in kg (default 1)")
    group.add_argument("--g", type=float, default=9.81, help="gravity in m/s² (default 9.81)")
    group.add_argument("--height", type=float, default=0.0, help="launch height above the ground in m (default 0)")
    group.add_argument("--drag", choices=sorted(_drag_laws()), default="none", help="drag law (default none)")
    helps: dict[str, list[str]] = {}  # one option per coefficient name, whichever laws share it
    for coefficients in _drag_laws().values():
        for name, text in coefficients.items():
            helps.setdefault(name, []).append(text)
    for name, texts in helps.items():
        group.add_argument(f"--{name}", type=float, default=None, help="; ".join(texts))


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


def _physics(args) -> dict:
    """The physics options as :func:`~hybridlab.experiments.jobs.physics_spec` takes them."""
    names = {name for coefficients in _drag_laws().values() for name in coefficients}
    return {"drag": args.drag, "coefficients": {name: getattr(args, name) for name in names}, "mass": args.mass,
            "g": args.g, "height": args.height}


def _spec(args) -> dict:
    from hybridlab.experiments.jobs import physics_spec

    return physics_spec(**_physics(args))


def _check_angles(args, *angles: float) -> None:
    """UsageError unless every launch angle (degrees) is in [0, 90], or [-90, 90] from a
    height: checked here, where the user's unit is degrees, not later in the library's radians."""
    lowest = -90.0 if args.height > 0 else 0.0
    if not all(math.isfinite(a) and lowest <= a <= 90.0 for a in angles):
        shown = " ".join(f"{a:g}" for a in angles)
        where = "from a height (--height > 0)" if lowest else "from the ground (--height 0)"
        raise UsageError(f"--angle {shown}: must be in [{lowest:g}, 90] degrees {where}")


def _range(args) -> None:
    from hybridlab.experiments.jobs import shot_range, shot_summary
    from hybridlab.files import to_json

    _check_angles(args, args.angle)
    if not args.json:
        print(f"{shot_range(_spec(args), args.speed, math.radians(args.angle)):.15g}")
        return
    summary = shot_summary(_spec(args), args.speed, math.radians(args.angle))
    summary["impact"]["angle"] = math.degrees(summary["impact"]["angle"])
    print(to_json(summary))


def _aim(args) -> None:
    from hybridlab.experiments.jobs import aim_summary, write_aim_files
    from hybridlab.files import check_output_file, to_json

    if args.speed is not None and args.angle is not None:
        raise UsageError("--speed and --angle: give one of them (or neither), not both")
    if args.angle is not None:
        lowest = -90.0 if args.height > 0 else 0.0
        if not (math.isfinite(args.angle) and lowest <= args.angle < 90.0 and (lowest == 0 or args.angle > lowest)):
            where = "in (-90, 90) degrees from a height (--height > 0)" if lowest else \
                "in [0, 90) degrees from the ground (--height 0)"
            raise UsageError(f"--angle {args.angle:g}: must be {where}")
    angle = None if args.angle is None else math.radians(args.angle)
    for path, name in ((args.curve, "curve"), (args.plot, "plot")):
        if path is not None:
            check_output_file(path, f"--{name}")  # before any answer is computed ('' is no file)
    summary = aim_summary(_spec(args), args.distance, args.target_height, args.speed, angle)
    write_aim_files(_spec(args), summary, args.curve, args.plot, args.speed)
    for shot in summary["solutions"] + [summary["min_speed"]] + [summary["closest"] or {}]:
        if "angle" in shot:
            shot["angle"] = math.degrees(shot["angle"])
    if args.json:
        print(to_json(summary))
        return
    target, least, closest = summary["target"], summary["min_speed"], summary["closest"]
    print(f"target: {target['distance']:g} m downrange, {target['height']:g} m above the launch point")
    for shot in summary["solutions"]:
        time = f", flight time {shot['flight_time']:.6g} s" if shot["flight_time"] is not None else ""
        print(f"{shot['arc']:<9} {shot['speed']:.6g} m/s at {shot['angle']:.6g}°{time}")
    searched = f"any speed up to {least['searched_up_to']:.6g} m/s"
    if closest is not None and closest["height"] < target["height"]:
        print(f"unreachable: at this speed the highest the shot gets is {closest['height']:.6g} m above the launch "
              "point, straight up")
    elif closest is not None:
        print(f"unreachable: at this speed the farthest at the target's height is {closest['distance']:.6g} m, "
              f"at {closest['angle']:.6g}°")
    elif not summary["reachable"]:
        print(f"unreachable {'at this angle ' if args.angle is not None else ''}at {searched}")
    print(f"least speed: {least['speed']:.6g} m/s at {least['angle']:.6g}°" if math.isfinite(least["speed"])
          else f"least speed: none up to {least['searched_up_to']:.6g} m/s")


def _trajectory(args) -> None:
    from hybridlab.experiments.jobs import write_trajectory

    _check_angles(args, args.angle)
    spec = _spec(args)
    if args.wind is not None:
        spec["wind"] = _wind(args.wind, args.wind_until)
    elif args.wind_until is not None:
        raise UsageError("--wind-until: give --wind too (it sets when the last wind sample is taken)")
    write_trajectory(spec, args.speed, math.radians(args.angle), args.points, args.out, args.noise, args.seed)


def _wind(text: str, until: float | None) -> float | dict:
    """--wind W or W1,W2,... (m/s, equally spaced over [0, --wind-until] s) as a wind spec."""
    try:
        samples = [float(value) for value in text.split(",")]
    except ValueError:
        raise UsageError(f"--wind {text}: must be a number or comma-separated numbers (m/s)") from None
    if len(samples) == 1:
        return samples[0]
    if until is None:
        raise UsageError(f"--wind: {len(samples)} samples need --wind-until T, the time (s) of the last one")
    return {"samples": samples, "duration": until}


def _recover_wind(args) -> None:
    from hybridlab.experiments.gust import METHODS, recover_wind_file
    from hybridlab.files import to_json

    if (args.speed is None) != (args.angle is None):
        raise UsageError("--speed and --angle: give both (a known launch) or neither (it is fitted)")
    launch = None
    if args.speed is not None:
        _check_angles(args, args.angle)
        launch = (args.speed, math.radians(args.angle))
    methods = METHODS if args.method == "all" else (args.method,)
    result = recover_wind_file(args.track, args.mass, args.k, args.out, methods, launch, args.noise, args.samples,
                               args.g, args.height, args.rule, args.seed)
    result["launch"]["angle"] = math.degrees(result["launch"]["angle"])
    for entry in result["methods"].values():
        if "launch" in entry:
            entry["launch"]["angle"] = math.degrees(entry["launch"]["angle"])
    if args.json:
        print(to_json(result))
        return
    for name, entry in result["methods"].items():
        weight = "" if entry["lambda"] is None else f"λ = {entry['lambda']:.3g} ({entry['rule']}); "
        error = f"; relative error {entry['relative_error']:.3g}" if "relative_error" in entry else ""
        print(f"{name}: {weight}residual RMS {entry['residual_rms']:.3g} m{error}")
    launch, noise = result["launch"], result["noise"]
    print(f"launch: {launch['speed']:.5g} m/s at {launch['angle']:.5g}°{' (fitted)' if launch['fitted'] else ''}; "
          f"noise {noise['sigma']:.3g} m{' (estimated from the heights)' if noise['estimated'] else ''}")
    print(f"written: {args.out}")


def _solve(args) -> None:
    from hybridlab.experiments.solving import solve_shot
    from hybridlab.files import to_json

    if args.to is not None and (args.speed is not None or args.angle is not None):
        raise UsageError("--to: give either --to X Y --time T (boundary value) or --speed and --angle (initial value)")
    if args.to is None and (args.speed is None or args.angle is None):
        raise UsageError("give --speed and --angle (initial value) or --to X Y --time T (boundary value)")
    if args.to is not None and args.time is None:
        raise UsageError("--to: needs --time T, the time (s) at which the shot is at the target")
    if args.time is not None and not args.time > 0:
        raise UsageError(f"--time {args.time}: must be > 0 (s)")
    if args.angle is not None:
        _check_angles(args, args.angle)
    if args.method == "ritz" and args.drag not in ("linear", "none"):
        raise UsageError(f"--method ritz: needs --drag linear or none (quadratic drag has no action); got {args.drag}")
    angle = None if args.angle is None else math.radians(args.angle)
    result = solve_shot(_spec(args), args.method, args.speed, angle, args.to, args.time, args.points, args.out,
                        args.epochs, args.polish, args.seed)
    result["launch"]["angle"] = math.degrees(result["launch"]["angle"])
    if args.json:
        print(to_json(result))
        return
    launch = result["launch"]
    print(f"{result['method']}: launch {launch['speed']:.8g} m/s at {launch['angle']:.8g}°; relative L2 error "
          f"against the exact path {result['rel_l2_vs_exact']:.3g}; {result['seconds']:.2f} s")


def _simulate(args) -> None:
    from hybridlab.experiments.jobs import write_simulated, write_simulated_tracks

    _check_angles(args, *args.angle)
    angles = [math.radians(a) for a in args.angle]
    if args.points is not None and args.tracks is None:
        raise UsageError("--points: give --tracks too (it sets the points per trajectory)")
    if args.tracks is not None:
        if args.relative:
            raise UsageError("--relative: applies to distances, not to trajectories (--tracks)")
        write_simulated_tracks(_spec(args), args.tracks, 30 if args.points is None else args.points, args.speed, angles,
                               args.noise, args.seed, args.out)
        return
    write_simulated(_spec(args), args.n, args.speed, angles, args.noise, args.seed, args.relative,
                    args.out)


def _run(args) -> None:
    from hybridlab.experiments.jobs import progress_meter
    from hybridlab.experiments.runner import run, table

    from hybridlab.experiments.scenarios import SCENARIOS, JobScenario

    if args.scenario not in SCENARIOS:
        raise UsageError(f"--scenario {args.scenario!r}: choose from {', '.join(SCENARIOS)}")
    echo = (lambda line: None) if args.quiet else print
    if isinstance(SCENARIOS[args.scenario], JobScenario):
        if args.models is not None:
            raise UsageError(f"--models: the {args.scenario} scenario has no model ladder")
        metrics = SCENARIOS[args.scenario].run(args.out, args.seed, args.quick, echo=echo)
        print(f"written: {metrics['directory']}/report.html")
        return
    models = None if args.models is None else [name.strip() for name in args.models.split(",") if name.strip()]
    metrics = run(args.scenario, args.seed, args.out, args.quick, models, progress=progress_meter(args.quiet),
                  echo=echo)
    print(f"scenario {metrics['scenario']} (seed {metrics['seed']}{', quick' if args.quick else ''}): "
          f"{metrics['truth']}")
    print(table(metrics))
    print(f"written: {metrics['directory']}/report.html")


def _info(args) -> None:
    from hybridlab.compilation import ENVIRONMENT, usage
    from hybridlab.experiments.jobs import platform
    from hybridlab.files import to_json

    facts = {**platform(), "cache": usage()}
    if args.json:
        print(to_json(facts))
        return
    print(f"hybridlab {facts['hybridlab']}, JAX {facts['jax']}")
    print(f"device: {facts['device']} (backend {facts['backend']}; all: {', '.join(facts['devices'])})")
    print(f"precision: {facts['precision']}; CPUs: {facts['cpus']}")
    cache = facts["cache"]
    print(f"compiled programs: {cache['directory']}, {cache['entries']} kept, {cache['bytes'] / 1e6:.1f} MB"
          if cache["directory"] else f"compiled programs: not kept between processes ({ENVIRONMENT}=off)")


def _sweep(args) -> None:
    from hybridlab.experiments.sweep import sweep

    models = None if args.models is None else [name.strip() for name in args.models.split(",") if name.strip()]
    summary = sweep(args.scenario, args.seeds, args.out, args.first_seed, args.quick, models, args.address,
                    echo=(lambda line: None) if args.quiet else print)
    print(f"sweep of {summary['scenario']}: {len(summary['seeds'])} seeds finished, {len(summary['failed'])} failed")
    for name, metrics in summary["models"].items():
        cells = [f"{key} {metrics[key]['mean']:.4g} ± {metrics[key]['std']:.2g}"
                 for key in ("rmse_interp", "rmse_extrap") if key in metrics]
        print(f"  {name:<14}" + "; ".join(cells))
    print(f"written: {args.out}/summary.json, {args.out}/report.html")


def _fit(args) -> None:
    from hybridlab.experiments.jobs import build_model, fit_file
    from hybridlab.files import to_json

    unknown = None if args.unknown is None else [name.strip() for name in args.unknown.split(",") if name.strip()]
    model = build_model(args.model, _physics(args), unknown, args.seed)
    summary, n = fit_file(args.shots, model, args.out, args.height, args.keep_unconverged)
    if args.json:
        print(to_json(summary))
        return
    print(f"{args.model} fitted on {n} shots from {args.shots}; saved in {args.out}")
    print(f"parameters: {summary['n_params']}")
    for name, estimate in (summary["physics"] or {}).items():
        print(f"{name} = {estimate['value']:.6g} ± {estimate['stderr']:.2g}")
    if summary["formula"]:
        print(f"formula: {summary['formula']}")
    aliased = list((summary["diagnostics"] or {}).get("aliased") or ())
    if aliased:
        shown = ", ".join(aliased[:4]) + (f" and {len(aliased) - 4} more" if len(aliased) > 4 else "")
        print(f"left out: {len(aliased)} terms these shots cannot tell apart from the kept ones ({shown})")


def _learn_drag(args) -> None:
    from hybridlab.experiments.learning import learn_drag_file
    from hybridlab.files import to_json

    fit_g = True if args.fit_g else False if args.known_g else None
    result = learn_drag_file(args.data, args.mass, args.out, args.diameter, args.method, args.train_until, args.law,
                             fit_g, args.g, args.epochs, args.seed)
    if args.json:
        print(to_json(result.to_json()))
        return
    print(f"method: {result.method}; law: {result.law}{'; g fitted' if result.fit_g else ''}")
    for what, rule in result.chosen.items():
        if rule != "given":
            print(f"chosen {what}: {rule}")
    for name, entry in result.parameters().items():
        stderr = "" if entry["stderr"] is None else f" ± {entry['stderr']:.2g}"  # inf: undetermined
        print(f"{name} = {entry['value']:.6g}{stderr}")
    test = "no held-out part" if result.mse_test is None else f"{result.mse_test:.4g} m² (t > {args.train_until:g} s)"
    print(f"MSE fitted part: {result.mse_train:.4g} m²; held out: {test}")
    if result.coverage_test is not None:
        print(f"90 % predictive interval ({result.model.interval_method}): covers {result.coverage_test:.0%} of the "
              f"held-out coordinates, mean width {result.width_test:.3g} m")
    for name, p in result.scores.items():
        print(f"  p-value against the fullest candidate, {name}: {p:.3g}")
    print(f"written: {args.out}")


def _drops(args) -> None:
    from hybridlab.experiments.learning import drops_benchmark, drops_table
    from hybridlab.files import to_json

    methods = [name.strip() for name in args.methods.split(",") if name.strip()]
    rows = drops_benchmark(methods, args.train_until, args.epochs)
    print(to_json(rows) if args.json else drops_table(rows, methods, args.train_until))


def _predict(args) -> None:
    from hybridlab.experiments.jobs import predict_file

    predict_file(args.model_dir, args.shots, args.out)


def _demo(args) -> None:
    from hybridlab.experiments.demo import demo

    print(demo())


def _flagged(message: str, flags: set[str]) -> str:
    """A library message with the parameters it names written as this command's flags:
    ``k = -1.0: …`` → ``--k -1.0: …``, ```height` is 0 m`` → ``--height is 0 m`` and
    ``…, for speed = 1e+300 m/s`` → ``…, for --speed 1e+300 m/s``. The angle
    keeps its name: the library speaks of it in radians, the command line in degrees."""
    flags = flags - {"angle"}

    def flag(name: str) -> str:
        return "--" + name.replace("_", "-")

    first = re.match(r"(\w+)( = |: )", message)
    if first and first.group(1) in flags:
        message = f"{flag(first.group(1))}{' ' if first.group(2) == ' = ' else ': '}{message[first.end():]}"
    message = re.sub(r"`(\w+)`", lambda m: flag(m.group(1)) if m.group(1) in flags else m.group(1), message)
    head, sep, given = message.partition(", for ")  # the physics' closing list: "for speed = 1e+300 m/s, mass = …"
    given = re.sub(r"\b(\w+) = ", lambda m: flag(m.group(1)) + " " if m.group(1) in flags else m.group(0), given)
    return head + sep + given


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hybridlab", description="Hybrid scientific machine learning on the projectile.")
    parser.add_argument("--version", action="version", version=f"hybridlab {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub = commands.add_parser("info", help="the device and precision hybridlab computes with, and its cache",
                              description="Print hybridlab's and JAX's versions, the device every command runs on "
                              "(the first JAX finds: a GPU where JAX for CUDA is installed, pip install "
                              "'hybridlab[cuda]'), all devices, the precision, the CPU count, and where compiled "
                              "programs are kept between runs and how much they take (HYBRIDLAB_CACHE=DIR moves "
                              "them, HYBRIDLAB_CACHE=off keeps none).")
    sub.add_argument("--json", action="store_true", help="print it as JSON")
    sub.set_defaults(run=_info)

    sub = commands.add_parser("range", help="range of one shot", description="Range of one shot in m. " + LAUNCH_HELP)
    _launch_options(sub)
    _physics_options(sub)
    sub.add_argument(
        "--json", action="store_true",
        help="print range (m), flight_time (s), apex x, y (m), impact speed (m/s) and angle (degrees below the horizontal)",
    )
    sub.set_defaults(run=_range)

    sub = commands.add_parser(
        "aim", help="how to launch to hit a target",
        description="The launches that pass through a target --distance m downrange and --target-height m above the "
        "launch point: at a given --speed (the low and the high arc), at a given --angle (the speed), or the "
        "least-speed shot. An unreachable target is an answer (exit 0), with the closest approach. " + LAUNCH_HELP,
    )
    sub.add_argument("--distance", type=float, required=True, help="the target's distance downrange in m")
    sub.add_argument("--target-height", type=float, default=0.0,
                     help="the target's height above the launch point in m (default 0; negative: below it)")
    sub.add_argument("--speed", type=float, default=None, help="launch speed in m/s: find the angles")
    sub.add_argument("--angle", type=float, default=None, help="launch angle in degrees: find the speed")
    _physics_options(sub)
    sub.add_argument("--json", action="store_true", help="print the answer as JSON (angles in degrees)")
    sub.add_argument("--curve", default=None, help="CSV or Parquet file for the solution curve (angle, speed)")
    sub.add_argument("--plot", default=None, help="PNG file: the paths of every solution to the target")
    sub.set_defaults(run=_aim)

    sub = commands.add_parser(
        "trajectory", help="trajectory of one shot as CSV",
        description="Write t (s), x (m), y (m) from launch to landing. " + LAUNCH_HELP,
    )
    _launch_options(sub)
    _physics_options(sub)
    sub.add_argument("--points", type=int, default=200, help="number of equally spaced times (default 200)")
    sub.add_argument("--wind", default=None, help="horizontal wind in m/s (+x: tailwind): W, or W1,W2,... equally "
                     "spaced over [0, --wind-until], linear between (adds a column wind)")
    sub.add_argument("--wind-until", type=float, default=None, help="the time (s) of the last wind sample")
    sub.add_argument("--noise", type=float, default=0.0, help="noise standard deviation on x and y in m (default 0)")
    sub.add_argument("--seed", type=_seed, default=0, help="random seed of the noise (default 0)")
    sub.add_argument("--out", required=True, help="CSV file to write (columns t,x,y[,wind])")
    sub.set_defaults(run=_trajectory)

    sub = commands.add_parser(
        "recover-wind", help="recover a horizontal wind w(t) from one tracked shot (regularised)",
        description="Recover the wind w(t) from a track t,x,y (linear drag; a wind column, if present, is the "
        "truth to compare with) by least squares, Tikhonov (first difference or identity), total variation and "
        "a learned regulariser; the launch is fitted unless given. Writes wind.csv, lcurve.csv (the regularised "
        "methods' L-curves), result.json and figures/.")
    sub.add_argument("track", help="CSV or Parquet file of one track: t (s), x, y (m)[, wind (m/s)]")
    sub.add_argument("--mass", type=float, required=True, help="mass in kg")
    sub.add_argument("--k", type=float, required=True, help="linear drag coefficient in kg/s")
    sub.add_argument("--g", type=float, default=9.81, help="gravity in m/s² (default 9.81)")
    sub.add_argument("--height", type=float, default=0.0, help="launch height in m (default 0)")
    sub.add_argument("--speed", type=float, default=None, help="launch speed in m/s, if known (with --angle)")
    sub.add_argument("--angle", type=float, default=None, help="launch angle in degrees, if known (with --speed)")
    sub.add_argument("--method", choices=("least-squares", "tikhonov", "tikhonov-identity", "tv", "learned", "all"),
                     default="all", help="default all")
    sub.add_argument("--noise", type=float, default=None,
                     help="noise σ in m (default: estimated from the heights, which the wind does not move)")
    sub.add_argument("--samples", type=int, default=None,
                     help="wind samples over the track, no more than its points (default 41, or its points if fewer)")
    sub.add_argument("--rule", choices=("gcv", "modified-gcv", "discrepancy", "lcurve", "quasi", "cv"), default=None,
                     help="how λ is chosen for every regularised method: generalised cross-validation (plain or "
                     "modified: each degree of freedom counted twice), the discrepancy principle, the L-curve's "
                     "corner, quasi-optimality or 5-fold cross-validation on left-out times (default: each method's "
                     "own, chosen on the λ benchmark; result.json says which)")
    sub.add_argument("--seed", type=_seed, default=0, help="seed of the learned regulariser's training (default 0)")
    sub.add_argument("--out", required=True, help="directory to create for the results")
    sub.add_argument("--json", action="store_true", help="print the result as JSON (angles in degrees)")
    sub.set_defaults(run=_recover_wind)

    sub = commands.add_parser(
        "solve", help="one shot solved exactly, by a PINN or by the Deep Ritz method",
        description="Solve the initial-value shot (--speed, --angle, on [0, --time], default the flight time) or "
                    "the boundary-value one (--to X Y: at (X, Y) m after --time s) by --method, beside the exact "
                    "path; write t (s), x (m), y (m). " + LAUNCH_HELP,
    )
    sub.add_argument("--method", choices=("exact", "pinn", "ritz"), default="exact",
                     help="exact (the physics), pinn (physics-informed network) or ritz (Deep Ritz: boundary value, "
                          "linear drag or none)")
    sub.add_argument("--speed", type=float, default=None, help="launch speed in m/s (initial value)")
    sub.add_argument("--angle", type=float, default=None, help="launch angle in degrees (initial value)")
    sub.add_argument("--to", type=float, nargs=2, default=None, metavar=("X", "Y"),
                     help="the target (m): distance downrange and height above the ground (boundary value)")
    sub.add_argument("--time", type=float, default=None, help="the horizon T in s (required with --to)")
    _physics_options(sub)
    sub.add_argument("--points", type=int, default=200, help="equally spaced times written (default 200)")
    sub.add_argument("--epochs", type=int, default=2000, help="Adam epochs of a network method (default 2000)")
    sub.add_argument("--polish", type=int, default=2000, help="L-BFGS steps after Adam (default 2000)")
    sub.add_argument("--seed", type=_seed, default=0, help="the network's initialisation seed (default 0)")
    sub.add_argument("--out", default=None, help="CSV or Parquet file to write (columns t,x,y)")
    sub.add_argument("--json", action="store_true",
                     help='print {"method", "launch": {"speed", "angle" (degrees)}, "rel_l2_vs_exact", "seconds"}')
    sub.set_defaults(run=_solve)

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
    sub.add_argument("--tracks", type=int, default=None,
                     help="write this many trajectories instead (columns shot,t,x,y; noise on x and y)")
    sub.add_argument("--points", type=int, default=None,
                     help="with --tracks: points per trajectory, evenly spaced from launch to landing (default 30)")
    _physics_options(sub)
    sub.add_argument("--out", required=True,
                     help="CSV or Parquet file to write (columns speed,angle,distance[,height], or shot,t,x,y)")
    sub.set_defaults(run=_simulate)

    sub = commands.add_parser(
        "learn-drag", help="learn the drag law from trajectories (shot,t,x,y or ball,drop,t,height)",
        description="Learn the drag on a body from measured or simulated trajectories: print the law, its parameters "
        "± standard errors and the error on the held-out part (t > --train-until); write result.json, the models "
        "and figures in --out. Methods: fit (the --law, Levenberg-Marquardt through the ODE), ude (a network drag "
        "in Newton's law, read back as a law), neural-ode (the whole field a network), auto (the law, and g fitted "
        "or not, chosen by nested F-tests on t <= --train-until), pinn. What --law, --known-g or "
        "--fit-g leave open is chosen, and the output says by which rule.",
    )
    sub.add_argument("data", help="CSV or Parquet file: shot,t,x,y (2-D shots) or ball,drop,t,height[,velocity]")
    sub.add_argument("--mass", type=float, required=True, help="the body's mass in kg")
    sub.add_argument("--diameter", type=float, default=None, help="its diameter in m (adds the drag coefficient C_d)")
    sub.add_argument("--method", choices=("fit", "ude", "neural-ode", "auto", "pinn"), default="auto",
                     help="default auto")
    sub.add_argument("--law", choices=("none", "linear", "quadratic", "linear+quadratic"), default=None,
                     help="the law of --method fit, auto or pinn (default: chosen as auto chooses it)")
    sub.add_argument("--train-until", type=float, default=None,
                     help="fit on t <= this time in s, report the error after it (default: fit on all)")
    sub.add_argument("--g", type=float, default=9.80665, help="gravity in m/s² (default 9.80665; the start of a fit)")
    known = sub.add_mutually_exclusive_group()
    known.add_argument("--known-g", action="store_true", help="keep g at --g")
    known.add_argument("--fit-g", action="store_true",
                       help="fit g with the drag (default: neither; auto's rule chooses, and for ude a fitted g is kept "
                       "where it lies 2 standard errors or more from --g)")
    sub.add_argument("--epochs", type=int, default=1500, help="training epochs of ude and neural-ode (default 1500)")
    sub.add_argument("--seed", type=_seed, default=0, help="random seed of the networks (default 0)")
    sub.add_argument("--out", required=True, help="directory to create for the results")
    sub.add_argument("--json", action="store_true", help="print the result as JSON")
    sub.set_defaults(run=_learn_drag)

    sub = commands.add_parser(
        "drops", help="the real-drop benchmark beside its published results",
        description="Fit drop 1 of each shipped ball (de Silva et al. 2020) on t <= --train-until, predict the "
        "height after it, and print the mean squared error (m²) per ball and method beside the Symbolic Physics "
        "Learner's and a cubic polynomial's, with each ball's fitted g and drag ± standard errors.",
    )
    sub.add_argument("--methods", default="fit,auto", help="comma-separated methods (default fit,auto; also ude)")
    sub.add_argument("--train-until", type=float, default=2.0, help="the split time in s (default 2, as published)")
    sub.add_argument("--epochs", type=int, default=1500, help="training epochs of ude (default 1500)")
    sub.add_argument("--json", action="store_true", help="print the rows as JSON")
    sub.set_defaults(run=_drops)

    sub = commands.add_parser(
        "run", help="fit every rung of a scenario, evaluate, write a report",
        description="Fit every model of the ladder on one scenario's data, evaluate in the training region and "
        "outside it, print a table and write metrics.json, models/, predictions.csv, figures/ and report.html.",
    )
    sub.add_argument("--scenario", default="shotput",
                     help="cannon, shotput (default), baseball, cuberoot, equations (the networks that solve the equations "
                     "beside the exact solver), wind (neural operators from a wind to a trajectory) or gust (recovering a "
                     "wind from a track: regularised inverse problems)")
    sub.add_argument("--models", default=None, help="comma-separated model names (default: all of the scenario's)")
    sub.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    sub.add_argument("--out", default=None, help="run directory to create (default runs/<scenario>-<time>)")
    sub.add_argument("--quick", action="store_true", help="smaller data and shorter training (under a minute)")
    sub.add_argument("--quiet", action="store_true", help="no progress bar or status lines")
    sub.set_defaults(run=_run)

    sub = commands.add_parser(
        "sweep", help="one run per seed as Ray tasks; the spread of every metric across seeds",
        description="Run a ladder scenario for --seeds seeds as Ray tasks (a local Ray on this machine's cores, or "
        "the cluster at --address), one CPU and one thread each; write one run directory per seed (seed-<s>/), "
        "summary.json (every metric's mean, std, min and max over the seeds; failed seeds with their errors) and "
        "report.html. Needs Ray: pip install 'hybridlab[sweep]'.",
    )
    sub.add_argument("--scenario", default="shotput", help="cannon, shotput (default), baseball or cuberoot")
    sub.add_argument("--seeds", type=int, required=True, help="how many seeds")
    sub.add_argument("--first-seed", type=_seed, default=0, help="the first seed (default 0)")
    sub.add_argument("--models", default=None, help="comma-separated model names (default: all of the scenario's)")
    sub.add_argument("--quick", action="store_true", help="each run's smaller data and shorter training")
    sub.add_argument("--address", default=None, help="an existing Ray cluster's address, as ray.init takes it "
                     "(e.g. 127.0.0.1:6379 or auto; default: start a local Ray)")
    sub.add_argument("--out", required=True, help="sweep directory to create")
    sub.add_argument("--quiet", action="store_true", help="no line per finished seed")
    sub.set_defaults(run=_sweep)

    sub = commands.add_parser(
        "fit", help="fit one model to your shots (CSV/Parquet: speed,angle,distance)",
        description="Fit one rung to measured shots (columns speed in m/s, angle in degrees, distance in m), "
        "save it in --out and print its summary. " + LAUNCH_HELP,
    )
    sub.add_argument("shots", help="CSV or Parquet file of shots")
    sub.add_argument("--model", required=True, help="nearest, linear, mlp, basis, physics, hybrid or ude")
    sub.add_argument("--unknown", default=None, help="physics: comma-separated parameters to fit, of the drag law's "
                     "coefficients, g, mass, height (default: the drag law's coefficients); the given values are the "
                     "starting guesses")
    sub.add_argument("--keep-unconverged", action="store_true",
                     help="save a fit whose optimiser did not converge (by default it is an error and nothing is saved)")
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
    """Run one command; returns the exit status: 0, 2 for any error the user can cause (one
    line on stderr), 128 + the signal's number for SIGINT (130) or SIGTERM (143)."""
    args = None
    with stopping.catching():
        try:
            args = build_parser().parse_args(argv)
            with stopping.holding():  # a signal now is raised once jaxlib is in (its import can crash on one)
                import jax  # noqa: F401
            args.run(args)
        except Exception as error:
            if stopping.taken() is not None:  # a stop raised inside a library's callback comes back as its error
                print(stopping.message(stopping.taken()), file=sys.stderr)
                return 128 + stopping.taken()
            if not isinstance(error, _user_errors()):
                raise
            print(f"hybridlab: error: {_one_line(error, args)}", file=sys.stderr)
            return 2
        except stopping.Stopped as stop:
            print(stopping.message(stop.number), file=sys.stderr)
            return 128 + stop.number
    return 0


def _user_errors() -> tuple[type[Exception], ...]:
    """The errors a user can cause: a usage error, a ValueError naming a parameter, an OSError,
    and a check that fired inside a compiled solve (JAX's and Equinox's runtime errors, a bad
    value met mid-fit; looked up only once JAX is imported, which --help does not need)."""
    errors: tuple[type[Exception], ...] = (UsageError, ValueError, OSError)
    if "jax" in sys.modules:
        from equinox import EquinoxRuntimeError
        from jax.errors import JaxRuntimeError

        errors += (EquinoxRuntimeError, JaxRuntimeError)
    return errors


def _one_line(error: Exception, args) -> str:
    """The error's cause in one line, the library's parameter names written as the flags."""
    if isinstance(error, UsageError):
        return str(error)
    from hybridlab.physics.validation import runtime_cause

    message = runtime_cause(error)
    return message if args is None else _flagged(message, set(vars(args)))


if __name__ == "__main__":
    from hybridlab.__main__ import main as command

    command()
