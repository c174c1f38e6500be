"""The model ladder: regressors of an observable from launch conditions, one interface.

Rungs: NearestNeighbour (the data is the model), LinearRegression, MLP (black box),
BasisRegression (a sparse formula), PhysicsFit (grey box), Hybrid (physics prior + learned
correction), UDERange (a network drag inside the equations of motion). ``load(dir)`` reads any saved rung; ``REGISTRY`` holds every rung by name.

Each rung's module is imported on first use (``rung(name)``, or reading its class): the rungs
bring Optax, Optimistix, Diffrax and SciPy's optimisers (1.5 s of a process's start), which a
command that fits or loads one physics fit never needs.
"""

import importlib

from hybridlab.estimators import Estimator, from_params, load
from hybridlab.networks.progress import QUIET, ProgressMeter, TqdmProgress

#: Each rung's registered name and its module of this room, in the ladder's order.
RUNGS = {"nearest": "nearest", "linear": "linear", "mlp": "mlp", "basis": "basis", "physics": "physics_fit",
         "hybrid": "hybrid", "ude": "ude_range"}
#: Each class this room exports and its module.
_WHERE = {"Regressor": "base", "NearestNeighbour": "nearest", "LinearRegression": "linear", "MLP": "mlp",
          "BasisRegression": "basis", "PhysicsFit": "physics_fit", "Hybrid": "hybrid", "UDERange": "ude_range"}

__all__ = ["QUIET", "REGISTRY", "BasisRegression", "Hybrid", "LinearRegression", "MLP", "NearestNeighbour",
           "PhysicsFit", "ProgressMeter", "Regressor", "Estimator", "TqdmProgress", "UDERange", "from_params",
           "load", "rung", "RUNGS"]


def rung(name: str) -> type:
    """The rung registered as ``name`` (a key of :data:`RUNGS`), its module imported; ValueError
    naming the choices for any other name."""
    if name not in RUNGS:
        raise ValueError(f"model = {name!r}: choose from {', '.join(RUNGS)}")
    from hybridlab.estimators import REGISTRY

    importlib.import_module(f"hybridlab.models.{RUNGS[name]}")
    return REGISTRY[name]


def __getattr__(name: str):
    if name == "REGISTRY":  # every rung, so every rung's module
        from hybridlab.estimators import REGISTRY

        for module in RUNGS.values():
            importlib.import_module(f"hybridlab.models.{module}")
        return REGISTRY
    if name not in _WHERE:
        raise AttributeError(f"module 'hybridlab.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hybridlab.models.{_WHERE[name]}"), name)


def __dir__():
    return sorted([*globals(), *__all__])
