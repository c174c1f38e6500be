"""`hybridlab simulate`: a noisy shots dataset as CSV."""

from __future__ import annotations


from hybridlab.cli.options import LAUNCH_HELP, UsageError, check_angles, parse_seed, physics_options, spec_of


def register(commands) -> None:
    """The `simulate` command's parser."""
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
    sub.add_argument("--seed", type=parse_seed, default=0, help="random seed (default 0)")
    sub.add_argument("--tracks", type=int, default=None,
                     help="write this many trajectories instead (columns shot,t,x,y; noise on x and y)")
    sub.add_argument("--points", type=int, default=None,
                     help="with --tracks: points per trajectory, evenly spaced from launch to landing (default 30)")
    physics_options(sub)
    sub.add_argument("--out", required=True,
                     help="CSV or Parquet file to write (columns speed,angle,distance[,height], or shot,t,x,y)")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.jobs import write_simulated, write_simulated_tracks

    check_angles(args, *args.angle)
    if args.points is not None and args.tracks is None:
        raise UsageError("--points: give --tracks too (it sets the points per trajectory)")
    if args.tracks is not None:
        if args.relative:
            raise UsageError("--relative: applies to distances, not to trajectories (--tracks)")
        write_simulated_tracks(spec_of(args), args.tracks, points=30 if args.points is None else args.points,
                               speed=args.speed, angle=args.angle, noise=args.noise, seed=args.seed, out=args.out)
        return
    write_simulated(spec_of(args), args.n, speed=args.speed, angle=args.angle, noise=args.noise, seed=args.seed,
                    relative=args.relative, out=args.out)
