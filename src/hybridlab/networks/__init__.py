"""Networks and their training, below the rungs that use them: :class:`~.network.Network`
(an MLP as an Equinox module), the training loops (:mod:`.training`: Adam by chunks or
mini-batches, L-BFGS, Levenberg–Marquardt), progress meters (:mod:`.progress`) and the network
drag of the universal differential equations (:mod:`.drag`).

This room may import physics/; the rungs (models/) and the rooms above import it.
"""
