"""`hybridlab learn-drag`: learn the drag law from trajectories (shot,t,x,y or ball,drop,t,height)."""

from __future__ import annotations

from hybridlab.cli.options import fitted_laws, gravity_option, parse_seed


def register(commands) -> None:
    """The `learn-drag` command's parser."""
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
    sub.add_argument("--law", choices=fitted_laws(), default=None,
                     help="the law of --method fit, auto or pinn (default: chosen as auto chooses it)")
    sub.add_argument("--train-until", type=float, default=None,
                     help="fit on t <= this time in s, report the error after it (default: fit on all)")
    gravity_option(sub, standard=True, note="; the start of a fit")
    known = sub.add_mutually_exclusive_group()
    known.add_argument("--known-g", action="store_true", help="keep g at --g")
    known.add_argument("--fit-g", action="store_true",
                       help="fit g with the drag (default: neither; auto's rule chooses, and for ude a fitted g is kept "
                       "where it lies 2 standard errors or more from --g)")
    sub.add_argument("--epochs", type=int, default=1500, help="training epochs of ude and neural-ode (default 1500)")
    sub.add_argument("--seed", type=parse_seed, default=0, help="random seed of the networks (default 0)")
    sub.add_argument("--out", required=True, help="directory to create for the results")
    sub.add_argument("--json", action="store_true", help="print the result as JSON")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.learning import learn_drag_file
    from hybridlab.files import to_json

    fit_g = True if args.fit_g else False if args.known_g else None
    result = learn_drag_file(args.data, args.mass, args.out, diameter=args.diameter, method=args.method,
                             train_until=args.train_until, law=args.law, fit_g=fit_g, g=args.g, epochs=args.epochs,
                             seed=args.seed)
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
