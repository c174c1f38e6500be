"""Forecasting a track from its past, from data alone: the echo state network
(:class:`EchoStateNetwork`, :mod:`.esn`), the LSTM (:class:`LSTM`, :mod:`.lstm`), on the
forecaster contract of :mod:`.base` (evenly spaced tracks, a warm-up and a free run, an
empirical interval by horizon); and the constant-acceleration baseline
(:func:`constant_acceleration`, :mod:`.kinematics`).

This room may import physics/, data/, estimators/ and networks/; experiments/ imports it.
"""

from hybridlab.forecasting.esn import EchoStateNetwork
from hybridlab.forecasting.kinematics import constant_acceleration
from hybridlab.forecasting.lstm import LSTM

__all__ = ["LSTM", "EchoStateNetwork", "constant_acceleration"]
