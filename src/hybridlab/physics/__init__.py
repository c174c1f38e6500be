"""The known science of the projectile: drag laws and exact, differentiable motion.

This room imports nothing else of hybridlab. Its names are imported on first use, so that
:mod:`hybridlab.physics.laws` (plain data: what the command line's help prints) can be read
without importing JAX.
"""

import importlib

#: Each public name and the module of this room that defines it.
_WHERE = {"DRAG_LAWS": "drag", "AbstractDrag": "drag", "Coefficient": "laws", "LinearDrag": "drag", "NoDrag": "drag",
          "PolynomialDrag": "drag", "Projectile": "projectile", "QuadraticDrag": "drag", "Wind": "wind"}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'hybridlab.physics' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hybridlab.physics.{_WHERE[name]}"), name)


def __dir__():
    return sorted([*globals(), *__all__])
