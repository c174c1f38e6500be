"""`hybridlab recover-wind`: recover a horizontal wind w(t) from one tracked shot (regularised)."""

from __future__ import annotations


from hybridlab.cli.options import UsageError, check_angles, gravity_option, parse_seed


def register(commands) -> None:
    """The `recover-wind` command's parser."""
    sub = commands.add_parser(
        "recover-wind", help="recover a horizontal wind w(t) from one tracked shot (regularised)",
        description="Recover the wind w(t) from a track t,x,y (linear drag; a wind column, if present, is the "
        "truth to compare with) by least squares, Tikhonov (first difference or identity), total variation and "
        "a learned regulariser; the launch is fitted unless given. Writes wind.csv, lcurve.csv (the regularised "
        "methods' L-curves), result.json and figures/.")
    sub.add_argument("track", help="CSV or Parquet file of one track: t (s), x, y (m)[, wind (m/s)]")
    sub.add_argument("--mass", type=float, required=True, help="mass in kg")
    sub.add_argument("--k", type=float, required=True, help="linear drag coefficient in kg/s")
    gravity_option(sub)
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
    sub.add_argument("--seed", type=parse_seed, default=0, help="seed of the learned regulariser's training (default 0)")
    sub.add_argument("--out", required=True, help="directory to create for the results")
    sub.add_argument("--json", action="store_true", help="print the result as JSON (angles in degrees)")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.gust import METHODS, recover_wind_file
    from hybridlab.files import to_json

    if (args.speed is None) != (args.angle is None):
        raise UsageError("--speed and --angle: give both (a known launch) or neither (it is fitted)")
    launch = None
    if args.speed is not None:
        check_angles(args, args.angle)
        launch = (args.speed, args.angle)
    methods = METHODS if args.method == "all" else (args.method,)
    result = recover_wind_file(args.track, args.mass, args.k, args.out, methods=methods, launch=launch,
                               noise=args.noise, samples=args.samples, g=args.g, height=args.height, rule=args.rule,
                               seed=args.seed)
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
