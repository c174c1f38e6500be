"""A horizontal wind: constant, or a time profile sampled on a uniform grid.

Drag acts on the velocity relative to the air, v − (w(t), 0): a projectile at rest in a wind
of w m/s feels the drag of one moving at −w m/s through still air. The wind is along +x (the
direction of the shot): w > 0 is a tailwind, w < 0 a headwind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from hybridlab.physics.validation import as_float, check, is_traced, parameter


class Wind(eqx.Module):
    """w(t) (m/s): the ``samples`` w_j taken at t_j = T·j/(n − 1), j = 0 … n − 1, over
    [0, T] (T = ``duration``, s), linear between samples and held at w_{n−1} past T (at w_0
    before 0). One sample is a constant wind (its duration is not used).

    The samples are a PyTree leaf: the motion is differentiable with respect to every one of
    them (the Jacobian of a track with respect to the wind, for an inverse problem).

    Parameters
    ----------
    samples : array_like
        Wind speeds w_j in m/s along +x: a number or shape (n,), n ≥ 1, finite.
    duration : float, optional
        T in s over which the samples are spread: needed (finite, > 0) for n > 1; for one sample, unused
        (finite, ≥ 0, default 0).

    Raises
    ------
    ValueError
        If ``samples`` is not real, not 0-D or 1-D, empty or not finite, or ``duration`` is missing or out of
        its bounds.
    """

    samples: jax.Array
    duration: jax.Array

    def __init__(self, samples, duration=None):
        samples = as_float("wind", samples)
        if not is_traced(samples) and samples.ndim > 1:
            raise ValueError(f"wind must be a number or a 1-D sequence of samples, got shape {samples.shape}")
        samples = jnp.atleast_1d(samples)
        if samples.shape[0] == 0:
            raise ValueError("wind must hold at least one sample, got none")
        self.samples = check("wind", samples, lambda xp, w: ~xp.isfinite(w), "finite (m/s)")
        if samples.shape[0] == 1:
            self.duration = jnp.asarray(0.0 if duration is None else parameter("duration", duration, positive=False))
        elif duration is None:
            raise ValueError(f"duration is needed for a wind profile of {samples.shape[0]} samples: "
                             "the time (s) over which they are spread")
        else:
            self.duration = parameter("duration", duration, positive=True)

    @property
    def constant(self) -> bool:
        """One sample: the same wind at every time (known when the motion is traced).

        Returns
        -------
        constant : bool
            Whether there is one sample.
        """
        return self.samples.shape[0] == 1

    def __call__(self, t):
        """w(t) in m/s at times t (s), any shape."""
        if self.constant:
            return jnp.broadcast_to(self.samples[0], jnp.shape(t))
        grid = jnp.linspace(0.0, 1.0, self.samples.shape[0]) * self.duration
        return jnp.interp(t, grid, self.samples)

    def fastest(self) -> jax.Array:
        """max |w| (m/s) over all times.

        Returns
        -------
        speed : jax.Array
            The largest |w_j| in m/s, a scalar.
        """
        return jnp.max(jnp.abs(self.samples))

    def to_spec(self) -> float | dict[str, Any]:
        """A number (constant wind) or ``{"samples": [m/s, …], "duration": s}``.

        Returns
        -------
        spec : float or dict
            The wind in m/s, or its samples (m/s) and duration (s).
        """
        if self.constant:
            return float(self.samples[0])
        return {"samples": np.asarray(self.samples).tolist(), "duration": float(self.duration)}

    @classmethod
    def from_spec(cls, spec) -> Wind:
        """The wind a spec describes (see :meth:`to_spec`).

        Parameters
        ----------
        spec : float or array_like or Mapping
            A number (m/s), samples (m/s), or ``{"samples": [m/s, …], "duration": s}``.

        Returns
        -------
        wind : Wind
            The wind the spec describes.

        Raises
        ------
        ValueError
            If a mapping has other keys or no ``"samples"``, or the values are invalid (see ``Wind``).
        """
        if isinstance(spec, Mapping):
            extra = sorted(set(spec) - {"samples", "duration"})
            if extra or "samples" not in spec:
                raise ValueError(f"wind = {dict(spec)!r}: must be a number (m/s) or "
                                 "{'samples': [m/s, ...], 'duration': s}")
            return cls(spec["samples"], spec.get("duration"))
        return cls(spec)

    def label(self) -> str:
        """In words, e.g. ``wind 3 m/s`` or ``wind profile of 64 samples over 2.5 s``.

        Returns
        -------
        label : str
            The wind in words.
        """
        if self.constant:
            return f"wind {float(self.samples[0]):g} m/s"
        return f"wind profile of {self.samples.shape[0]} samples over {float(self.duration):g} s"


__all__ = ["Wind"]
