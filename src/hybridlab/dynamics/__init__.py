"""Learning inside the equations of motion from trajectories: the grey-box ``TrajectoryFit``,
the universal differential equation ``UDE`` (a network drag inside Newton's law), the black-box
``NeuralODE``, and ``discover_drag``, which reads a law back out of a UDE's learned force."""

from hybridlab.dynamics import motion
from hybridlab.dynamics.base import Dynamics
from hybridlab.dynamics.discovery import Discovery, discover_drag
from hybridlab.dynamics.learned import UDE, NetworkDrag, NetworkField, NeuralODE
from hybridlab.dynamics.trajectory_fit import TrajectoryFit

__all__ = ["Discovery", "Dynamics", "NetworkDrag", "NetworkField", "NeuralODE", "TrajectoryFit", "UDE", "discover_drag",
           "motion"]
