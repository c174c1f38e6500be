"""Progress meters for long fits, injected into ``fit`` (as Diffrax injects its
``AbstractProgressMeter`` into a solve): the training loop reports, the caller chooses how
it is shown.

``meter.task(label, total)`` opens one task; its ``update(done)`` says how many of ``total``
steps are done and ``close()`` ends it. :data:`QUIET` shows nothing; :class:`TqdmProgress`
draws a tqdm bar on stderr, and only on a terminal (logs and pipes stay clean).
"""

from __future__ import annotations

import abc
import sys

from tqdm.auto import tqdm


class Task(abc.ABC):
    """One task of a progress meter."""

    @abc.abstractmethod
    def update(self, done: int) -> None:
        """``done`` steps of the task's total are done."""

    def close(self) -> None:
        """The task has ended (done or stopped early)."""


class ProgressMeter(abc.ABC):
    """Makes a :class:`Task` for each long step of a fit.

    A subclass implements :meth:`task`; ``fit(..., progress=meter)`` calls it once per long
    step (an optimiser's run of epochs) and reports to the task it returns.
    """

    @abc.abstractmethod
    def task(self, label: str, total: int) -> Task:
        """A task named ``label`` of ``total`` steps.

        Parameters
        ----------
        label : str
            What the task is, as shown (a model's key, an optimiser's name).
        total : int
            Number of steps (epochs) of the task.

        Returns
        -------
        task : Task
            Its ``update(done)`` reports how many of ``total`` steps are done; ``close()`` ends it.
        """


class _Silent(Task):
    def update(self, done: int) -> None:
        del done


class QuietProgress(ProgressMeter):
    """Shows nothing (the default; ``--quiet``; tests)."""

    def task(self, label: str, total: int) -> Task:
        return _Silent()


QUIET = QuietProgress()


class _TqdmTask(Task):
    def __init__(self, bar):
        self.bar = bar

    def update(self, done: int) -> None:
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class TqdmProgress(ProgressMeter):
    """A tqdm bar per task on ``stream`` (default stderr), drawn only when it is a terminal;
    the bar is removed when its task ends.

    Parameters
    ----------
    stream : file-like, optional
        Where the bars are drawn (not drawn unless its ``isatty()`` is true); None: ``sys.stderr`` at the time
        each task starts.
    """

    def __init__(self, stream=None):
        self.stream = stream

    def task(self, label: str, total: int) -> Task:
        """A tqdm bar named ``label`` of ``total`` epochs, on the stream if it is a terminal.

        Parameters
        ----------
        label : str
            The bar's description.
        total : int
            Number of steps (epochs) of the task.

        Returns
        -------
        task : Task
            Moves the bar to ``done`` steps on ``update(done)``; removes it on ``close()``.
        """
        stream = sys.stderr if self.stream is None else self.stream
        shown = getattr(stream, "isatty", lambda: False)()
        return _TqdmTask(tqdm(total=total, desc=f"  {label:<14}", file=stream, leave=False, disable=not shown,
                              unit="epoch", dynamic_ncols=True,
                              mininterval=0))  # updates come once per compiled chunk: draw each


class Labelled(ProgressMeter):
    """``meter`` with every task named ``label`` (a runner names tasks by its model's key)."""

    def __init__(self, meter: ProgressMeter, label: str):
        self.meter, self.label = meter, label

    def task(self, label: str, total: int) -> Task:
        return self.meter.task(self.label, total)
