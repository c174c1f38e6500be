"""Learning inside the equations of motion from trajectories: the grey-box ``TrajectoryFit``
and the universal differential equation ``UDE`` (a network drag inside Newton's law)."""

from hybridlab.dynamics import motion
from hybridlab.dynamics.base import Dynamics
from hybridlab.dynamics.trajectory_fit import TrajectoryFit
from hybridlab.dynamics.ude import UDE, NetworkDrag

__all__ = ["Dynamics", "NetworkDrag", "TrajectoryFit", "UDE", "motion"]
