"""`hybridlab fit`: fit one model to your shots (CSV/Parquet: speed,angle,distance)."""

from __future__ import annotations

from hybridlab.cli.options import LAUNCH_HELP, parse_seed, physics_of, physics_options


def register(commands) -> None:
    """The `fit` command's parser."""
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
    sub.add_argument("--seed", type=parse_seed, default=0, help="random seed (default 0)")
    sub.add_argument("--out", required=True, help="directory to save the model in (must not exist)")
    sub.add_argument("--json", action="store_true", help="print the summary as JSON")
    physics_options(sub)
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.jobs import build_model, fit_file
    from hybridlab.files import to_json

    unknown = None if args.unknown is None else [name.strip() for name in args.unknown.split(",") if name.strip()]
    model = build_model(args.model, physics_of(args), unknown=unknown, seed=args.seed)
    summary, n = fit_file(args.shots, model, args.out, height=args.height, keep_unconverged=args.keep_unconverged)
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
