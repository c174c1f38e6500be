"""`hybridlab aim`: how to launch to hit a target."""

from __future__ import annotations

import math

from hybridlab.cli.options import LAUNCH_HELP, UsageError, physics_options, spec_of


def register(commands) -> None:
    """The `aim` command's parser."""
    sub = commands.add_parser(
        "aim", help="how to launch to hit a target",
        description="The launches that pass through a target --distance m downrange and --target-height m above the "
        "launch point: at a given --speed (the low and the high arc), at a given --angle (the speed), or the "
        "least-speed shot. An unreachable target is an answer (exit 0), with the closest approach. " + LAUNCH_HELP,
    )
    sub.add_argument("--distance", type=float, required=True, help="the target's distance downrange in m")
    sub.add_argument("--target-height", type=float, default=0.0,
                     help="the target's height above the launch point in m (default 0; negative: below it)")
    sub.add_argument("--speed", type=float, default=None, help="launch speed in m/s: find the angles")
    sub.add_argument("--angle", type=float, default=None, help="launch angle in degrees: find the speed")
    physics_options(sub)
    sub.add_argument("--json", action="store_true", help="print the answer as JSON (angles in degrees)")
    sub.add_argument("--curve", default=None, help="CSV or Parquet file for the solution curve (angle, speed)")
    sub.add_argument("--plot", default=None, help="PNG file: the trajectories of every solution to the target")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.jobs import aim_summary, write_aim_files
    from hybridlab.files import check_output_file, to_json

    if args.speed is not None and args.angle is not None:
        raise UsageError("--speed and --angle: give one of them (or neither), not both")
    if args.angle is not None:
        lowest = -90.0 if args.height > 0 else 0.0
        if not (math.isfinite(args.angle) and lowest <= args.angle < 90.0 and (lowest == 0 or args.angle > lowest)):
            where = "in (-90, 90) degrees from a height (--height > 0)" if lowest else \
                "in [0, 90) degrees from the ground (--height 0)"
            raise UsageError(f"--angle {args.angle:g}: must be {where}")
    for path, name in ((args.curve, "curve"), (args.plot, "plot")):
        if path is not None:
            check_output_file(path, f"--{name}")  # before any answer is computed ('' is no file)
    summary = aim_summary(spec_of(args), args.distance, target_height=args.target_height, speed=args.speed, angle=args.angle)
    write_aim_files(spec_of(args), summary, curve=args.curve, plot=args.plot, speed=args.speed)
    if args.json:
        print(to_json(summary))
        return
    target, least, closest = summary["target"], summary["min_speed"], summary["closest"]
    print(f"target: {target['distance']:g} m downrange, {target['height']:g} m above the launch point")
    for shot in summary["solutions"]:
        time = f", flight time {shot['flight_time']:.6g} s" if shot["flight_time"] is not None else ""
        print(f"{shot['arc']:<9} {shot['speed']:.6g} m/s at {shot['angle']:.6g}°{time}")
    searched = f"any speed up to {least['searched_up_to']:.6g} m/s"
    if closest is not None and closest["height"] < target["height"]:
        print(f"unreachable: at this speed the highest the shot gets is {closest['height']:.6g} m above the launch "
              "point, straight up")
    elif closest is not None:
        print(f"unreachable: at this speed the farthest at the target's height is {closest['distance']:.6g} m, "
              f"at {closest['angle']:.6g}°")
    elif not summary["reachable"]:
        print(f"unreachable {'at this angle ' if args.angle is not None else ''}at {searched}")
    print(f"least speed: {least['speed']:.6g} m/s at {least['angle']:.6g}°" if math.isfinite(least["speed"])
          else f"least speed: none up to {least['searched_up_to']:.6g} m/s")
