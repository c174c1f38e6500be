"""Networks that solve the equations of motion: physics-informed networks (forward and
inverse) and the Deep Ritz method, each beside the exact answer."""

from hybridlab.solvers import pinn, ritz
from hybridlab.solvers.exact import boundary_launch, relative_l2
from hybridlab.solvers.path import Solution

__all__ = ["Solution", "boundary_launch", "pinn", "relative_l2", "ritz"]
