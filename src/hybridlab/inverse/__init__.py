"""Inverse problems: how to launch to land at a target, exactly through the physics
(:func:`aim`, its conditioning :func:`aim_sensitivity`) and learned through a frozen decoder
(:class:`EncoderDecoder`); and which wind a tracked shot flew through (:mod:`.wind`:
:func:`wind_problem`, :func:`recover`), regularised (:mod:`.regularisation`: the solvers, the
paths of λ and the rules that choose it).

This room may import physics/, data/ and models/; nothing below it imports it.
"""

import importlib

#: Each public name and the module of this room that defines it: imported on first use, so that
#: a command that recovers a wind does not import the learned aims' rungs (models/).
_WHERE = {**dict.fromkeys(["Aim", "Hits", "aim", "aim_sensitivity", "reach"], "aiming"),
          **dict.fromkeys(["check_target", "speed_ceiling"], "targets"),
          **dict.fromkeys(["EncoderDecoder", "PhysicsDecoder", "evaluate_aim"], "learned"),
          **dict.fromkeys(["METHODS", "RULES", "LearnedRegulariser", "regularisation_path"],
                          "regularisation"),
          **dict.fromkeys(["Recovered", "WindProblem", "forward_map", "recover", "wind_problem"], "wind")}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'hybridlab.inverse' has no attribute {name!r}")
    return getattr(importlib.import_module(f"hybridlab.inverse.{_WHERE[name]}"), name)


def __dir__():
    return sorted([*globals(), *__all__])
