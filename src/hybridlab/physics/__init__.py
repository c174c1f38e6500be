"""The known science of the projectile: drag laws and exact, differentiable motion.

This room imports nothing else of hybridlab.
"""

from hybridlab.physics.drag import (DRAG_LAWS, AbstractDrag, Coefficient, LinearDrag, NoDrag, PolynomialDrag,
                                    QuadraticDrag)
from hybridlab.physics.projectile import Projectile
from hybridlab.physics.wind import Wind

__all__ = ["DRAG_LAWS", "AbstractDrag", "Coefficient", "LinearDrag", "NoDrag", "PolynomialDrag", "Projectile",
           "QuadraticDrag", "Wind"]
