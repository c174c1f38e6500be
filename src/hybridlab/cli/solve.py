"""`hybridlab solve`: one shot solved exactly, by a PINN or by the Deep Ritz method."""

from __future__ import annotations


from hybridlab.cli.options import LAUNCH_HELP, UsageError, check_angles, parse_seed, physics_options, spec_of


def register(commands) -> None:
    """The `solve` command's parser."""
    sub = commands.add_parser(
        "solve", help="one shot solved exactly, by a PINN or by the Deep Ritz method",
        description="Solve the initial-value shot (--speed, --angle, on [0, --time], default the flight time) or "
                    "the boundary-value one (--to X Y: at (X, Y) m after --time s) by --method, beside the exact "
                    "trajectory; write t (s), x (m), y (m). " + LAUNCH_HELP,
    )
    sub.add_argument("--method", choices=("exact", "pinn", "ritz"), default="exact",
                     help="exact (the physics), pinn (physics-informed network) or ritz (Deep Ritz: boundary value, "
                          "linear drag or none)")
    sub.add_argument("--speed", type=float, default=None, help="launch speed in m/s (initial value)")
    sub.add_argument("--angle", type=float, default=None, help="launch angle in degrees (initial value)")
    sub.add_argument("--to", type=float, nargs=2, default=None, metavar=("X", "Y"),
                     help="the target (m): distance downrange and height above the ground (boundary value)")
    sub.add_argument("--time", type=float, default=None, help="the horizon T in s (required with --to)")
    physics_options(sub)
    sub.add_argument("--points", type=int, default=200, help="equally spaced times written (default 200)")
    sub.add_argument("--epochs", type=int, default=2000, help="Adam epochs of a network method (default 2000)")
    sub.add_argument("--polish", type=int, default=2000, help="L-BFGS steps after Adam (default 2000)")
    sub.add_argument("--seed", type=parse_seed, default=0, help="the network's initialisation seed (default 0)")
    sub.add_argument("--out", default=None, help="CSV or Parquet file to write (columns t,x,y)")
    sub.add_argument("--json", action="store_true",
                     help='print {"method", "launch": {"speed", "angle" (degrees)}, "rel_l2_vs_exact", "seconds"}')
    sub.set_defaults(run=run)


def run(args) -> None:
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
        check_angles(args, args.angle)
    result = solve_shot(spec_of(args), args.method, speed=args.speed, angle=args.angle, to=args.to, horizon=args.time,
                        points=args.points, out=args.out, epochs=args.epochs, polish=args.polish, seed=args.seed)
    if args.json:
        print(to_json(result))
        return
    launch = result["launch"]
    print(f"{result['method']}: launch {launch['speed']:.8g} m/s at {launch['angle']:.8g}°; relative L2 error "
          f"against the exact trajectory {result['rel_l2_vs_exact']:.3g}; {result['seconds']:.2f} s")
