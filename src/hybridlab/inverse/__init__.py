"""The inverse problem: how to launch to land at a target (exactly, through the physics).

This room may import physics/, data/ and models/; nothing below it imports it.
"""

from hybridlab.inverse.aiming import Aim, Hits, aim, reach

__all__ = ["Aim", "Hits", "aim", "reach"]
