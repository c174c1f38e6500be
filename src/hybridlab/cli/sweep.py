"""`hybridlab sweep`: one run per seed as Ray tasks; the spread of every metric across seeds."""

from __future__ import annotations

from hybridlab.cli.options import parse_seed


def register(commands) -> None:
    """The `sweep` command's parser."""
    sub = commands.add_parser(
        "sweep", help="one run per seed as Ray tasks; the spread of every metric across seeds",
        description="Run a ladder scenario for --seeds seeds as Ray tasks (a local Ray on this machine's cores, or "
        "the cluster at --address), one CPU and one thread each; write one run directory per seed (seed-<s>/), "
        "summary.json (every metric's mean, std, min and max over the seeds; failed seeds with their errors) and "
        "report.html. Needs Ray: pip install 'hybridlab[sweep]'.",
    )
    sub.add_argument("--scenario", default="shotput", help="cannon, shotput (default), baseball or cuberoot")
    sub.add_argument("--seeds", type=int, required=True, help="how many seeds")
    sub.add_argument("--first-seed", type=parse_seed, default=0, help="the first seed (default 0)")
    sub.add_argument("--models", default=None, help="comma-separated model names (default: all of the scenario's)")
    sub.add_argument("--quick", action="store_true", help="each run's smaller data and shorter training")
    sub.add_argument("--address", default=None, help="an existing Ray cluster's address, as ray.init takes it "
                     "(e.g. 127.0.0.1:6379 or auto; default: start a local Ray)")
    sub.add_argument("--out", required=True, help="sweep directory to create")
    sub.add_argument("--quiet", action="store_true", help="no line per finished seed")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.sweep import sweep

    models = None if args.models is None else [name.strip() for name in args.models.split(",") if name.strip()]
    summary = sweep(args.scenario, args.seeds, args.out, first_seed=args.first_seed, quick=args.quick, models=models,
                    address=args.address, echo=(lambda line: None) if args.quiet else print)
    print(f"sweep of {summary['scenario']}: {len(summary['seeds'])} seeds finished, {len(summary['failed'])} failed")
    for name, metrics in summary["models"].items():
        cells = [f"{key} {metrics[key]['mean']:.4g} ± {metrics[key]['std']:.2g}"
                 for key in ("rmse_interp", "rmse_extrap") if key in metrics]
        print(f"  {name:<14}" + "; ".join(cells))
    print(f"written: {args.out}/summary.json, {args.out}/report.html")
