"""How a program that carries an ODE solve is compiled: XLA's CPU options.

jaxlib 0.10's CPU compiler emits each fusion through MLIR (XLA's "fusion emitters"). A Diffrax
solve is a while loop over many small fusions of a state of a few numbers; compiled that way it
takes about twice as long as with XLA's older elemental emitters, and runs no faster
(benchmarks/RESULTS.md, "Cold start, part 6"). Programs dominated by a solve are compiled with
the elemental emitters; wide element-wise programs (a closed form over 10⁴ shots, a network's
layers) keep XLA's defaults, which vectorise them about twice as fast. The options are XLA's
``DebugOptions`` fields, part of the key of JAX's persistent compilation cache.
"""

from __future__ import annotations

import functools

import equinox as eqx
import jax

from hybridlab.physics import exporting

#: XLA options of a program whose work is an ODE solve.
SOLVE_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def solve_jit(function, keep: bool = False):
    """``eqx.filter_jit(function)`` compiled with :data:`SOLVE_OPTIONS`; a decorator. Called
    inside another transformation (a traced argument), a nested ``eqx.filter_jit`` without
    them: JAX takes compile options only at the top level, where the outer program's apply.
    ``keep``: called on concrete values, its traced program is kept between processes where it
    can be (:mod:`~hybridlab.physics.exporting`: a solve's trace is seconds) — for a function
    whose program calls nothing back into Python (no runtime check), as a program that does
    cannot be kept and would be traced twice on its first run."""
    top = eqx.filter_jit(function, compiler_options=SOLVE_OPTIONS)
    nested = eqx.filter_jit(function)

    @functools.wraps(function)
    def call(*args, **kwargs):
        if any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves((args, kwargs))):
            return nested(*args, **kwargs)
        kept = exporting.call(function, SOLVE_OPTIONS, *args, **kwargs) if keep else None
        return top(*args, **kwargs) if kept is None else kept

    call.lower = top.lower  # ahead of time, as eqx.filter_jit's
    return call


@functools.lru_cache(maxsize=None)
def compiled(function, solves: bool, keep: bool = False):
    """``function`` under ``eqx.filter_jit``, with :data:`SOLVE_OPTIONS` where it ``solves`` an
    ODE (for a function whose motion is a closed form for some projectiles and a solve for
    others; its traced program ``keep``-t as :func:`solve_jit` says), else with XLA's defaults:
    one wrapper per (function, solves, keep), so that each keeps its compiled programs."""
    return solve_jit(function, keep) if solves else eqx.filter_jit(function)


def by_motion(function=None, *, keep: bool = False):
    """Decorator (``@by_motion`` or ``@by_motion(keep=True)``): ``function(projectile, *args,
    **kwargs)`` compiled by :func:`compiled` as the motion of its first argument, a
    :class:`~hybridlab.physics.Projectile`, is solved (``projectile.solved_numerically()``);
    ``keep``: its solve's traced program kept between processes (for a function that solves
    without runtime checks and returns arrays: see :func:`solve_jit`)."""
    if function is None:
        return functools.partial(by_motion, keep=keep)

    def program(projectile):
        return compiled(function, projectile.solved_numerically(), keep)

    @functools.wraps(function)
    def call(projectile, *args, **kwargs):
        return program(projectile)(projectile, *args, **kwargs)

    call.lower = lambda projectile, *args, **kwargs: program(projectile).lower(projectile, *args, **kwargs)
    return call
