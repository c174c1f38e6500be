"""A drag whose magnitude is a network of the speed, which can only take energy out of the
motion: the missing physics a universal differential equation learns (the UDE rung's and the
dynamics models')."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.networks.network import Network
from hybridlab.physics.drag import speed_of

#: The drag network's starting magnitude, as a fraction of g at every speed: small, so that
#: the first solves are near free flight, and not 0, where softplus has no gradient to speak of.
START = 0.05

#: The forms of a network drag's magnitude (see :class:`NetworkDrag`).
FORMS = ("softplus", "power")
#: Speeds below this (in units of V) enter the power form as this: log 0 is not a number, and
#: at rest the drag's direction, hence the force, is 0 whatever its magnitude.
_SLOWEST = 1e-12


class NetworkDrag(eqx.Module):
    """a(v) = −g · m(|v|/V) · v/|v| (0 at rest): a drag acceleration (m/s²) along −v̂ whose
    magnitude m ≥ 0, a network N of the speed in units of V (m/s), can only take energy out of
    the motion. ``form``: ``"softplus"``, m(u) = softplus(N(u)); ``"power"``, m(u) =
    u^p · exp(N(ln u)) — a power law times the network in log–log coordinates, which off the
    data continues (its softplus units turning linear) as a power law |a| ∝ |v|^p′, as every
    textbook drag law is. The ``exponent`` p (0 by default) is the power form's alone.

    Called on a velocity v (dim,) in m/s (dim 2: (v_x, v_y); dim 1: a vertical v), it returns the
    drag acceleration a(v) (dim,) in m/s².

    Attributes
    ----------
    network : Network
        N, of one input (u, or ln u in the power form) and one output.
    speed_scale : jax.Array
        The speed unit V in m/s.
    g : jax.Array
        Gravitational acceleration in m/s²: the unit of the magnitude.
    form : str
        ``"softplus"`` or ``"power"``.
    exponent : jax.Array or float
        The power form's p (dimensionless); 0 by default.
    """

    network: Network
    speed_scale: jax.Array
    g: jax.Array
    form: str = eqx.field(static=True, default="softplus")
    exponent: jax.Array | float = 0.0

    def magnitude(self, speed):
        """|a| (m/s²) at speeds (n,) in m/s.

        Parameters
        ----------
        speed : jax.Array
            Speeds |v| in m/s, shape (n,), ≥ 0.

        Returns
        -------
        magnitude : jax.Array
            |a| in m/s², shape (n,), ≥ 0.
        """
        u = speed / self.speed_scale
        if self.form == "power":
            log_u = jnp.log(jnp.maximum(u, _SLOWEST))
            return self.g * jnp.exp(self.exponent * log_u + self.network(log_u[:, None]))
        return self.g * jax.nn.softplus(self.network(u[:, None]))

    def __call__(self, v):
        speed = speed_of(v[0], v[-1]) if v.shape[0] == 2 else jnp.abs(v[0])
        moving = speed > 0
        direction = v / jnp.where(moving, speed, 1.0)
        return -self.magnitude(speed[None])[0] * jnp.where(moving, direction, 0.0)


def drag_network(widths, activation: str, key, form: str = "softplus") -> Network:
    """A network for :class:`NetworkDrag` of ``form`` that starts at |a| = START·g at every
    speed."""
    if form not in FORMS:
        raise ValueError(f"form = {form!r}: must be one of {FORMS}")
    network = Network(1, widths, activation, "default", key).zero_last()
    start = np.log(START) if form == "power" else np.log(np.expm1(START))
    return eqx.tree_at(lambda n: n.layers[-1].bias, network, jnp.full(1, start))
