"""`hybridlab info`: the device and precision hybridlab computes with, and its cache."""

from __future__ import annotations


def register(commands) -> None:
    """The `info` command's parser."""
    sub = commands.add_parser("info", help="the device and precision hybridlab computes with, and its cache",
                              description="Print hybridlab's and JAX's versions, the device every command runs on "
                              "(the first JAX finds: a GPU where JAX for CUDA is installed, pip install "
                              "'hybridlab[cuda]'), all devices, the precision, the CPU count, and where compiled "
                              "programs are kept between runs and how much they take (HYBRIDLAB_CACHE=DIR moves "
                              "them, HYBRIDLAB_CACHE=off keeps none).")
    sub.add_argument("--json", action="store_true", help="print it as JSON")
    sub.set_defaults(run=run)


def run(args) -> None:
    from hybridlab.compilation import ENVIRONMENT, usage
    from hybridlab.experiments.jobs import platform
    from hybridlab.files import to_json

    facts = {**platform(), "cache": usage()}
    if args.json:
        print(to_json(facts))
        return
    print(f"hybridlab {facts['hybridlab']}, JAX {facts['jax']}")
    print(f"device: {facts['device']} (backend {facts['backend']}; all: {', '.join(facts['devices'])})")
    print(f"precision: {facts['precision']}; CPUs: {facts['cpus']}")
    cache = facts["cache"]
    print(f"compiled programs: {cache['directory']}, {cache['entries']} kept, {cache['bytes'] / 1e6:.1f} MB"
          if cache["directory"] else f"compiled programs: not kept between processes ({ENVIRONMENT}=off)")
