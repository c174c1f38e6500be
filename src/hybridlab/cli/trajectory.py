"""`hybridlab trajectory`: trajectory of one shot as CSV."""

from __future__ import annotations


from hybridlab.cli.options import (LAUNCH_HELP, UsageError, check_angles, launch_options, parse_seed,
                                   physics_options, spec_of)


def register(commands) -> None:
    """The `trajectory` command's parser."""
    sub = commands.add_parser(
        "trajectory", help="trajectory of one shot as CSV",
        description="Write t (s), x (m), y (m) from launch to landing. " + LAUNCH_HELP,
    )
    launch_options(sub)
    physics_options(sub)
    sub.add_argument("--points", type=int, default=200, help="number of equally spaced times (default 200)")
    sub.add_argument("--wind", default=None, help="horizontal wind in m/s (+x: tailwind): W, or W1,W2,... equally "
                     "spaced over [0, --wind-until], linear between (adds a column wind)")
    sub.add_argument("--wind-until", type=float, default=None, help="the time (s) of the last wind sample")
    sub.add_argument("--noise", type=float, default=0.0, help="noise standard deviation on x and y in m (default 0)")
    sub.add_argument("--seed", type=parse_seed, default=0, help="random seed of the noise (default 0)")
    sub.add_argument("--out", required=True, help="CSV file to write (columns t,x,y[,wind])")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.jobs import write_trajectory

    check_angles(args, args.angle)
    spec = spec_of(args)
    if args.wind is not None:
        spec["wind"] = _wind(args.wind, args.wind_until)
    elif args.wind_until is not None:
        raise UsageError("--wind-until: give --wind too (it sets when the last wind sample is taken)")
    write_trajectory(spec, args.speed, args.angle, points=args.points, out=args.out, noise=args.noise,
                     seed=args.seed)


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
