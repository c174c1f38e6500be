"""hybridlab: hybrid scientific machine learning on the projectile.

Importing hybridlab switches JAX to float64 (``jax_enable_x64``): the physics and every
reference it is checked against are double precision, and float32 gives NaN gradients and
step-size blow-ups in long or stiff ODE solves. It does so without importing JAX (a second,
which ``hybridlab --help`` or a stopped command should not pay): through JAX's configuration
if JAX is already imported, else through ``JAX_ENABLE_X64``, which JAX reads when it is.
The physics (``hybridlab.Projectile`` …) is imported on first use.
"""

import os
import sys

if "jax" in sys.modules:
    sys.modules["jax"].config.update("jax_enable_x64", True)
else:
    os.environ["JAX_ENABLE_X64"] = "True"

__all__ = ["LinearDrag", "NoDrag", "Projectile", "QuadraticDrag", "Wind"]
__version__ = "0.1.0"


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module 'hybridlab' has no attribute {name!r}")
    from hybridlab import physics

    return getattr(physics, name)


def __dir__():
    return sorted([*globals(), *__all__])
