"""Learning inside the equations of motion from trajectories: the grey-box ``TrajectoryFit``,
the universal differential equation ``UDE`` (a network drag inside Newton's law), the black-box
``NeuralODE``, ``discover_drag``, which reads a law back out of a UDE's learned force, and
``learn_drag``, the workflow that chooses among them."""

from hybridlab.dynamics import motion
from hybridlab.dynamics.base import Dynamics
from hybridlab.dynamics.discovery import Discovery, discover_drag
from hybridlab.dynamics.learned import UDE, NetworkDrag, NetworkField, NeuralODE
from hybridlab.dynamics.learning import LearnedDrag, learn_drag
from hybridlab.dynamics.trajectory_fit import TrajectoryFit

__all__ = ["Discovery", "Dynamics", "LearnedDrag", "NetworkDrag", "NetworkField", "NeuralODE", "TrajectoryFit", "UDE", "discover_drag",
           "learn_drag", "motion"]
