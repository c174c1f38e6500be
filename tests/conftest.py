import os
import shutil
import tempfile

# XLA's backend optimisation off (LLVM's passes), before JAX starts a backend: the suite compiles
# about 2500 programs and runs most of them once, on small inputs, so compiling is most of its
# time, and this cuts the suite by an eighth (5 min 31 s -> 4 min 49 s on 2 cores); LLVM's
# expensive passes off too cut two of the heaviest files by a further tenth (1 min 13 s -> 1 min
# 6 s). XLA's CPU fusion emitters of jaxlib 0.10 (MLIR) compile a fusion about twice as slowly as
# the elemental emitters before them, and the concurrency-optimised scheduler and copy insertion's
# region analysis cost more than they save on programs run once: those three off halve XLA's
# compile time again (tests/test_dynamics.py, one process: compiling 28.0 -> 12.0 s, the file
# 59.9 -> 38.9 s; the suite 8 min 26 s -> 4 min 53 s). Results move at the level of rounding
# only (the accuracy tests hold either way).
# HYBRIDLAB_TEST_XLA=default keeps XLA's defaults, the compilation a user's process gets
# (`make test-all` runs so).
_FAST_COMPILE = ("--xla_backend_optimization_level=0 --xla_llvm_disable_expensive_passes=true "
                 "--xla_cpu_use_fusion_emitters=false --xla_cpu_copy_insertion_use_region_analysis=false "
                 "--xla_cpu_enable_concurrency_optimized_scheduler=false")
if os.environ.get("HYBRIDLAB_TEST_XLA") != "default" and _FAST_COMPILE not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {_FAST_COMPILE}".strip()

import hypothesis  # noqa: E402
import jax  # noqa: E402

import hybridlab  # noqa: F401, E402  (switches JAX to float64 before any test builds an array)
from hybridlab import compilation  # noqa: E402
from hybridlab.physics import compiling  # noqa: E402

# The collector's thresholds of a hybridlab process: tracing allocates many short-lived objects
# (tests/test_aiming.py spent 6.1 s of 67 s collecting at CPython's default, 2.5 s at these).
compilation.collect_less()

# XLA's backend level 0 (_FAST_COMPILE) everywhere but in the programs that carry an ODE solve
# (compiled with compiling.SOLVE_OPTIONS, which JAX applies over XLA_FLAGS): a solve is a loop of
# many small steps, which at level 0 ran about 4x slower (the UDE's power-law start, 91 laws x 60
# solves: 2.5 -> 11 s) and compiled no faster (its first call 16.4 s at level 3, 23.5 s at 0). The
# suite 7 min 58 s -> 7 min 7 s (benchmarks/RESULTS.md, "The test suite, part 3").
if os.environ.get("HYBRIDLAB_TEST_XLA") != "default":
    compiling.SOLVE_OPTIONS["xla_backend_optimization_level"] = 3

# JAX compiles on first call; a per-example deadline would time compilation, not the code.
hypothesis.settings.register_profile("hybridlab", deadline=None, max_examples=40, derandomize=True)
hypothesis.settings.load_profile("hybridlab")

#: The session's compiled programs, shared by the test workers: the suite's time is mostly XLA
#: compiling, and the workers (and files, and freshly built jitted closures) compile many of the
#: same programs. A fresh directory per session, removed after it: no run sees another's.
_CACHE = "HYBRIDLAB_TEST_JAX_CACHE"


def pytest_configure(config):
    # Commands run as processes run in them, not in a warm process left behind (tests/test_daemon.py
    # starts its own).
    os.environ.setdefault("HYBRIDLAB_DAEMON", "off")
    # Nor with compiled programs a run before this one left in the user's cache directory.
    os.environ.setdefault("HYBRIDLAB_CACHE", "off")
    if not hasattr(config, "workerinput") and _CACHE not in os.environ:  # the controller, before its workers
        os.environ[_CACHE] = tempfile.mkdtemp(prefix="hybridlab-jax-cache-")
        config._hybridlab_cache = os.environ[_CACHE]
    jax.config.update("jax_compilation_cache_dir", os.environ[_CACHE])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def pytest_unconfigure(config):
    cache = getattr(config, "_hybridlab_cache", None)
    if cache:
        shutil.rmtree(cache, ignore_errors=True)
        del os.environ[_CACHE]
