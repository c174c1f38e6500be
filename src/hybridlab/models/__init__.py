"""The model ladder: regressors of an observable from launch conditions, one interface.

Rungs: NearestNeighbour (the data is the model), LinearRegression, MLP (black box),
BasisRegression (a sparse formula), PhysicsFit (grey box), Hybrid (physics prior + learned
correction), UDERange (a network drag inside the equations of motion). ``load(dir)`` reads any saved rung; ``REGISTRY`` holds every rung by name.
"""

from hybridlab.estimators import REGISTRY, Estimator, from_params, load
from hybridlab.models.base import Regressor
from hybridlab.models.basis import BasisRegression
from hybridlab.models.hybrid import Hybrid
from hybridlab.models.linear import LinearRegression
from hybridlab.models.mlp import MLP
from hybridlab.models.nearest import NearestNeighbour
from hybridlab.models.physics_fit import PhysicsFit
from hybridlab.models.ude_range import UDERange
from hybridlab.networks.progress import QUIET, ProgressMeter, TqdmProgress

__all__ = ["QUIET", "REGISTRY", "BasisRegression", "Hybrid", "LinearRegression", "MLP", "NearestNeighbour",
           "PhysicsFit", "ProgressMeter", "Regressor", "Estimator", "TqdmProgress", "UDERange", "from_params",
           "load"]
