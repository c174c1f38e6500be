"""`hybridlab drops`: the real-drop benchmark beside its published results."""

from __future__ import annotations


def register(commands) -> None:
    """The `drops` command's parser."""
    sub = commands.add_parser(
        "drops", help="the real-drop benchmark beside its published results",
        description="Fit drop 1 of each shipped ball (de Silva et al. 2020) on t <= --train-until, predict the "
        "height after it, and print the mean squared error (m²) per ball and method beside the Symbolic Physics "
        "Learner's and a cubic polynomial's, with each ball's fitted g and drag ± standard errors.",
    )
    sub.add_argument("--methods", default="fit,auto", help="comma-separated methods (default fit,auto; also ude, neural-ode, and the data-only forecasters esn, lstm)")
    sub.add_argument("--train-until", type=float, default=2.0, help="the split time in s (default 2, as published)")
    sub.add_argument("--epochs", type=int, default=1500, help="training epochs of ude (default 1500)")
    sub.add_argument("--json", action="store_true", help="print the rows as JSON")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.learning import drops_benchmark, drops_table
    from hybridlab.files import to_json

    methods = [name.strip() for name in args.methods.split(",") if name.strip()]
    rows = drops_benchmark(methods, args.train_until, args.epochs)
    print(to_json(rows) if args.json else drops_table(rows, methods, args.train_until))
