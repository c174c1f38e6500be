"""Work done in a second process beside this one: a run fits the rungs whose fit is mostly
compiling (:attr:`~hybridlab.models.Regressor.compiles_for_long`, a UDE: tens of seconds of
XLA on one core) there while it fits the others and aims with them here. Threads could not do
this: tracing is Python and holds the interpreter's lock (two rungs fitted in threads took
107.6 s where one after the other took 120.2 s; benchmarks/RESULTS.md).

The second process is started by ``spawn`` (a fresh interpreter: JAX's runtime does not survive
``fork``), inherits the environment (the compilation cache, XLA's flags, float64), ignores the
terminal's Ctrl-C (this process is stopped by it and stops the other) and sends back what
``target`` returns, or the one-line message of the ValueError it raised. It is ended whenever
this process stops waiting for it, so it never writes into a directory this process removed.
"""

from __future__ import annotations

import multiprocessing
import signal


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
        self._process.start()
        sender.close()

    def result(self):
        """What ``target`` returned.

        Raises
        ------
        ValueError
            With ``target``'s own message where it raised one; else naming how the second process ended.
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
        return value

    def close(self) -> None:
        """End the second process if it still runs, and wait for it."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._receiver.close()

    def __enter__(self) -> Apart:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _serve(sender, target, args) -> None:
    """The second process: ``target(*args)`` sent back as ("done", value) or ("error", message)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sender.send(("done", target(*args)))
    except ValueError as error:
        sender.send(("error", str(error)))
    except Exception as error:  # noqa: BLE001 - said in one line here, as the command line does
        sender.send(("error", f"{type(error).__name__}: {error}"))
    finally:
        sender.close()
