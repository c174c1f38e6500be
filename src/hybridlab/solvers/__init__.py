"""Networks that solve the equations of motion: physics-informed networks (forward and
inverse) and the Deep Ritz method, each beside the exact answer."""

from hybridlab.solvers import pinn, ritz
from hybridlab.solvers.exact import boundary_launch, relative_l2
from hybridlab.solvers.trial import NetworkSolver
from hybridlab.solvers.pinn import PINN
from hybridlab.solvers.ritz import DeepRitz

__all__ = ["DeepRitz", "NetworkSolver", "PINN", "boundary_launch", "pinn", "relative_l2", "ritz"]
