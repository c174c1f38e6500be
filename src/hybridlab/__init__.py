"""hybridlab: hybrid scientific machine learning on the projectile.

Importing hybridlab switches JAX to float64 (``jax_enable_x64``): the physics and every
reference it is checked against are double precision, and float32 gives NaN gradients and
step-size blow-ups in long or stiff ODE solves.
"""

import jax

jax.config.update("jax_enable_x64", True)

from hybridlab.physics import LinearDrag, NoDrag, Projectile, QuadraticDrag, Wind  # noqa: E402

__all__ = ["LinearDrag", "NoDrag", "Projectile", "QuadraticDrag", "Wind"]
__version__ = "0.1.0"
