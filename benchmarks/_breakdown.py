"""Where one hybridlab command's time goes, measured inside its process (used by cold_start.py):

    python benchmarks/_breakdown.py SIDE.json ARG...      # as `hybridlab ARG...`

It sets HYBRIDLAB_DAEMON=off (the work is done in this process, not handed to a warm one),
switches on the persistent compilation cache as the command does (hybridlab.compilation,
before JAX's import), imports JAX and hybridlab.cli, registers listeners (jax.monitoring),
calls hybridlab.__main__.main() with sys.argv = ["hybridlab", ARG...], and writes to
SIDE.json, in seconds (time.perf_counter from this script's first line):
  import   every module loaded: `import jax`, `import hybridlab.__main__`, `import
           hybridlab.cli` up front (`import_upfront`), and every import the command does later
           (hybridlab imports its heavy modules lazily): the spans of the outermost calls of
           importlib's _find_and_load, module bodies included;
  trace    JAX's "/jax/core/compile/jaxpr_trace_duration" spans (Python → jaxpr of a jit);
  lower    "/jax/core/compile/jaxpr_to_mlir_module_duration" spans (jaxpr → StableHLO);
  compile  "/jax/core/compile/backend_compile_duration" spans (XLA compile, or reading the
           executable back from the persistent compilation cache on a hit);
  run      total − import − trace − lower − compile: the backend's start, execution, Python,
           SciPy, file I/O;
  total    to the end of hybridlab.__main__.main() (its SystemExit caught, or just before its
           os._exit on a failure).
Spans can nest (JAX records a trace only for an outermost trace, and lowering and compiling
follow it, but an import can happen inside a trace, or a jit run inside an import): each part
is the length of the union of its spans (time.time) less the parts before it in the order
import, compile, lower, trace, so nothing is counted twice. Also written: the plain sums of the
JAX durations (`sums`), the number of each event, JAX's persistent-cache requests (compiles
that consulted the cache), hits and misses, and the exit status.
"""

import time

_START = time.perf_counter()

import _frozen_importlib as bootstrap  # what the import statement calls: importlib._bootstrap
import json
import os
import sys

EVENTS = {"trace": "/jax/core/compile/jaxpr_trace_duration",
          "lower": "/jax/core/compile/jaxpr_to_mlir_module_duration",
          "compile": "/jax/core/compile/backend_compile_duration"}
COUNTED = {"cache_requests": "/jax/compilation_cache/compile_requests_use_cache",
           "cache_hits": "/jax/compilation_cache/cache_hits",
           "cache_misses": "/jax/compilation_cache/cache_misses"}
PRECEDENCE = ("import", "compile", "lower", "trace")
spans = {name: [] for name in PRECEDENCE}


def watch_imports():
    """Record the span of every outermost module load."""
    load, depth = bootstrap._find_and_load, [0]

    def timed_load(*args, **kwargs):
        depth[0] += 1
        start = time.time()
        try:
            return load(*args, **kwargs)
        finally:
            depth[0] -= 1
            if depth[0] == 0:
                spans["import"].append((start, time.time()))

    bootstrap._find_and_load = timed_load


def union(intervals):
    """The disjoint intervals covering ``intervals``, sorted."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def outside(intervals, taken):
    """The length of ``intervals`` (disjoint) outside ``taken`` (disjoint)."""
    length = sum(end - start for start, end in intervals)
    for start, end in intervals:
        for t_start, t_end in taken:
            length -= max(0.0, min(end, t_end) - max(start, t_start))
    return length


def exclusive():
    """Each part's time outside the parts before it in PRECEDENCE (s)."""
    parts, before = {}, []
    for name in PRECEDENCE:
        merged = union(spans[name])
        parts[name] = outside(merged, union(before))
        before += merged
    return parts


def listen(jax, counts, sums):
    names = {event: name for name, event in EVENTS.items()}

    def on_span(event, start, end, **_):
        if event in names:
            spans[names[event]].append((start, end))
            counts[names[event]] += 1

    def on_duration(event, seconds, **_):
        if event in names:
            sums[names[event]] += seconds

    def on_event(event, **_):
        for name, counted in COUNTED.items():
            counts[name] += event == counted

    jax.monitoring.register_event_time_span_listener(on_span)
    jax.monitoring.register_event_duration_secs_listener(on_duration)
    jax.monitoring.register_event_listener(on_event)


def main():
    side, args = sys.argv[1], sys.argv[2:]
    watch_imports()
    os.environ["HYBRIDLAB_DAEMON"] = "off"
    import hybridlab.__main__ as entry

    if hasattr(entry, "compilation"):
        entry.compilation.configure()  # before JAX's import, which reads it
    import jax

    import hybridlab.cli  # noqa: F401
    from hybridlab import stopping

    upfront = time.perf_counter() - _START
    sums = {name: 0.0 for name in EVENTS}
    counts = {name: 0 for name in list(EVENTS) + list(COUNTED)}
    listen(jax, counts, sums)

    def dump(status):
        total = time.perf_counter() - _START
        parts = exclusive()
        parts["run"] = total - sum(parts.values())
        with open(side, "w") as f:
            json.dump({**parts, "total": total, "import_upfront": upfront, "status": status, "sums": sums,
                       "counts": counts}, f)

    leave = stopping.leave

    def dump_and_leave(status, line=None):  # a failed command ends by os._exit: write first
        dump(status)
        leave(status, line)

    stopping.leave = dump_and_leave
    sys.argv = ["hybridlab", *args]
    try:
        entry.main()
        status = 0
    except SystemExit as stop:
        status = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    dump(status)
    sys.exit(status)


if __name__ == "__main__":
    main()
