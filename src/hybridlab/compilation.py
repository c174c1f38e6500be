"""Where the command line keeps JAX's compiled programs between processes.

A command's second run (a new process, the same law and data shapes) reads the XLA programs
its first run compiled from JAX's persistent compilation cache instead of compiling them
again. The ``hybridlab`` process switches it on before JAX is imported, through the environment
variables JAX reads at its import (the library, imported by a user's own program, leaves JAX's
configuration alone):

- ``HYBRIDLAB_CACHE`` unset: ``<user cache directory>/hybridlab/jax-<jax>-<jaxlib>-<hybridlab>``
  (``platformdirs``; on Linux ``~/.cache/hybridlab/…``): a new JAX or hybridlab starts a new
  directory, so no entry written by another version is ever read;
- ``HYBRIDLAB_CACHE=off``: no persistent cache;
- ``HYBRIDLAB_CACHE=<directory>``: that directory.

A ``JAX_COMPILATION_CACHE_DIR`` the user set is theirs and is kept. The cache is bounded
(:data:`MAX_BYTES`, least recently used entries evicted), which also makes JAX take a file lock
around every read and write: processes running at once share it safely. An entry JAX cannot
read (a truncated or foreign file) is a miss: the program is compiled again, with the same
answer (the ``hybridlab`` process silences JAX's warning about it).

JAX does not keep programs that call back into Python (Equinox's runtime checks, Diffrax's
``throw=True``): those are compiled in every process. Beside the cache, in ``exported/``
(``HYBRIDLAB_EXPORTED``), the physics keeps its solves' traced programs
(:mod:`hybridlab.physics.exporting`): a later process reads them instead of tracing.
"""

from __future__ import annotations

import gc
import os
import warnings
from importlib import metadata
from pathlib import Path

#: The environment variable that moves or switches off the cache.
ENVIRONMENT = "HYBRIDLAB_CACHE"
#: The cache's bound in bytes (JAX evicts the least recently used entries beyond it).
MAX_BYTES = 1 << 30
#: Python's cyclic collector's thresholds in a ``hybridlab`` process (CPython's default: 700, 10, 10).
GC_THRESHOLDS = (50_000, 20, 20)
#: Programs that compile faster than this are not kept. Every one is: reading an entry costs
#: about a millisecond, and even the tiny eager programs (a comparison, a cast) compile in 10–50 ms.
MIN_COMPILE_SECONDS = 0.0


def directory(environ=os.environ) -> Path | None:
    """The cache directory ``environ`` asks for (see the module's docstring); None when off."""
    chosen = environ.get(ENVIRONMENT, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    import platformdirs

    from hybridlab import __version__

    versions = "-".join([metadata.version("jax"), metadata.version("jaxlib"), __version__])
    return Path(platformdirs.user_cache_dir("hybridlab")) / f"jax-{versions}"


def configure(environ=os.environ) -> None:
    """Point JAX's persistent cache at :func:`directory`, through ``environ`` (before JAX is
    imported: JAX reads these variables once, at its import), and silence JAX's warning about an
    unreadable entry. Does nothing when the cache is off or the user set
    ``JAX_COMPILATION_CACHE_DIR`` themselves."""
    if "JAX_COMPILATION_CACHE_DIR" in environ:
        return
    path = directory(environ)
    if path is None:
        return
    # An unreadable entry is compiled again, and an entry that cannot be written (a full disk, an
    # entry another program wrote without its access time) is compiled in the next process, with
    # the same answer: nothing to tell the user.
    warnings.filterwarnings("ignore", message="Error (reading|writing) persistent compilation cache entry")
    environ["JAX_COMPILATION_CACHE_DIR"] = str(path)
    # And the traced programs that skip a solve's trace (hybridlab.physics.exporting, which reads
    # this name: physics imports nothing of ours).
    environ.setdefault("HYBRIDLAB_EXPORTED", str(path / "exported"))
    environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(MAX_BYTES))
    environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", str(MIN_COMPILE_SECONDS))


def collect_less() -> None:
    """Set :data:`GC_THRESHOLDS` for this process. Tracing a program allocates many short-lived
    objects, and at CPython's default the collector ran 699 times in a cold ``aim`` and took 1.0 s of
    its 15 s, 0.2 s at these; the test suite's ``tests/test_aiming.py`` spent 6.1 s of 67 s in it,
    2.5 s at these, at the same peak memory (benchmarks/RESULTS.md). Only the ``hybridlab``
    process sets it: a program that imports the library keeps its own."""
    gc.set_threshold(*GC_THRESHOLDS)


def usage() -> dict:
    """The cache JAX uses in this process: its ``directory`` (None: off), its ``entries`` and
    their ``bytes``."""
    import jax

    path = jax.config.jax_compilation_cache_dir
    if not path:
        return {"directory": None, "entries": 0, "bytes": 0}
    files = [f for f in Path(path).rglob("*") if f.is_file()] if Path(path).is_dir() else []
    return {"directory": str(path), "entries": sum(1 for f in files if f.name.endswith("-cache")),
            "bytes": sum(f.stat().st_size for f in files)}
