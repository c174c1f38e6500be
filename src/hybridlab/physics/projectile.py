"""The projectile: a point mass launched from a height, under gravity and a drag law."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float

from hybridlab.physics import ballistic, batching, linear
from hybridlab.physics.compiling import compiled
from hybridlab.physics.constants import G
from hybridlab.physics.drag import DRAG_LAWS, AbstractDrag, NoDrag, speed_of
from hybridlab.physics.validation import as_float, check, is_traced, parameter, runtime_cause
from hybridlab.physics.wind import Wind

#: The motions solved in closed form (see ``AbstractDrag.motion``); "ode" is solved numerically.
CLOSED_FORMS = {"ballistic": ballistic, "linear": linear}
#: How a solve may be differentiated (see ``Projectile``).
MODES = ("reverse", "forward")
#: The projectile's own parameters and their units (a drag law's coefficients come with it).
UNITS = {"mass": "kg", "g": "m/s²", "height": "m"}
DEFAULTS = {"mass": 1.0, "g": G, "height": 0.0}
#: The largest float64, the limit an overflowing result names.
FLOAT64_MAX = float(jnp.finfo(jnp.float64).max)


def _motion(p):
    """The module that solves the motion of projectile ``p``: a closed form where one exists
    (no drag, whatever the wind: without drag the air does not act; linear drag in still air
    or a constant wind), else the ODE solve."""
    kind = p.drag.solved_by() if isinstance(p.drag, AbstractDrag) else "ode"
    if kind == "linear" and p.wind is not None and not p.wind.constant:
        kind = "ode"
    return _ode() if kind == "ode" else CLOSED_FORMS[kind]


def _ode():
    """The ODE solve's module, imported on first use: it imports Diffrax and Optimistix (0.5 s of a
    process's start, benchmarks/RESULTS.md), which a process that evaluates only closed forms
    never needs."""
    from hybridlab.physics import numerical

    return numerical


def _solves(motion) -> bool:
    """Whether ``motion`` (a module of :func:`_motion`) is the ODE solve."""
    return motion not in CLOSED_FORMS.values()


def _negative(value: np.ndarray) -> np.ndarray:
    """Where a checked result (NumPy) is below 0."""
    return value < 0


def _vectorised(function, projectile, *arrays):
    """``function(projectile, *scalars)`` mapped over equally shaped arrays.

    Compiled (:func:`~hybridlab.physics.compiling.compiled`) once per (function, drag law type, shape): later projectiles
    with other parameter values reuse the compiled program.
    """
    shape = arrays[0].shape
    flat = [a.reshape(-1) for a in arrays]
    result = jax.vmap(lambda *xs: function(projectile, *xs))(*flat)
    return jax.tree.map(lambda r: r.reshape(shape), result)


class Projectile(eqx.Module):
    """A point mass launched at speed v (m/s) and angle θ (rad above the horizontal) from
    height ``height`` (m) above level ground, under gravity g (m/s²) and a drag law.

    Equations of motion: m d²r/dt² = F_drag(dr/dt − w(t) x̂) − m g ŷ, r(0) = (0, h),
    dr/dt(0) = v (cos θ, sin θ), with an optional horizontal ``wind`` w(t) (m/s along +x; a
    :class:`~hybridlab.physics.wind.Wind`, or a number for a constant wind): drag acts on the
    velocity relative to the air. Under a wind the range and the apex distance may be negative
    (a shot blown back behind its launch point); an ODE solve under a wind has no fast-launch
    or deep-fall shortcut (see :mod:`hybridlab.physics.numerical`). Every physical parameter is a
    PyTree leaf, so ``jax.grad`` works with respect to mass, g, height and the drag law's parameters.

    Every method broadcasts its array arguments against each other and is differentiable with
    respect to speed, angle and every parameter. To compile a method, use ``eqx.filter_jit(p.range)``
    (the Equinox convention) or ``jax.jit(lambda speed, angle: p.range(speed, angle))``:
    ``jax.jit(p.range)`` fails with ``TypeError: unhashable type``, as a bound method of a module
    holding arrays cannot be a static argument. ``mode`` (flight time,
    range, impact) says how an ODE solve is differentiated: ``"reverse"`` (``jax.grad``) or
    ``"forward"`` (``jax.jvp``, ``jax.jacfwd``: the Jacobian of many shots with respect to a
    few parameters, as a least-squares fit needs); closed forms allow both either way. Domain: speed ≥ 0;
    θ ∈ [0, π/2] from the ground (h = 0) and θ ∈ [−π/2, π/2] from a height (h > 0).

    Errors. Called eagerly (not traced), a bad input or parameter, a result that is not finite
    and valid (flight time ≥ 0, range ≥ 0, impact angle in [0, π/2]: e.g. a range beyond float64's
    1.8e308 m) and a failed ODE solve (e.g. its step limit) all raise a one-line ``ValueError``
    naming the parameters. Traced (inside ``jit``, ``grad``, ``vmap``, a fit), results are not
    checked: every parameter value within float64's reach gives a finite, correct result, and
    one beyond it (an overflowing range, a terminal speed below 1e-300 m/s) gives ``inf`` or
    ``NaN`` rather than aborting the computation; bad inputs (a negative speed, an angle out of
    its domain) and solver failures still raise when the compiled function runs: an
    ``equinox.EquinoxRuntimeError`` under ``eqx.filter_jit``, a ``jax.errors.JaxRuntimeError``
    ("INTERNAL: CpuCallback error …") under ``jax.jit``, each with a long text whose one-line
    cause :func:`hybridlab.physics.validation.runtime_cause` extracts.

    Parameters
    ----------
    drag : AbstractDrag, optional
        The drag law: any object with a ``force(vx, vy)`` method (N, velocities in m/s); None: ``NoDrag()``.
    mass : float
        Mass m in kg, finite and > 0 (default 1).
    g : float
        Gravitational acceleration in m/s², finite and > 0 (default 9.81).
    height : float
        Launch height h in m above the ground, finite and ≥ 0 (default 0).
    wind : Wind or float or dict, optional
        Horizontal wind w(t) in m/s along +x: a ``Wind``, a number (a constant wind) or a wind spec (see
        ``Wind.from_spec``); None: still air.

    Raises
    ------
    ValueError
        If ``drag`` has no ``force`` method, a parameter is not a real scalar or breaks its bound, or ``wind``
        is not a valid wind.
    """

    drag: eqx.Module
    mass: jax.Array
    g: jax.Array
    height: jax.Array
    wind: Wind | None

    def __init__(self, drag=None, mass=DEFAULTS["mass"], g=DEFAULTS["g"], height=DEFAULTS["height"], wind=None):
        if drag is None:
            drag = NoDrag()
        if not callable(getattr(drag, "force", None)):
            raise ValueError(f"drag must be a drag law with a force(vx, vy) method, got {drag!r}")
        self.drag = drag
        self.mass = parameter("mass", mass, positive=True)
        self.g = parameter("g", g, positive=True)
        self.height = parameter("height", height, positive=False)
        self.wind = wind if wind is None or isinstance(wind, Wind) else Wind.from_spec(wind)

    # Describing itself ----------------------------------------------------------------------
    def to_spec(self) -> dict[str, Any]:
        """Plain JSON-able data that :meth:`from_spec` turns back into this projectile:
        ``{"drag": {"law": name, <coefficient>: value, …}, "mass": kg, "g": m/s², "height": m}``,
        and ``"wind"`` (see :meth:`Wind.to_spec`) when there is one.

        Returns
        -------
        spec : dict
            The drag law (its name and coefficients, SI units), ``mass`` (kg), ``g`` (m/s²), ``height`` (m)
            and, under a wind, ``wind``.

        Raises
        ------
        ValueError
            If the drag law's class has no registered ``name``.
        """
        law = getattr(self.drag, "name", None)
        if DRAG_LAWS.get(law) is not type(self.drag):
            raise ValueError(f"drag law {type(self.drag).__name__} has no registered name: give it a `name`")
        wind = {} if self.wind is None else {"wind": self.wind.to_spec()}
        return {"drag": {"law": law, **self.drag.values()},
                **{name: float(getattr(self, name)) for name in UNITS}, **wind}

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], starting: tuple[str, ...] = ()) -> Projectile:
        """The projectile a spec describes (see :meth:`to_spec`); missing entries take their
        defaults, and ``"drag"`` may be just a law's name. A drag coefficient named in
        ``starting`` (an unknown to be fitted) that the spec leaves out takes the law's starting
        guess instead of its default. ValueError names a bad entry.

        Parameters
        ----------
        spec : Mapping
            ``{"drag": name or {"law": name, <coefficient>: value, …}, "mass": kg, "g": m/s², "height": m,
            "wind": …}``, every entry optional.
        starting : tuple of str
            Drag coefficients to be fitted: absent from ``spec``, they take the law's starting guess.

        Returns
        -------
        projectile : Projectile
            The projectile the spec describes.

        Raises
        ------
        ValueError
            If ``spec`` is not a mapping, names an unknown drag law, a coefficient its law does not have or an
            unknown parameter, or holds a value out of its bounds.
        """
        if not isinstance(spec, Mapping):
            raise ValueError(f"physics = {spec!r}: must be a mapping such as {{'drag': 'linear', 'mass': 7.26}}")
        spec = dict(spec)
        law, coefficients = _drag_entry(spec.pop("drag", "none"))
        wind = spec.pop("wind", None)
        coefficients = {**{name: c.start for name, c in law.coefficients.items() if name in starting},
                        **coefficients}
        unknown = sorted(set(spec) - set(UNITS))
        if unknown:
            raise ValueError(f"physics parameters {unknown} are not known; the projectile has "
                             f"drag, {', '.join(UNITS)}, wind")
        return cls(law(**coefficients), **spec, wind=wind)

    def units(self) -> dict[str, str]:
        """Every physical parameter a fit may leave unknown, with its unit.

        Returns
        -------
        units : dict of str to str
            Name → unit: the drag law's coefficients (e.g. ``{"k": "kg/s"}``), then mass (kg), g (m/s²),
            height (m).
        """
        return {**{name: c.unit for name, c in _coefficients(self.drag).items()}, **UNITS}

    def value(self, name: str) -> jax.Array:
        """The parameter ``name`` (a drag coefficient, mass, g or height).

        Parameters
        ----------
        name : str
            A key of ``units()``.

        Returns
        -------
        value : jax.Array
            The scalar value, in the unit ``units()`` gives.

        Raises
        ------
        ValueError
            If ``name`` does not apply to this projectile.
        """
        return getattr(self.drag if name in _coefficients(self.drag) else self, self._known(name))

    def replace(self, names, values) -> Projectile:
        """This projectile with the named parameters set to ``values`` (traceable, unchecked).

        Parameters
        ----------
        names : sequence of str
            Keys of ``units()``.
        values : sequence of array_like
            One scalar per name, in the unit ``units()`` gives (not checked: may be traced).

        Returns
        -------
        projectile : Projectile
            A new projectile; this one is unchanged.

        Raises
        ------
        ValueError
            If a name does not apply to this projectile.
        """
        getters = [lambda p, n=self._known(n): p.value(n) for n in names]
        return eqx.tree_at(lambda p: [get(p) for get in getters], self, list(values))

    def label(self) -> str:
        """One line in words, e.g. ``linear drag k=0.45 kg/s, m=7.26 kg``.

        Returns
        -------
        label : str
            The law's title, its coefficients, m, and h, g and the wind where not the defaults.
        """
        units = self.units()
        parts = [f"{name}={float(getattr(self.drag, name)):g} {units[name]}" for name in _coefficients(self.drag)]
        parts.append(f"m={float(self.mass):g} kg")
        parts += [f"h={float(self.height):g} m"] if float(self.height) else []
        parts += [f"g={float(self.g):g} m/s²"] if float(self.g) != DEFAULTS["g"] else []
        parts += [self.wind.label()] if self.wind is not None else []
        return f"{getattr(self.drag, 'title', type(self.drag).__name__)} " + ", ".join(parts)

    def _known(self, name: str) -> str:
        if name not in self.units():
            raise ValueError(f"parameter {name!r} does not apply to {self.label()}; choose from "
                             f"{', '.join(self.units())}")
        return name

    # Solving ---------------------------------------------------------------------------------
    def _shots(self, speed, angle, *more, extra="t"):
        """Checked float64 speed and angle (and extra arrays, named ``extra``: finite, ≥ 0),
        broadcast to one shape."""
        speed = as_float("speed", speed)
        angle = as_float("angle", angle)
        more = [as_float(extra, m) for m in more]
        shapes = [jnp.shape(a) for a in (speed, angle, *more)]
        try:
            jnp.broadcast_shapes(*shapes)
        except ValueError:
            names = f"speed, angle and {extra}" if more else "speed and angle"
            raise ValueError(f"{names} must broadcast together, got shapes {shapes}") from None
        speed = check("speed", speed, lambda xp, v: ~xp.isfinite(v) | (v < 0), "finite and >= 0")
        requirement = "in [0, pi/2] rad from the ground (height = 0), in [-pi/2, pi/2] from a height"
        if is_traced(self.height):
            lowest = jnp.where(self.height > 0, -jnp.pi / 2, 0.0)
            angle = check("angle", angle, ~(jnp.isfinite(angle) & (angle >= lowest) & (angle <= jnp.pi / 2)),
                          requirement)
        else:
            lowest = -np.pi / 2 if np.asarray(self.height) > 0 else 0.0
            angle = check("angle", angle, lambda xp, a: ~(xp.isfinite(a) & (a >= lowest) & (a <= xp.pi / 2)),
                          requirement)
        more = [check(extra, m, lambda xp, v: ~xp.isfinite(v) | (v < 0), "finite and >= 0") for m in more]
        if is_traced(speed, angle, *more):
            return jnp.broadcast_arrays(speed, angle, *more)
        # Broadcast in NumPy, then on the device: jnp.broadcast_arrays compiles a program per shape.
        shape = np.broadcast_shapes(*shapes)
        return jax.device_put([np.broadcast_to(np.asarray(a), shape) for a in (speed, angle, *more)])

    def _per_shot(self, function, *arrays):
        """Apply a per-shot scalar function over broadcast arrays (one vmap, one solve).

        Eagerly, a failed solve becomes a one-line ``ValueError`` with its cause."""
        vectorised = compiled(_vectorised, self.solved_numerically())
        if is_traced(*jax.tree.leaves((self, arrays))):
            return vectorised(function, self, *arrays)  # (a nested program: see solve_jit)
        limit = getattr(_motion(self), "limit", lambda p: None)(self)
        if limit is not None:
            raise ValueError(f"{self._title()}: {limit}, for {self._parameters(arrays, None)}")
        unchecked = getattr(_motion(self), "UNCHECKED", {}).get(function)
        if unchecked is not None:  # the cacheable program first (numerical.UNCHECKED), its trace kept
            kept = compiled(_vectorised, True, keep=True)
            results = batching.padded(lambda *xs: kept(unchecked, self, *xs), *arrays)
            # A failed solve gives NaN there; an overflow alone (±inf), which the checked program
            # would give too, is reported by the caller's checks.
            if not any(np.isnan(result).any() for result in jax.tree.leaves(results)):
                return results
        try:
            return batching.padded(lambda *xs: vectorised(function, self, *xs), *arrays)
        except eqx.EquinoxRuntimeError as error:
            cause = runtime_cause(error).rstrip(".")  # Diffrax's sentences end in a full stop
            raise ValueError(f"{self._title()}: {cause}, for {self._parameters(arrays, None)}") from None

    def _verified(self, results, arrays):
        """``results`` ({name: (value, unit, bad)}) as a tuple, or eagerly a one-line
        ``ValueError`` for the first shot where one is not finite or ``bad`` (a mask, or a
        function of the value in NumPy: no program compiled for the test)."""
        values = tuple(value for value, _, _ in results.values())
        if is_traced(*jax.tree.leaves((self, values, arrays))):
            return values
        for name, (value, unit, bad) in results.items():
            value = np.asarray(value)
            wrong = ~np.isfinite(value) | np.asarray(bad(value) if callable(bad) else bad)
            if wrong.any():
                index = tuple(np.argwhere(wrong)[0]) if value.ndim else ()
                raise ValueError(f"{self._title()}: {_problem(name, value[index], unit)}, for "
                                 f"{self._parameters(arrays, index)}")
        return values

    def solved_numerically(self) -> bool:
        """Whether this projectile's motion is an ODE solve (a drag law without a closed form,
        or linear drag under a changing wind), not a closed form: a program that computes it
        is then compiled as solves are (:mod:`hybridlab.physics.compiling`)."""
        return _solves(_motion(self))

    def _title(self) -> str:
        return getattr(self.drag, "title", type(self.drag).__name__)

    def _parameters(self, arrays, index) -> str:
        """``speed = … m/s, mass = … kg, …``: the user's parameters (not the angle, which the
        command line gives in degrees), at shot ``index`` (None: every shot's speed range)."""
        speed = np.asarray(arrays[0])
        if index is not None:
            shown = f"speed = {speed[index]:.3g} m/s"
        elif speed.size == 1:
            shown = f"speed = {speed.item():.3g} m/s"
        else:
            shown = f"speed = {speed.min():.3g} to {speed.max():.3g} m/s"
        units = self.units()
        values = {**{name: getattr(self.drag, name) for name in _coefficients(self.drag)},
                  **{name: getattr(self, name) for name in UNITS}}
        return ", ".join([shown] + [f"{name} = {float(v):.3g} {units[name]}" for name, v in values.items()])

    def trajectory(
        self, speed: ArrayLike, angle: ArrayLike, t: ArrayLike
    ) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
        """Position (x, y) in m at time t ≥ 0 (s) of free flight (not stopped at the ground).

        Parameters
        ----------
        speed : array_like
            Launch speed v in m/s, finite and ≥ 0.
        angle : array_like
            Launch angle θ in rad above the horizontal: in [0, π/2] from the ground, [−π/2, π/2] from a height.
        t : array_like
            Time in s since the launch, finite and ≥ 0.

        Returns
        -------
        x : jax.Array
            Horizontal position in m, of the broadcast shape of the inputs.
        y : jax.Array
            Height in m above the ground (negative below it), of the same shape.

        Raises
        ------
        ValueError
            Eagerly: an input is not real, out of its domain or not broadcastable, the solve fails or a result
            is not finite and valid.
        """
        arrays = self._shots(speed, angle, t)
        x, y = self._per_shot(_motion(self).trajectory, *arrays)
        return self._verified({"position x": (x, "m", False), "position y": (y, "m", False)}, arrays)

    def positions(self, speed: ArrayLike, angle: ArrayLike, t: ArrayLike) -> Float[Array, "P 2"]:
        """Positions (P, 2) in m of one shot (scalar ``speed``, ``angle``) at the increasing times
        ``t`` (P,) ≥ 0 (s) of free flight: :meth:`trajectory` on a grid, from one ODE solve that
        saves at every time (a closed form where one exists) — the fast way to tabulate many
        shots or many winds (vmap it).

        Parameters
        ----------
        speed : array_like
            Launch speed v in m/s, a scalar, finite and ≥ 0.
        angle : array_like
            Launch angle θ in rad, a scalar, in the launch's domain (see ``Projectile``).
        t : array_like
            Times in s, shape (P,), P ≥ 1, finite, ≥ 0 and increasing.

        Returns
        -------
        positions : jax.Array
            Shape (P, 2): (x, y) in m at each time.

        Raises
        ------
        ValueError
            If ``speed`` or ``angle`` is not a scalar; eagerly, if ``t`` is not a non-empty 1-D increasing
            array of finite times ≥ 0, a launch is out of its domain or the solve fails.
        """
        speed, angle = self._shots(speed, angle)
        t = as_float("t", t)
        if not is_traced(t):
            if t.ndim != 1 or t.shape[0] < 1:
                raise ValueError(f"t must be a 1-D array of times, got shape {t.shape}")
            t = check("t", t, lambda xp, v: ~xp.isfinite(v) | (v < 0), "finite and >= 0")
            if np.any(np.diff(np.asarray(t)) <= 0):
                raise ValueError("t must increase")
        if speed.ndim or angle.ndim:
            raise ValueError("positions: speed and angle must be scalars (vmap over shots)")
        motion = _motion(self)
        if is_traced(*jax.tree.leaves((self, speed, angle, t))):
            return _positions(self, speed, angle, t, motion)
        try:
            program = compiled(_positions, _solves(motion))
            return jax.block_until_ready(program(self, speed, angle, t, motion))
        except eqx.EquinoxRuntimeError as error:
            raise ValueError(f"{self._title()}: {runtime_cause(error).rstrip('.')}") from None

    def _landing(self, speed, angle, mode):
        if mode not in MODES:
            raise ValueError(f"mode = {mode!r}: must be one of {MODES}")
        motion = _motion(self)
        arrays = self._shots(speed, angle)
        solve = motion.landing_forward if _solves(motion) and _forward(mode, self, arrays) else motion.landing
        return self._per_shot(solve, *arrays), arrays

    def flight_time(self, speed: ArrayLike, angle: ArrayLike, mode: str = "reverse") -> Float[Array, "..."]:
        """Time T (s) at which the shot reaches the ground, y(T) = 0.

        Parameters
        ----------
        speed : array_like
            Launch speed v in m/s, finite and ≥ 0.
        angle : array_like
            Launch angle θ in rad above the horizontal: in [0, π/2] from the ground, [−π/2, π/2] from a height.
        mode : {"reverse", "forward"}
            How an ODE solve is differentiated: reverse mode (``jax.grad``) or forward mode (``jax.jvp``).

        Returns
        -------
        time : jax.Array
            Flight time T in s, of the broadcast shape of ``speed`` and ``angle``.

        Raises
        ------
        ValueError
            Eagerly: an input is not real, out of its domain or not broadcastable, the solve fails or a result
            is not finite and valid; ``mode`` is not one of the two.
        """
        (time, *_), arrays = self._landing(speed, angle, mode)
        return self._verified({"flight time": (time, "s", _negative)}, arrays)[0]

    def range(self, speed: ArrayLike, angle: ArrayLike, mode: str = "reverse") -> Float[Array, "..."]:
        """Horizontal distance D = x(T) (m) from the launch point to the landing point.

        Parameters
        ----------
        speed : array_like
            Launch speed v in m/s, finite and ≥ 0.
        angle : array_like
            Launch angle θ in rad above the horizontal: in [0, π/2] from the ground, [−π/2, π/2] from a height.
        mode : {"reverse", "forward"}
            How an ODE solve is differentiated: reverse mode (``jax.grad``) or forward mode (``jax.jvp``).

        Returns
        -------
        distance : jax.Array
            Range D in m (negative only for a shot a wind blows back), of the broadcast shape of the inputs.

        Raises
        ------
        ValueError
            Eagerly: an input is not real, out of its domain or not broadcastable, the solve fails or a result
            is not finite and valid; ``mode`` is not one of the two.
        """
        (time, distance, *_), arrays = self._landing(speed, angle, mode)
        return self._verified({"flight time": (time, "s", _negative), "range": (distance, "m", self._behind)},
                              arrays)[1]

    def range_valid(self, speed: Array, angle: Array, mode: str = "reverse") -> Array:
        """:meth:`range` of float64 arrays of one shape that are valid by construction (checked
        by :meth:`launches`), unchecked: NaN where an ODE solve fails, and a compiled program
        that calls it carries no runtime checks, which are host callbacks (JAX's persistent
        cache keeps no program with one).

        Parameters
        ----------
        speed : jax.Array
            Launch speed in m/s, float64, finite and ≥ 0.
        angle : jax.Array
            Launch angle in rad, float64, of the shape of ``speed``, in the launch's domain.
        mode : {"reverse", "forward"}
            How an ODE solve is differentiated: reverse mode (``jax.grad``) or forward mode (``jax.jvp``).

        Returns
        -------
        distance : jax.Array
            Range D in m, of the shape of ``speed`` (NaN where a solve fails).

        Raises
        ------
        ValueError
            If ``mode`` is not one of the two; eagerly, if the projectile is beyond the solver's reach.
        """
        if mode not in MODES:
            raise ValueError(f"mode = {mode!r}: must be one of {MODES}")
        motion = _motion(self)
        if _solves(motion):
            forward = _forward(mode, self, (speed, angle))
            solve = motion.landing_forward_unchecked if forward else motion.landing_unchecked
        else:
            solve = motion.landing
        return self._per_shot(solve, speed, angle)[1]

    def launches(self, speed: ArrayLike, angle: ArrayLike) -> tuple[Array, Array]:
        """Speed and angle as float64 arrays of one (broadcast) shape, checked as every method
        checks them: eagerly a ``ValueError`` naming the first that is not finite, a speed
        below 0 or an angle outside the launch's domain ([0, π/2] rad from the ground,
        [−π/2, π/2] from a height).

        Parameters
        ----------
        speed : array_like
            Launch speed v in m/s.
        angle : array_like
            Launch angle θ in rad above the horizontal.

        Returns
        -------
        speed, angle : jax.Array
            Float64, of the broadcast shape.

        Raises
        ------
        ValueError
            As above, or if they do not broadcast together.
        """
        return tuple(self._shots(speed, angle))

    def apex(self, speed: ArrayLike, angle: ArrayLike) -> tuple[Float[Array, "..."], Float[Array, "..."]]:
        """Highest point (x, y) in m, where v_y = 0; the launch point (0, h) when θ ≤ 0.

        Parameters
        ----------
        speed : array_like
            Launch speed v in m/s, finite and ≥ 0.
        angle : array_like
            Launch angle θ in rad above the horizontal: in [0, π/2] from the ground, [−π/2, π/2] from a height.

        Returns
        -------
        x : jax.Array
            Horizontal distance of the apex in m, of the broadcast shape of the inputs.
        y : jax.Array
            Height of the apex in m above the ground, of the same shape.

        Raises
        ------
        ValueError
            Eagerly: an input is not real, out of its domain or not broadcastable, the solve fails or a result
            is not finite and valid.
        """
        arrays = self._shots(speed, angle)
        x, y = self._per_shot(_motion(self).apex, *arrays)
        return self._verified({"apex distance": (x, "m", self._behind), "apex height": (y, "m", _negative)}, arrays)

    def apex_valid(self, speed: Array, angle: Array) -> tuple[Array, Array]:
        """:meth:`apex` of float64 arrays of one shape that are valid by construction, unchecked
        (NaN where an ODE solve fails): see :meth:`height_at_valid`.

        Parameters
        ----------
        speed : jax.Array
            Launch speed in m/s, float64, finite and ≥ 0.
        angle : jax.Array
            Launch angle in rad, float64, of the shape of ``speed``, in the launch's domain.

        Returns
        -------
        x : jax.Array
            Horizontal distance of the apex in m, of the shape of ``speed``.
        y : jax.Array
            Height of the apex in m, of the same shape.

        Raises
        ------
        ValueError
            Eagerly, if the projectile is beyond the solver's reach (a terminal speed or length below
            1e-300 m/s, m).
        """
        motion = _motion(self)
        return self._per_shot(motion.apex_unchecked if _solves(motion) else motion.apex, speed, angle)

    def _steepest(self):
        """The largest impact angle below the horizontal: π/2, or π under a wind that may blow
        the shot back."""
        return jnp.pi / 2 if self.wind is None else jnp.pi

    def _behind(self, distance):
        """Where a horizontal distance (NumPy) is out of its range: below 0, which only a wind allows."""
        return _negative(distance) if self.wind is None else False

    def height_at(self, speed: ArrayLike, angle: ArrayLike, distance: ArrayLike,
                  mode: str = "reverse") -> Float[Array, "..."]:
        """Height y (m above the ground) of free flight (not stopped at the ground, like
        :meth:`trajectory`) when its horizontal position x(t) first reaches ``distance`` d ≥ 0 (m):
        the equation an aim solves, ``height_at(v, θ, d) = target height``.

        ``-inf`` where x never reaches d: d > 0 with v cos θ = 0; under linear drag
        d ≥ m v cos θ / k (the asymptote of x); under an ODE law, d not reached within the
        solve's horizon (10⁶ time units V/g, or its step limit). It is a legitimate value, not an
        error, and its gradients are kept out of the other shots' (finite where those are
        reached). At d = 0, the launch height. Differentiable with respect to speed, angle,
        distance and every parameter (implicit-function theorem at the crossing time),
        in ``mode`` ``"reverse"`` or ``"forward"`` like :meth:`range`.

        Parameters
        ----------
        speed : array_like
            Launch speed v in m/s, finite and ≥ 0.
        angle : array_like
            Launch angle θ in rad above the horizontal: in [0, π/2] from the ground, [−π/2, π/2] from a height.
        distance : array_like
            Horizontal distance d in m, finite and ≥ 0.
        mode : {"reverse", "forward"}
            How an ODE solve is differentiated: reverse mode (``jax.grad``) or forward mode (``jax.jvp``).

        Returns
        -------
        height : jax.Array
            Height y in m where x first reaches d (``-inf`` where it never does), of the broadcast shape of
            the inputs.

        Raises
        ------
        ValueError
            Eagerly: an input is not real, out of its domain or not broadcastable, the solve fails or a result
            is not finite and valid (NaN or +inf); ``mode`` is not one of the two.
        """
        if mode not in MODES:
            raise ValueError(f"mode = {mode!r}: must be one of {MODES}")
        arrays = self._shots(speed, angle, distance, extra="distance")
        height = self.height_at_valid(*arrays, mode=mode)
        # −inf (never reached) is allowed; NaN and +inf are failures.
        self._verified({"height at distance": (jnp.where(height == -jnp.inf, 0.0, height), "m", False)}, arrays)
        return height

    def height_at_valid(self, speed: Array, angle: Array, distance: Array, mode: str = "reverse") -> Array:
        """:meth:`height_at` of float64 arrays of one shape that are valid by construction (a
        search's: speed finite and ≥ 0, the angle in the launch's domain, distance finite and
        ≥ 0), unchecked: a compiled program that calls it carries no runtime checks, which are
        host callbacks (JAX's persistent cache keeps no program with one).

        Parameters
        ----------
        speed : jax.Array
            Launch speed in m/s, float64.
        angle : jax.Array
            Launch angle in rad, float64, of the shape of ``speed``.
        distance : jax.Array
            Horizontal distance in m, float64, of the shape of ``speed``.
        mode : {"reverse", "forward"}
            How an ODE solve is differentiated: reverse mode (``jax.grad``) or forward mode (``jax.jvp``).

        Returns
        -------
        height : jax.Array
            Height in m where x first reaches ``distance`` (``-inf`` where never), of the shape of ``speed``.

        Raises
        ------
        ValueError
            Eagerly, if the projectile is beyond the solver's reach or the solve fails.
        """
        # Under a wind x(t) may turn back, and linear drag's closed form for x = d no longer holds.
        motion = _motion(self)
        motion = _ode() if motion is linear and self.wind is not None else motion
        arrays = (speed, angle, distance)
        solve = motion.height_at_forward if _solves(motion) and _forward(mode, self, arrays) else motion.height_at
        return self._per_shot(solve, *arrays)

    def impact(self, speed: ArrayLike, angle: ArrayLike, mode: str = "reverse") -> tuple[Float[Array, "..."],
                                                                                        Float[Array, "..."]]:
        """Speed (m/s) and angle (rad below the horizontal, ≥ 0, measured from +x: above π/2
        for a shot a headwind blows back) at which the shot lands.

        Parameters
        ----------
        speed : array_like
            Launch speed v in m/s, finite and ≥ 0.
        angle : array_like
            Launch angle θ in rad above the horizontal: in [0, π/2] from the ground, [−π/2, π/2] from a height.
        mode : {"reverse", "forward"}
            How an ODE solve is differentiated: reverse mode (``jax.grad``) or forward mode (``jax.jvp``).

        Returns
        -------
        speed : jax.Array
            Landing speed in m/s, of the broadcast shape of the inputs.
        angle : jax.Array
            Landing angle in rad below the horizontal, of the same shape.

        Raises
        ------
        ValueError
            Eagerly: an input is not real, out of its domain or not broadcastable, the solve fails or a result
            is not finite and valid; ``mode`` is not one of the two.
        """
        (_, _, vx, vy), arrays = self._landing(speed, angle, mode)
        landing_speed = speed_of(vx, vy)
        # atan2 has no gradient at (0, 0) (a shot at rest on the ground): guard it.
        moving = landing_speed > 0
        landing_angle = jnp.where(moving, jnp.arctan2(-vy, jnp.where(moving, vx, 1.0)), 0.0)
        return self._verified({"impact speed": (landing_speed, "m/s", False),
                               "impact angle": (landing_angle, "", (landing_angle < 0) | (landing_angle > self._steepest()))},
                              arrays)


def _forward(mode: str, p, arrays) -> bool:
    """Whether an ODE solve is compiled in forward mode: where ``mode`` asks for it, and for
    every eager call (no derivative is taken there, the values are the same to the bit, and
    the forward program compiles in about 4/5 of the time of the checkpointed reverse one)."""
    return mode == "forward" or not is_traced(*jax.tree.leaves((p, arrays)))


def _positions(p, speed, angle, t, motion):
    """(P, 2) positions of one shot at times t: one ODE solve, or the closed form at every time."""
    if _solves(motion):
        return motion.positions(p, speed, angle, t)
    return jnp.stack(motion.trajectory(p, speed, angle, t), axis=-1)



def _problem(name: str, value: float, unit: str) -> str:
    """What is wrong with one result, in words (an angle is not shown: it would be radians)."""
    if np.isinf(value):
        return f"{name} overflows float64 (beyond {FLOAT64_MAX:.2g} {unit})"
    if np.isnan(value):
        return f"{name} cannot be computed in float64 (an intermediate over- or underflows)"
    if unit:
        return f"{name} = {value:.3g} {unit} is out of its range (a numerical failure)"
    return f"{name} is out of its range (a numerical failure)"


def _coefficients(drag) -> dict:
    """A drag law's declared coefficients (none for an undeclared user law)."""
    return getattr(drag, "coefficients", {})


def _drag_entry(entry) -> tuple[type[AbstractDrag], dict[str, Any]]:
    """The law and its coefficients from a spec's ``"drag"``: a law's name, or
    ``{"law": name, <coefficient>: value, …}``."""
    entry = {"law": entry} if isinstance(entry, str) else dict(entry) if isinstance(entry, Mapping) else entry
    if not isinstance(entry, dict):
        raise ValueError(f"drag = {entry!r}: must be a drag law's name or {{'law': name, ...coefficients}}")
    name = entry.pop("law", None)
    if name not in DRAG_LAWS:
        raise ValueError(f"drag = {name!r}: must be one of {sorted(DRAG_LAWS)}")
    law = DRAG_LAWS[name]
    extra = sorted(set(entry) - set(law.coefficients))
    if extra:
        raise ValueError(f"physics parameters {extra} do not apply to drag = {name!r}"
                         + (f" (its coefficients: {', '.join(law.coefficients)})" if law.coefficients else ""))
    return law, entry
