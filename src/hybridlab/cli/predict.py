"""`hybridlab predict`: predict distances for shots with a saved model."""

from __future__ import annotations


def register(commands) -> None:
    """The `predict` command's parser."""
    sub = commands.add_parser(
        "predict", help="predict distances for shots with a saved model",
        description="Write the input shots with a 'predicted' column (m).",
    )
    sub.add_argument("model_dir", help="directory written by 'hybridlab fit' or a run's models/<name>")
    sub.add_argument("shots", help="CSV or Parquet file with columns speed (m/s), angle (degrees)")
    sub.add_argument("--out", required=True, help="CSV or Parquet file to write")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.experiments.jobs import predict_file

    predict_file(args.model_dir, args.shots, args.out)
