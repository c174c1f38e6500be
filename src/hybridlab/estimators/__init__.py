"""The estimator room, below the rungs: the template every saved model keeps (:mod:`.base`:
``Estimator``, ``WithInterval``, the registries), the declared hyperparameter constraints
(:mod:`.params`) and the file format (:mod:`.files`: ``save``, ``load``, no pickle).

This room may import physics/, networks/ and uncertainty/; the rungs (models/) and every room
above them import it, and it imports none of them (``load`` imports the module a file names).
"""

from hybridlab.estimators.base import LOADABLE, REGISTRY, Estimator, WithInterval
from hybridlab.estimators.files import from_params, load, restore, save_new

__all__ = ["LOADABLE", "REGISTRY", "Estimator", "WithInterval", "from_params", "load", "restore", "save_new"]
