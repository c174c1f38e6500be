"""The model ladder: regressors of an observable from launch conditions, one interface.

Rungs: NearestNeighbour (the data is the model), LinearRegression, MLP (black box),
BasisRegression (a sparse formula), PhysicsFit (grey box), Hybrid (physics prior + learned
correction). ``load(dir)`` reads any saved rung.
"""

from hybridlab.models.base import Regressor, load
from hybridlab.models.basis import BasisRegression
from hybridlab.models.hybrid import Hybrid
from hybridlab.models.linear import LinearRegression
from hybridlab.models.mlp import MLP
from hybridlab.models.nearest import NearestNeighbour
from hybridlab.models.physics_fit import PhysicsFit

#: Command-line names of the rungs.
RUNGS = {cls.name: cls for cls in (NearestNeighbour, LinearRegression, MLP, BasisRegression, PhysicsFit, Hybrid)}

__all__ = ["RUNGS", "BasisRegression", "Hybrid", "LinearRegression", "MLP", "NearestNeighbour", "PhysicsFit",
           "Regressor", "load"]
