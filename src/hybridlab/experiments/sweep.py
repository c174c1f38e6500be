"""``hybridlab sweep``: one ``hybridlab run`` per seed, as Ray tasks — on a local Ray that uses
this machine's cores, or on an existing Ray cluster — and their spread across seeds.

Each task is :func:`hybridlab.experiments.runner.run` itself, with one CPU and its numerical
libraries pinned to one thread (XLA's, OpenMP's, BLAS's), so that tasks side by side do not
oversubscribe the cores. Each writes an ordinary run directory ``<out>/seed-<s>`` (whole or not
at all); when all have finished, ``summary.json`` holds every numeric metric's mean, standard
deviation (n − 1), minimum and maximum over the seeds that succeeded, the failures by seed, and
``report.html`` draws them. Interrupted, the finished runs stay complete and nothing else is
written.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import signal
import socket
import tempfile
import threading
import warnings

import numpy as np

from hybridlab import stopping
from hybridlab.experiments.runner import run, select
from hybridlab.experiments.scenarios import LADDERS
from hybridlab.files import check_new_directory, write_json

#: The one command that installs what ``sweep`` needs.
INSTALL = "pip install 'hybridlab[sweep]'"
#: At most this many seeds in one sweep (each is a whole run).
MAX_SEEDS = 10_000
#: Seconds within which a cluster named by ``--address`` must accept a connection.
_CONNECT = 5.0
#: Every task's environment: one thread for each numerical library, as each task has one CPU.
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"}


def import_ray():
    """The ``ray`` module; ValueError with the command that installs it where it is missing."""
    try:
        import ray
    except ImportError:
        raise ValueError(f"sweep runs on Ray, which is not installed; install it with: {INSTALL}") from None
    return ray


def sweep(scenario: str, seeds: int, out: str, *, first_seed: int = 0, quick: bool = False, models=None,
          address: str | None = None, echo=print) -> dict:
    """Run ``scenario`` for seeds ``first_seed`` … ``first_seed + seeds − 1`` as Ray tasks
    (``address``: an existing cluster's, as ``ray.init`` takes it; None: a local Ray on this
    machine's cores) into ``out``; returns the summary. ``echo`` gets a line per finished seed."""
    _check(scenario, seeds, first_seed, quick, models)
    check_new_directory(out, "out", parent=False)
    ray = import_ray()
    if address:
        _check_address(address)
    out = os.path.abspath(out)
    with _ray(ray, address):
        os.makedirs(out)
        try:
            task = ray.remote(num_cpus=1, max_retries=0)(run)
            pending = {task.remote(scenario, seed, os.path.join(out, f"seed-{seed}"), quick, models,
                                   echo=_silent, apart=False): seed for seed in range(first_seed, first_seed + seeds)}
            results, failed = _gather(ray, pending, echo)
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(out)  # where no run finished: the same --out may be given again
            raise
    summary = summarise(scenario, quick, results, failed)
    write_json(os.path.join(out, "summary.json"), summary)
    from hybridlab.report.sweep import build_sweep_report

    build_sweep_report(out)
    if not results:
        first = failed[0]
        raise ValueError(f"every seed failed (see {os.path.join(out, 'summary.json')}); seed {first['seed']}: "
                         f"{first['error']}")
    return summary


@contextlib.contextmanager
def _ray(ray, address: str | None):
    """``with _ray(ray, address):`` Ray is running: a new local Ray of this process's own
    (``address`` None; never a cluster that ``ray start`` left running here), quiet and in a
    temporary directory removed afterwards, or the user's cluster at ``address``. Shut down on
    the way out, also when a signal interrupts ``ray.init`` (which puts its own SIGTERM handler,
    a ``sys.exit``, in place of the caller's while it runs)."""
    handler = signal.getsignal(signal.SIGTERM)
    local = None if address else tempfile.mkdtemp(prefix="hybridlab-ray-", dir=_short_temporary())
    try:
        with warnings.catch_warnings(), _quiet("ray" if local else None):
            # JAX warns at every fork; Ray's are fork-then-exec of its own processes, which is safe.
            warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
            ray.init(address=address or "local", include_dashboard=False, log_to_driver=False,
                     configure_logging=False, runtime_env={"env_vars": ONE_THREAD},
                     **({"_temp_dir": local} if local else {}))
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handler)
        yield
    except SystemExit as exit:
        if exit.code != signal.SIGTERM:
            raise
        raise stopping.Stopped(signal.SIGTERM) from None  # Ray's handler took it during ray.init
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handler)
        ray.shutdown()
        if local:
            shutil.rmtree(local, ignore_errors=True)


def _short_temporary() -> str:
    """The temporary directory, or /tmp where its name is too long for Ray's sockets (a Unix
    socket's path has at most 107 bytes, and Ray's add some 70 to it)."""
    base = tempfile.gettempdir()
    return base if len(base) <= 24 or not os.path.isdir("/tmp") else "/tmp"


@contextlib.contextmanager
def _quiet(name: str | None):
    """Within: the logger ``name`` (None: none) shows errors only (a local Ray announces its
    token authentication at every start)."""
    logger = logging.getLogger(name) if name else None
    level = logger.level if logger else None
    if logger:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        if logger:
            logger.setLevel(level)


def _check_address(address: str) -> None:
    """ValueError unless the cluster at ``address`` (``host:port`` or ``ray://host:port``)
    accepts a connection within a few seconds; Ray itself retries for minutes. ``auto`` (a
    cluster started on this machine) is left to Ray."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"address = {address!r}: must be host:port (e.g. 127.0.0.1:6379), ray://host:port or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=_CONNECT).close()
    except OSError as error:
        reason = "no answer" if isinstance(error, TimeoutError) else (error.strerror or str(error))
        raise ValueError(f"address = {address}: no Ray cluster there ({reason})") from None


def _silent(line: str) -> None:
    del line


def _check(scenario, seeds, first_seed, quick, models) -> None:
    """ValueError naming the first bad option, before anything starts."""
    if scenario not in LADDERS:
        raise ValueError(f"scenario = {scenario!r}: a sweep runs a ladder scenario, one of {', '.join(LADDERS)}")
    for name, value, low in (("seeds", seeds, 1), ("first_seed", first_seed, 0)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"{name} = {value!r}: must be an integer >= {low}")
    if seeds > MAX_SEEDS:
        raise ValueError(f"seeds = {seeds}: at most {MAX_SEEDS} in one sweep (each seed is a whole run)")
    if first_seed + seeds - 1 >= 2**63:
        raise ValueError(f"first_seed = {first_seed}: with {seeds} seeds the last, {first_seed + seeds - 1}, is not "
                         f"below 2**63")
    select(LADDERS[scenario].ladder(quick, first_seed), models)  # names every unknown model


#: Seconds between two looks at the tasks: a signal is handled at the latest after one.
_POLL = 0.5
#: Seconds that cancelled tasks get to remove their unfinished run directories.
_CLEANUP = 60


def _gather(ray, pending: dict, echo) -> tuple[dict[int, dict], list[dict]]:
    """({seed: metrics}, [{"seed", "error"}]) as the tasks finish; on an interrupt (a signal,
    which a short wait lets Python handle) the unfinished tasks are cancelled, each removes its
    partial run directory, and it re-raises."""
    results, failed = {}, []
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL)
            if not ready:
                continue
            done = ready[0]
            seed = pending.pop(done)
            try:
                results[seed] = ray.get(done)
                echo(f"  seed {seed}: done ({len(results) + len(failed)} of {len(results) + len(failed) + len(pending)})")
            except ray.exceptions.RayError as error:
                failed.append({"seed": seed, "error": _message(error)})
                echo(f"  seed {seed}: failed: {failed[-1]['error']}")
    except BaseException as error:
        for future in pending:
            ray.cancel(future)  # a KeyboardInterrupt inside the task: its run directory is removed
        if pending:
            ray.wait(list(pending), num_returns=len(pending), timeout=_CLEANUP)
        # A signal handler's exception raised while Ray waits comes out as a SystemError that
        # holds it: the caller gets the handler's own exception.
        if isinstance(error, SystemError) and isinstance(error.__cause__, BaseException):
            raise error.__cause__ from None
        raise
    return dict(sorted(results.items())), sorted(failed, key=lambda f: f["seed"])


def _message(error) -> str:
    """The task's own exception in one line (Ray wraps it with a traceback; a check that failed
    inside compiled code is reduced to its cause, as the command line does)."""
    from hybridlab.physics.validation import runtime_cause

    cause = getattr(error, "cause", None)
    return f"{type(cause).__name__}: {runtime_cause(cause)}" if cause is not None else runtime_cause(error)


def summarise(scenario: str, quick: bool, results: dict[int, dict], failed: list[dict]) -> dict:
    """summary.json: for every model and every numeric metric of the runs' metrics.json (nested
    ones by dotted names, e.g. ``physics.k.value``), {"mean", "std", "min", "max", "n"} over the
    seeds where it is a finite number (std with n − 1; 0 for one seed)."""
    values: dict[str, dict[str, list[float]]] = {}
    for metrics in results.values():
        for name, model in metrics["models"].items():
            for metric, value in _numbers(model):
                values.setdefault(name, {}).setdefault(metric, []).append(value)
    models = {name: {metric: _stats(v) for metric, v in metrics.items()} for name, metrics in values.items()}
    return {"scenario": scenario, "quick": quick, "seeds": list(results), "failed": failed, "models": models}


def _numbers(entry: dict, prefix: str = ""):
    """(dotted name, value) of every finite number in a nested dict (booleans are not numbers)."""
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _numbers(value, name + ".")
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            yield name, float(value)


def _stats(values: list[float]) -> dict:
    values = np.asarray(values)
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "std": std, "min": float(values.min()), "max": float(values.max()),
            "n": len(values)}
