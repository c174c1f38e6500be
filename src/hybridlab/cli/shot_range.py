"""`hybridlab range`: range of one shot."""

from __future__ import annotations


from hybridlab.cli.options import LAUNCH_HELP, check_angles, launch_options, physics_options, spec_of


def register(commands) -> None:
    """The `range` command's parser."""
    sub = commands.add_parser("range", help="range of one shot", description="Range of one shot in m. " + LAUNCH_HELP)
    launch_options(sub)
    physics_options(sub)
    sub.add_argument(
        "--json", action="store_true",
        help="print range (m), flight_time (s), apex x, y (m), impact speed (m/s) and angle (degrees below the horizontal)",
    )
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.jobs import shot_range, shot_summary
    from hybridlab.files import to_json

    check_angles(args, args.angle)
    if not args.json:
        print(f"{shot_range(spec_of(args), args.speed, args.angle):.15g}")
        return
    print(to_json(shot_summary(spec_of(args), args.speed, args.angle)))
