"""Neural operators from a function to a function: a horizontal wind profile w(t) to the
trajectory it bends (DeepONet, a 1-D Fourier neural operator, and a linear baseline), with the
data they learn from (Gaussian random-field winds, solved by the physics)."""

from hybridlab.operators.base import Operator
from hybridlab.operators.data import gaussian_profiles, wind_trajectories
from hybridlab.operators.deeponet import DeepONet
from hybridlab.operators.fno import FNO
from hybridlab.operators.linear import LinearOperator

__all__ = ["FNO", "DeepONet", "LinearOperator", "Operator", "gaussian_profiles", "wind_trajectories"]
