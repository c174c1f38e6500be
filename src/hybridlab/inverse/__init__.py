"""The inverse problem: how to launch to land at a target, exactly through the physics
(:func:`aim`) and learned through a frozen decoder (:class:`EncoderDecoder`).

This room may import physics/, data/ and models/; nothing below it imports it.
"""

from hybridlab.inverse.aiming import Aim, Hits, aim, aim_sensitivity, reach
from hybridlab.inverse.learned import EncoderDecoder, PhysicsDecoder, evaluate_aim

__all__ = ["Aim", "EncoderDecoder", "Hits", "PhysicsDecoder", "aim", "aim_sensitivity", "evaluate_aim", "reach"]
