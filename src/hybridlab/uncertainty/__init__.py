"""Uncertainty below the rungs: predictive intervals (:mod:`.intervals`: the delta method, the
last-layer Laplace approximation, the jackknife) and the conditioning of a fit (:mod:`.diagnostics`:
standard errors, the Hessian's spectrum, restarts).

This room may import physics/; the rungs (models/) and the rooms above import it.
"""
