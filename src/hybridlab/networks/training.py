"""Training loops shared by the learned rungs: first-order (Optax) with early stopping,
an L-BFGS polish (SciPy's, on a compiled value and gradient), the two in a row, and
Levenberg–Marquardt (Optimistix; MINPACK's on a compiled linearisation).

Every loop minimises a loss ``loss(params, data)`` over a PyTree ``params`` of arrays, with
``data`` a tuple of arrays; none knows which model it trains. Each loop is compiled once per
loss function, optimiser and data shape, so ``loss`` (and ``residuals``) must be the same
function object from fit to fit — a module-level function, not a lambda or bound method made
per call — and the data and starting values go in as arguments: then a second fit with other
data of the same shape reuses the compiled program.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from hybridlab.physics.compiling import compiled

# Optax and Optimistix (0.4 s of a process's imports) are imported by the loops that use them:
# a physics fit's process runs MINPACK only.
if TYPE_CHECKING:
    import optax

#: Epochs compiled into one scan between early-stopping checks and progress reports.
CHUNK = 100
#: The most row indices of shuffles held at once (32 MB): a chunk of mini-batch epochs is
#: shortened where n rows would make CHUNK epochs' shuffles larger.
SHUFFLED = 1 << 23
#: The most training rows one first-order step takes at once by default: beyond it an epoch is
#: a pass over shuffled mini-batches of this size (about 10 MB of activations per 32 units of width).
BATCH_ROWS = 1 << 15


def batches_per_epoch(n: int, batch: int | None) -> int:
    """Steps per epoch of :func:`first_order` on ``n`` rows: 1 (full batch) unless ``batch``
    is given and smaller than n, then ⌊n/batch⌋ (each epoch's shuffle leaves out the rest)."""
    return 1 if batch is None or n <= batch else n // batch


@functools.lru_cache(maxsize=None)
def optimiser(kind: str, learning_rate: float, schedule: str, epochs: int) -> optax.GradientTransformation:
    """Adam (``"adam"``) or plain gradient descent (``"gd"``) at ``learning_rate``, constant or
    cosine-decayed to 1e-3 of it over ``epochs``. Cached: the same settings give the same
    object, which is what lets a compiled training step be reused."""
    import optax

    rate = optax.cosine_decay_schedule(learning_rate, epochs, alpha=1e-3) if schedule == "cosine" else learning_rate
    return optax.adam(rate) if kind == "adam" else optax.sgd(rate)


@eqx.filter_jit
def evaluate(loss, params, data):
    """``loss(params, data)``, compiled once per loss and shape."""
    return loss(params, data)


def first_order(params, loss, train, validation, optimiser, epochs: int, patience: int | None, task=None,
                monitor=None, batch: int | None = None, seed: int = 0):
    """Steps of an Optax ``optimiser`` for up to ``epochs`` epochs: full-batch, or where the
    training data (a tuple of arrays of n rows; 0-d arrays among them are constants that every
    batch gets whole) have more rows than ``batch``, mini-batches — each epoch a pass over a
    fresh shuffle (NumPy's, from ``seed``) cut into ⌊n/batch⌋ batches
    (:func:`batches_per_epoch` steps, which a schedule of ``optimiser`` should count).

    With ``validation`` data, the parameters with the lowest validation loss are kept and the
    run stops once ``patience`` epochs pass without improvement (early stopping); ``task`` (a
    progress task) hears the epochs done. The steps run
    compiled in chunks of CHUNK epochs, and the validation loss is looked at between chunks, so
    the best parameters are those at the end of a chunk and patience counts whole chunks.
    Returns (params, epochs run).
    """
    state = _init(optimiser, params)
    best, best_loss, since, done = params, np.inf, 0, 0
    shuffles = np.random.default_rng(seed)
    while done < epochs:
        steps = min(CHUNK, epochs - done)
        n = None if batch is None else train[0].shape[0]  # a PINN problem has no rows: not asked
        if batch is not None and batches_per_epoch(n, batch) > 1:
            steps = min(steps, max(1, SHUFFLED // n))
            # The epochs' shuffles are drawn here: NumPy permutes 10⁵ rows in 1 ms, where
            # jax.random.permutation took 45 ms on a CPU, more than the epoch's steps.
            orders = np.stack([shuffles.permutation(n)[: n // batch * batch] for _ in range(steps)])
            params, state = _minibatch_chunk(params, state, loss, train, optimiser, batch,
                                             jnp.asarray(orders, dtype=jnp.int32))
        else:
            params, state = _chunk(params, state, loss, train, optimiser, steps)
        done += steps
        if task is not None:
            task.update(done)
        if monitor is not None:
            monitor(done, params)
        if validation is None:
            continue
        current = float(evaluate(loss, params, validation))
        if current < best_loss:
            best, best_loss, since = params, current, 0
        else:
            since += steps
            if patience is not None and since >= patience:
                break
    return (params if validation is None else best), done


@eqx.filter_jit
def _chunk(params, state, loss, data, optimiser, steps):
    import optax

    def step(carry, _):
        params, state = carry
        grads = jax.grad(loss)(params, data)
        updates, state = optimiser.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), None

    (params, state), _ = jax.lax.scan(step, (params, state), None, length=steps)
    return params, state


@eqx.filter_jit
def _minibatch_chunk(params, state, loss, data, optimiser, batch, orders):
    """One epoch of mini-batch steps per row of ``orders`` (epochs, ⌊n/batch⌋·batch): the
    rows in that order, cut into batches of ``batch`` rows."""
    import optax

    count = orders.shape[1] // batch
    rowwise = tuple(a.ndim > 0 for a in data)

    def step(carry, rows):
        params, state = carry
        rows = iter(rows)
        grads = jax.grad(loss)(params, tuple(next(rows) if r else a for a, r in zip(data, rowwise)))
        updates, state = optimiser.update(grads, state, params)
        return (optax.apply_updates(params, updates), state), None

    def epoch(carry, order):
        # One gather of the epoch's rows, then contiguous batches: a gather of random rows at
        # every step made a row cost twice as much as in a full-batch step.
        batches = tuple(a[order].reshape(count, batch, *a.shape[1:]) for a, r in zip(data, rowwise) if r)
        return jax.lax.scan(step, carry, batches)[0], None

    (params, state), _ = jax.lax.scan(epoch, (params, state), orders)
    return params, state


def value_and_grad(loss, params, data, solves: bool = False):
    """(loss(params, data), ∇ of it in params), compiled once per loss and shape — as a solve is
    where ``solves`` (an ODE solve inside the loss; :mod:`hybridlab.physics.compiling`): the
    program that :func:`adam_then_lbfgs`'s steps and :func:`lbfgs`'s evaluations all call (one
    for the full data, and one more for the mini-batches' shape where Adam takes mini-batches)."""
    return compiled(_value_and_grad, solves)(loss, params, data)


def _value_and_grad(loss, params, data):
    return jax.value_and_grad(loss)(params, data)


@eqx.filter_jit
def _init(optimiser, params):
    """The optimiser's state for ``params``: one program (its zeros made eagerly compile one each)."""
    return optimiser.init(params)


@eqx.filter_jit
def _step(optimiser, params, state, grads):
    import optax

    updates, state = optimiser.update(grads, state, params)
    return optax.apply_updates(params, updates), state


def stepped(params, loss, data, optimiser, epochs: int, task=None, batch: int | None = None, seed: int = 0):
    """:func:`first_order`'s steps without validation — the same full batches, or the same
    shuffled mini-batches from ``seed`` — one :func:`value_and_grad` call at a time. For a loss
    whose gradient is costly to compile (an ODE solve and its adjoint inside): a chunk of
    steps compiled as one scan is another copy of that gradient, and the L-BFGS that follows
    calls :func:`value_and_grad` anyway (both compiled as solves are). Returns (params, epochs run)."""
    state = _init(optimiser, params)
    n = data[0].shape[0]
    count = batches_per_epoch(n, batch)
    rowwise = tuple(a.ndim > 0 for a in data)
    shuffles = np.random.default_rng(seed)
    for epoch in range(epochs):
        if count == 1:
            batches = [data]
        else:
            order = shuffles.permutation(n)[: count * batch].reshape(count, batch)
            batches = [tuple(a[rows] if r else a for a, r in zip(data, rowwise)) for rows in order]
        for part in batches:
            _, grads = value_and_grad(loss, params, part, solves=True)
            params, state = _step(optimiser, params, state, grads)
        if task is not None:
            task.update(epoch + 1)
    return params, epochs


def adam_then_lbfgs(params, loss, data, learning_rate: float, epochs: int, polish: int, task=None,
                    batch: int | None = None, seed: int = 0):
    """Adam (``learning_rate`` cosine-decayed over every step; ``task`` hears the epochs) to
    find the basin — full-batch, or by mini-batches of ``batch`` rows where the data (a tuple
    of arrays) have more (see :func:`first_order`) — then up to ``polish`` full-batch L-BFGS
    steps (:func:`lbfgs`), which on a smooth loss of a few hundred parameters go further in a
    fraction of the steps. Every step is one :func:`value_and_grad` call (:func:`stepped`): the
    trainer of the losses with an ODE solve inside, where compiling is most of the time.
    Returns (params, epochs run)."""
    steps = epochs if batch is None else epochs * batches_per_epoch(data[0].shape[0], batch)
    adam = optimiser("adam", learning_rate, "cosine", steps)
    params, done = stepped(params, loss, data, adam, epochs, task, batch, seed)
    return (lbfgs(params, loss, data, polish, solves=True) if polish else params), done


def lbfgs(params, loss, data, steps: int, history: bool = False, solves: bool = False):
    """Up to ``steps`` iterations of L-BFGS on ``loss(·, data)``: SciPy's L-BFGS-B without
    bounds (memory 10, the Moré–Thuente line search; what ``scipy.optimize.minimize`` runs),
    each evaluation one call of the compiled :func:`value_and_grad` (``solves``: see there), in
    float64 whatever the parameters' dtype. It stops early only where the line search finds no
    lower loss (the loss flat to rounding, or a trial point whose loss is not finite: the last
    finite point is kept): the tolerances are 0, since a loss of 1e-6 would meet SciPy's default
    at the first step. With ``history``, (params, the loss at the start and after each iteration).
    A whole loop compiled as one program (Optax's L-BFGS and zoom line search) holds two more
    copies of the gradient: under an ODE law its compile took 15 s of a 50-s fit."""
    x0, unravel = _flat(params)

    def objective(x):
        value, grads = value_and_grad(loss, unravel(x), data, solves)
        return float(value), _ravel(grads)

    values = []

    def record(intermediate_result):
        values.append(float(intermediate_result.fun))

    if history:
        values.append(objective(x0)[0])
    result = scipy.optimize.minimize(objective, x0, jac=True, method="L-BFGS-B", callback=record,
                                     options={"maxiter": steps, "maxfun": max(15_000, 25 * steps), "ftol": 0.0,
                                              "gtol": 0.0})
    params = unravel(result.x)
    return (params, values) if history else params


def _flat(tree):
    """(x, unravel): the array leaves of ``tree`` as one float64 NumPy vector, and its inverse
    (each leaf back in its shape and dtype, on the device) — ``ravel_pytree``'s, in NumPy, whose
    JAX operations would compile programs of their own."""
    leaves, treedef = jax.tree.flatten(tree)
    leaves = [np.asarray(leaf) for leaf in leaves]
    cuts = np.cumsum([leaf.size for leaf in leaves])[:-1]

    def unravel(x):
        parts = np.split(np.asarray(x), cuts)
        return jax.tree.unflatten(treedef, jax.device_put([part.reshape(leaf.shape).astype(leaf.dtype)
                                                          for part, leaf in zip(parts, leaves)]))

    return _ravel(tree), unravel


def _ravel(tree) -> np.ndarray:
    """The array leaves of ``tree`` as one float64 NumPy vector (:func:`_flat`'s x)."""
    leaves = [np.asarray(leaf).ravel() for leaf in jax.tree.leaves(tree)]
    return np.concatenate(leaves).astype(np.float64) if leaves else np.zeros(0)


def least_squares(params, residuals, data, steps: int):
    """Levenberg–Marquardt on Σ r(params, data)² (Optimistix), up to ``steps`` steps, with a
    forward-mode Jacobian (fewer parameters than residuals, the usual case). Returns the parameters
    reached: a run that stops at the step limit is kept (the lecture's fit is, too) and
    reported by ``converged``.
    """
    import optimistix as optx

    solution = _lm(params, residuals, data, steps)
    return solution.value, bool(solution.result == optx.RESULTS.successful)


#: MINPACK's Levenberg–Marquardt (:func:`minpack`) stops where a step changes the parameters, or
#: the sum of squares, by at most this relative amount, or the residuals are this close to
#: orthogonal to the Jacobian's columns.
MINPACK_TOLERANCE = 1e-12


def minpack(linearised, x0, steps: int):
    """(x, converged): Levenberg–Marquardt from x0 on Σ r(x)², MINPACK's (SciPy's, as
    ``curve_fit``), up to ``steps`` evaluations, where ``linearised(x)`` gives (r, ∂r/∂x) as
    arrays, each pair from one call. For a fit whose residuals and Jacobian come from a compiled
    program it needs anyway (its predictions, its standard errors): :func:`least_squares`
    compiles a second program, the whole loop with the model inside (under an ODE law, seconds
    for a fresh process). A run that stops at the step limit is kept and reported by
    ``converged``; a trial step whose residuals are not finite is rejected (its sum of squares is
    not lower); residuals that are not finite at x0 are a ValueError."""
    x0 = np.asarray(x0, dtype=np.float64)
    last = {}

    def pair(x):
        if last.get("x") is None or not np.array_equal(last["x"], x):
            r, J = linearised(x)
            last.update(x=x.copy(), pair=(np.asarray(r, dtype=np.float64), np.asarray(J, dtype=np.float64)))
        return last["pair"]

    if not np.all(np.isfinite(pair(x0)[0])):
        raise ValueError("the fit's residuals are not finite at its starting parameters (a solve fails there); "
                         "give another start")
    result = scipy.optimize.least_squares(lambda x: pair(x)[0], x0, jac=lambda x: pair(x)[1], method="lm",
                                          xtol=MINPACK_TOLERANCE, ftol=MINPACK_TOLERANCE, gtol=MINPACK_TOLERANCE,
                                          max_nfev=steps)
    return result.x, result.status > 0


@eqx.filter_jit
def _lm(params, residuals, data, steps):
    import optimistix as optx

    solver = optx.LevenbergMarquardt(rtol=1e-12, atol=1e-12)
    return optx.least_squares(residuals, solver, params, data, max_steps=steps, throw=False)


def mean_squared(prediction, target):
    """The training loss of every learner: the mean of (prediction − target)²."""
    return jnp.mean((prediction - target) ** 2)
