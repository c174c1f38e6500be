"""`hybridlab run`: fit every rung of a scenario, evaluate, write a report."""

from __future__ import annotations

from hybridlab.cli.options import UsageError, parse_seed


def register(commands) -> None:
    """The `run` command's parser."""
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
    sub.add_argument("--seed", type=parse_seed, default=0, help="random seed (default 0)")
    sub.add_argument("--out", default=None, help="run directory to create (default runs/<scenario>-<time>)")
    sub.add_argument("--quick", action="store_true", help="smaller data and shorter training (under a minute)")
    sub.add_argument("--quiet", action="store_true", help="no progress bar or status lines")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.jobs import progress_meter
    from hybridlab.experiments.runner import run as run_ladder
    from hybridlab.experiments.runner import table
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
    metrics = run_ladder(args.scenario, args.seed, args.out, args.quick, models, progress=progress_meter(args.quiet),
                         echo=echo)
    print(f"scenario {metrics['scenario']} (seed {metrics['seed']}{', quick' if args.quick else ''}): "
          f"{metrics['truth']}")
    print(table(metrics))
    print(f"written: {metrics['directory']}/report.html")
