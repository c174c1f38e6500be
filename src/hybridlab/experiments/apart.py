"""Work done in a second process beside this one: a run fits the rungs whose fit is mostly
compiling (:attr:`~hybridlab.models.Regressor.compiles_for_long`, a UDE: tens of seconds of
XLA on one core) there while it fits the others and aims with them here. Threads could not do
this: tracing is Python and holds the interpreter's lock (two rungs fitted in threads took
107.6 s where one after the other took 120.2 s; benchmarks/RESULTS.md).

The second process is started by ``spawn`` (a fresh interpreter: JAX's runtime does not survive
``fork``), inherits the environment (the compilation cache, XLA's flags, float64) and sends back
what ``target`` returns, or the one-line message of the ValueError it raised (any other
exception comes back as a RuntimeError with its traceback: a defect, not a user's error). It
never outlives this process nor writes into a directory this process removed:

- it is ended whenever this process stops waiting for it (:meth:`Apart.close`, a ``with`` block);
- it ends itself as soon as this process has ended, however (a watcher thread on its parent);
- the stop watchdog (:mod:`hybridlab.stopping`) kills it before removing unfinished output;
- the terminal's Ctrl-C, which reaches the whole process group, is blocked in it from its start:
  this process is stopped by it, and stops the other.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import traceback

from hybridlab import stopping


class Apart:
    """``target(*args)`` running in a second process from construction on; :meth:`result`
    waits for it. A ``with`` block ends the process however the block is left.

    Parameters
    ----------
    target : callable
        A module-level function (the second process imports it by name).
    *args
        Its arguments: NumPy arrays, numbers, strings, lists and dicts of them.
    """

    def __init__(self, target, *args):
        context = multiprocessing.get_context("spawn")
        self._receiver, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, args=(sender, target, args), daemon=True)
        # Blocked across the start, the mask is inherited: a Ctrl-C while the second process
        # imports (seconds) would otherwise print its traceback.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._process.start()
        except BaseException:
            self._receiver.close()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            sender.close()
        stopping.adopt(self._process.pid)

    def result(self):
        """What ``target`` returned.

        Raises
        ------
        ValueError
            With ``target``'s own message where it raised one; else naming how the second process ended.
        RuntimeError
            Where ``target`` raised another exception (its traceback in the message).
        """
        try:
            kind, value = self._receiver.recv()
        except EOFError:  # it ended without a word: a crash, or a signal
            self._process.join()
            raise ValueError(f"the second process ended without a result (exit status {self._process.exitcode})") \
                from None
        self._process.join()
        if kind == "error":
            raise ValueError(value)
        if kind == "defect":
            raise RuntimeError(f"in the second process:\n{value}")
        return value

    def close(self) -> None:
        """End the second process if it still runs, and wait for it."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        stopping.disown(self._process.pid)
        self._receiver.close()

    def __enter__(self) -> Apart:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(sender, target, args) -> None:
    """The second process: ``target(*args)`` sent back as ("done", value), ("error", message) or
    ("defect", traceback); then it ends without the interpreter's finalisers (XLA's threads)."""
    parent = multiprocessing.parent_process()
    threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True).start()
    try:
        sender.send(("done", target(*args)))
    except ValueError as error:
        sender.send(("error", str(error)))
    except Exception:  # noqa: BLE001 - a defect: its traceback goes to this process's caller
        sender.send(("defect", traceback.format_exc()))
    finally:
        sender.close()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(0)


def _end_with(sentinel) -> None:
    """End this process once the one whose ``sentinel`` it is has ended (killed, or ended
    without closing its second process)."""
    multiprocessing.connection.wait([sentinel])
    os._exit(1)
