"""The estimator room, below the rungs: the template every saved model keeps (:mod:`.base`:
``Estimator``, ``Calibrated``, the registries), the declared hyperparameter constraints
(:mod:`.params`) and the file format (:mod:`.files`: ``save``, ``load``, no pickle).

This room may import physics/, networks/ and uncertainty/; the rungs (models/) and every room
above them import it, and it imports none of them (``load`` imports the module a file names).
"""

from hybridlab.estimators.base import LOADABLE, REGISTRY, Calibrated, Estimator
from hybridlab.estimators.files import from_params, load, restore, save_new

__all__ = ["LOADABLE", "REGISTRY", "Calibrated", "Estimator", "from_params", "load", "restore", "save_new"]
