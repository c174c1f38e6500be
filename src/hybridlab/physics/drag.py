"""Drag laws: the aerodynamic force on the projectile as a function of its velocity.

Every law is an Equinox module whose coefficients are PyTree leaves (so ``jax.grad`` works
with respect to them). A law describes itself: its ``name`` (its key in the registry
:data:`DRAG_LAWS` and in a spec), its ``coefficients`` (name → unit and a starting guess for a
fit; the built-in laws read theirs from :mod:`hybridlab.physics.laws`) and how its motion is solved (``motion``: a closed form, or the ODE). A new law subclasses
:class:`AbstractDrag`, implements ``force(vx, vy) -> (fx, fy)`` in newtons (velocities in
m/s) and is solved numerically; giving it a ``name`` registers it, so specs and saved models
can name it.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp

from hybridlab.physics.laws import LAWS, TERMS, Coefficient
from hybridlab.physics.validation import parameter


#: Every named drag law, by name: what a spec's ``"drag"`` may say.
DRAG_LAWS: dict[str, type[AbstractDrag]] = {}


def speed_of(vx, vy):
    """|v| = √(vx² + vy²), with a zero (not NaN) gradient at v = 0: a dropped ball starts at rest.

    Evaluated as a hypotenuse, so that it neither overflows (|v| near 1e308) nor underflows
    (|v| near 1e-300) where the squares would.
    """
    moving = (vx != 0) | (vy != 0)
    return jnp.where(moving, jnp.hypot(jnp.where(moving, vx, 1.0), vy), 0.0)


class AbstractDrag(eqx.Module):
    """A drag law F(v): subclasses implement :meth:`force` and declare ``coefficients``.

    ``motion`` says how a projectile under this law is solved: ``"ballistic"`` or ``"linear"``
    (closed forms, valid only for exactly those forces) or ``"ode"``. It is read from the class
    that defines ``force``: a subclass that overrides ``force`` is solved by the ODE unless it
    declares a ``motion`` itself, so a changed force never gets another law's closed form.

    Attributes
    ----------
    name : str or None
        The law's key in :data:`DRAG_LAWS` and in a spec (class attribute); None: not registered.
    title : str
        The law in words, e.g. ``"linear drag"`` (class attribute).
    coefficients : dict of str to Coefficient
        Each coefficient's name → its unit, default and a fit's starting guess (SI; class attribute).
    motion : str
        ``"ballistic"``, ``"linear"`` or ``"ode"``: how the motion is solved (class attribute; see
        :meth:`solved_by`).

    Raises
    ------
    ValueError
        On defining a subclass whose ``name`` another law already registered.
    """

    name: ClassVar[str | None] = None
    title: ClassVar[str] = "drag"
    coefficients: ClassVar[dict[str, Coefficient]] = {}
    motion: ClassVar[str] = "ode"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:
            return
        known = DRAG_LAWS.get(name)
        if known is not None and known.__qualname__ != cls.__qualname__:
            raise ValueError(f"drag law name {name!r} is taken by {known.__qualname__}")
        DRAG_LAWS[name] = cls

    @abc.abstractmethod
    def force(self, vx, vy):
        """The force (fx, fy) in N on a body moving at velocity (vx, vy) in m/s.

        Parameters
        ----------
        vx : array_like
            Horizontal velocity in m/s (relative to the air).
        vy : array_like
            Vertical velocity in m/s, broadcastable with ``vx``.

        Returns
        -------
        fx : jax.Array
            Horizontal force in N, of the broadcast shape of ``vx`` and ``vy``.
        fy : jax.Array
            Vertical force in N, of the same shape.
        """

    @classmethod
    def solved_by(cls) -> str:
        """``motion`` as declared by the class that defines ``force`` (see the class docstring).

        Returns
        -------
        motion : str
            ``"ballistic"``, ``"linear"`` or ``"ode"``.
        """
        owner = next(klass for klass in cls.__mro__ if "force" in klass.__dict__)
        return owner.__dict__.get("motion", "ode")

    def acceleration(self, vx, vy, speed_scale, mass, g):
        """F(V ṽ)/(m g): the drag force in units of the weight, for a velocity ṽ in units of
        V (m/s), as the ODE solver needs it.

        Parameters
        ----------
        vx : array_like
            Horizontal velocity in units of ``speed_scale`` (dimensionless).
        vy : array_like
            Vertical velocity in units of ``speed_scale``, broadcastable with ``vx``.
        speed_scale : array_like
            The speed unit V in m/s.
        mass : array_like
            Mass m in kg.
        g : array_like
            Gravitational acceleration in m/s².

        Returns
        -------
        ax : jax.Array
            Horizontal drag force over the weight m g (dimensionless), of the broadcast shape of the inputs.
        ay : jax.Array
            Vertical drag force over m g, of the same shape.
        """
        fx, fy = self.force(vx * speed_scale, vy * speed_scale)
        weight = mass * g
        return fx / weight, fy / weight

    def values(self) -> dict[str, float]:
        """The coefficients' values, by name (concrete floats; SI units).

        Returns
        -------
        values : dict of str to float
            Coefficient name → value in its unit (``coefficients[name].unit``); empty for a law without any.
        """
        return {name: float(getattr(self, name)) for name in self.coefficients}


class NoDrag(AbstractDrag):
    """No aerodynamic force: F = 0 (the vacuum, or a heavy slow body)."""

    name = "none"
    title = LAWS[name].title
    motion = "ballistic"

    def force(self, vx, vy):
        """F = (0, 0) N.

        Parameters
        ----------
        vx : array_like
            Horizontal velocity in m/s (relative to the air).
        vy : array_like
            Vertical velocity in m/s, broadcastable with ``vx``.

        Returns
        -------
        fx : jax.Array
            Horizontal force in N, of the broadcast shape of ``vx`` and ``vy``.
        fy : jax.Array
            Vertical force in N, of the same shape.
        """
        return jnp.zeros_like(vx), jnp.zeros_like(vy)


class LinearDrag(AbstractDrag):
    """Stokes (viscous) drag F = -k·v, with k in kg/s (the lecture's shot put: k = 0.45 in its
    text, 4 × 0.45 = 1.8 in its code).

    Parameters
    ----------
    k : float
        Drag coefficient k in kg/s, finite and ≥ 0.

    Raises
    ------
    ValueError
        If ``k`` is not a real scalar, finite and ≥ 0.
    """

    name = "linear"
    title, coefficients = LAWS[name].title, LAWS[name].coefficients
    motion = "linear"

    k: jax.Array

    def __init__(self, k=0.45):
        self.k = parameter("k", k, positive=False)

    def force(self, vx, vy):
        """F = -k (vx, vy) N.

        Parameters
        ----------
        vx : array_like
            Horizontal velocity in m/s (relative to the air).
        vy : array_like
            Vertical velocity in m/s, broadcastable with ``vx``.

        Returns
        -------
        fx : jax.Array
            Horizontal force in N, of the broadcast shape of ``vx`` and ``vy``.
        fy : jax.Array
            Vertical force in N, of the same shape.
        """
        return -self.k * vx, -self.k * vy


class QuadraticDrag(AbstractDrag):
    """Newton (form) drag F = -c·|v|·v, with c = ½ ρ C_d A in kg/m (a baseball: c ≈ 9e-4).

    Parameters
    ----------
    c : float
        Drag coefficient c in kg/m, finite and ≥ 0.

    Raises
    ------
    ValueError
        If ``c`` is not a real scalar, finite and ≥ 0.
    """

    name = "quadratic"
    title, coefficients = LAWS[name].title, LAWS[name].coefficients

    c: jax.Array

    def __init__(self, c=9e-4):
        self.c = parameter("c", c, positive=False)

    def force(self, vx, vy):
        """F = -c |v| (vx, vy) N.

        Parameters
        ----------
        vx : array_like
            Horizontal velocity in m/s (relative to the air).
        vy : array_like
            Vertical velocity in m/s, broadcastable with ``vx``.

        Returns
        -------
        fx : jax.Array
            Horizontal force in N, of the broadcast shape of ``vx`` and ``vy``.
        fy : jax.Array
            Vertical force in N, of the same shape.
        """
        speed = speed_of(vx, vy)
        return -self.c * speed * vx, -self.c * speed * vy

    def terminal_speed(self, mass, g):
        """v_t = √(m g / c) in m/s (infinite when c = 0): the speed at which drag balances weight.

        Parameters
        ----------
        mass : array_like
            Mass m in kg.
        g : array_like
            Gravitational acceleration in m/s².

        Returns
        -------
        speed : jax.Array
            Terminal speed v_t in m/s, of the broadcast shape of ``mass`` and ``g``.
        """
        return jnp.sqrt(mass) * jnp.sqrt(g) / jnp.sqrt(self.c)

    def acceleration(self, vx, vy, speed_scale, mass, g):
        """F(V ṽ)/(m g) = −(c V²/(m g)) |ṽ| ṽ for a velocity ṽ in units of V (m/s), evaluated
        without forming F, which over- or underflows where V or c is extreme.

        Parameters
        ----------
        vx : array_like
            Horizontal velocity in units of ``speed_scale`` (dimensionless).
        vy : array_like
            Vertical velocity in units of ``speed_scale``, broadcastable with ``vx``.
        speed_scale : array_like
            The speed unit V in m/s.
        mass : array_like
            Mass m in kg.
        g : array_like
            Gravitational acceleration in m/s².

        Returns
        -------
        ax : jax.Array
            Horizontal drag force over the weight m g (dimensionless), of the broadcast shape of the inputs.
        ay : jax.Array
            Vertical drag force over m g, of the same shape.
        """
        if type(self).force is not QuadraticDrag.force:  # a subclass with its own force
            return AbstractDrag.acceleration(self, vx, vy, speed_scale, mass, g)
        ratio = speed_scale / (jnp.sqrt(mass) * jnp.sqrt(g))
        # |ṽ| from squares, cheaper than a hypotenuse: the solver keeps |ṽ| ≤ 1e8.
        squared = vx**2 + vy**2
        moving = squared > 0
        factor = -self.c * ratio**2 * jnp.where(moving, jnp.sqrt(jnp.where(moving, squared, 1.0)), 0.0)
        return factor * vx, factor * vy


class PolynomialDrag(AbstractDrag):
    """Drag of magnitude b + k|v| + c|v|² + d|v|³ against the motion,
    F = −(b + k|v| + c|v|² + d|v|³) v/|v| (0 at rest), with b in N, k in kg/s, c in kg/m and
    d in kg·s/m²: the law that drag-law discovery writes from the terms it keeps (linear drag
    is k alone, quadratic drag c alone). Every coefficient defaults to 0.

    Parameters
    ----------
    b : float
        Constant term in N, finite and ≥ 0.
    k : float
        Linear term in kg/s, finite and ≥ 0.
    c : float
        Quadratic term in kg/m, finite and ≥ 0.
    d : float
        Cubic term in kg·s/m², finite and ≥ 0.

    Raises
    ------
    ValueError
        If a coefficient is not a real scalar, finite and ≥ 0.
    """

    name = "polynomial"
    title = LAWS[name].title
    #: Each coefficient's term in words, and its power of |v| in the magnitude.
    terms: ClassVar[dict[str, tuple[str, int]]] = TERMS
    coefficients = LAWS[name].coefficients

    b: jax.Array
    k: jax.Array
    c: jax.Array
    d: jax.Array

    def __init__(self, b=0.0, k=0.0, c=0.0, d=0.0):
        self.b, self.k = parameter("b", b, positive=False), parameter("k", k, positive=False)
        self.c, self.d = parameter("c", c, positive=False), parameter("d", d, positive=False)

    def force(self, vx, vy):
        """F = −(b + k|v| + c|v|² + d|v|³) (vx, vy)/|v| N, and 0 at rest.

        Parameters
        ----------
        vx : array_like
            Horizontal velocity in m/s (relative to the air).
        vy : array_like
            Vertical velocity in m/s, broadcastable with ``vx``.

        Returns
        -------
        fx : jax.Array
            Horizontal force in N, of the broadcast shape of ``vx`` and ``vy``.
        fy : jax.Array
            Vertical force in N, of the same shape.
        """
        speed = speed_of(vx, vy)
        moving = speed > 0
        per_speed = self.b / jnp.where(moving, speed, 1.0) + self.k + self.c * speed + self.d * speed**2
        per_speed = jnp.where(moving, per_speed, 0.0)
        return -per_speed * vx, -per_speed * vy
