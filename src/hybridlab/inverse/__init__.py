"""Inverse problems: how to launch to land at a target, exactly through the physics
(:func:`aim`, its conditioning :func:`aim_sensitivity`) and learned through a frozen decoder
(:class:`EncoderDecoder`); and which wind a tracked shot flew through (:mod:`.wind`:
:func:`wind_problem`, :func:`recover`), regularised.

This room may import physics/, data/ and models/; nothing below it imports it.
"""

from hybridlab.inverse.aiming import Aim, Hits, aim, aim_sensitivity, reach
from hybridlab.inverse.learned import EncoderDecoder, PhysicsDecoder, evaluate_aim
from hybridlab.inverse.wind import (METHODS, LearnedRegulariser, Recovered, WindProblem, forward_map,
                                    learn_regulariser, recover, regularisation_path, wind_problem)

__all__ = ["METHODS", "Aim", "EncoderDecoder", "Hits", "LearnedRegulariser", "PhysicsDecoder", "Recovered",
           "WindProblem", "aim", "aim_sensitivity", "evaluate_aim", "forward_map", "learn_regulariser", "reach",
           "recover", "regularisation_path", "wind_problem"]
