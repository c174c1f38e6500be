"""Stopping on SIGINT or SIGTERM: one line on stderr, status 128 + the signal's number
(130, 143), nothing half-written, no traceback, at any moment of a command.

Python runs a signal handler in the main thread between two bytecodes. :func:`catching` makes
that handler raise :class:`Stopped`, so every writer on the way out removes its temporary file
or directory (they clean up on any exception). Two moments escape it, and :func:`watch` covers
them for a whole process (the ``hybridlab`` command):

- the main thread inside one long native call (an XLA program, a solver, a large allocation)
  takes the signal only when the call returns: a watchdog thread, woken by the signal itself
  through :func:`signal.set_wakeup_fd`, waits ``GRACE`` seconds for the main thread to take
  it (and, once taken, ``CLEANUP`` seconds for its clean-up), then removes the unfinished output (:func:`hybridlab.files.remove_unfinished`), prints the line and
  ends the process;
- the interpreter's own exit after a stop can crash in native libraries whose threads are still
  busy (XLA's, Arrow's: SIGSEGV or SIGABRT): :func:`leave` ends the process without it.

Only the standard library is imported here, so the command installs this before anything heavy
(importing JAX takes a second, and a Ctrl-C then must not print a traceback from inside it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator

#: Seconds the watchdog gives the main thread to take a signal before it ends the process.
GRACE = 3.0
#: Seconds it then gives the main thread's clean-up (a sweep waits up to 60 s for its tasks).
CLEANUP = 120.0
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: Set when the main thread has taken a signal (its handler ran); the signal's number.
_taken = threading.Event()
_number: list[int] = []
#: A signal held while native libraries are imported (see :func:`holding`).
_held: list[int] = []
#: Processes this one started that write its output (their pids, :func:`adopt`): the watchdog
#: kills them before it removes the unfinished output, so none writes into it afterwards.
_children: set[int] = set()


class Stopped(BaseException):
    """SIGINT or SIGTERM arrived: raised in the main thread (a ``BaseException``, so that no
    ``except Exception`` of a library swallows it)."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


def message(number: int) -> str:
    """The one line a stopped command prints."""
    return f"hybridlab: stopped by {signal.Signals(number).name}; unfinished output removed"


def _stop(number, frame):
    _number.append(number)
    _taken.set()
    # Once stopping, a second signal must not interrupt the clean-up. It is taken and dropped
    # by a handler that does nothing: with SIG_IGN, one already on its way would make Python
    # raise "OSError: Signal 15 ignored due to race condition" wherever the clean-up is.
    for other in _SIGNALS:
        signal.signal(other, _drop)
    raise Stopped(number)


def _drop(number, frame):
    """A signal after the first: the command is already stopping."""


def _redeliver(hook):
    """A ``sys.unraisablehook`` that delivers a swallowed :class:`Stopped` again."""
    def unraisable(info):
        if not isinstance(info.exc_value, Stopped):
            return hook(info)
        # Python swallows an exception raised in a garbage-collection callback (JAX frees its
        # buffers from one) or a finaliser. The signal is sent again a moment later, from
        # another thread, so that it lands after this hook has returned: in the main thread's
        # ordinary code, or in another such callback (swallowed and sent again).
        # A second signal may land in this hook: its Stopped would be swallowed with the hook,
        # so the first is sent again all the same.
        while True:
            try:
                for other in _SIGNALS:
                    signal.signal(other, _stop)
                threading.Timer(0.01, os.kill, (os.getpid(), info.exc_value.number)).start()
                return None
            except Stopped:
                continue
    return unraisable


def taken() -> int | None:
    """The number of the first signal the main thread took, or None: once one was, a command
    ends as stopped whatever else happened (an exception raised in a native library's callback
    comes back as that library's error, or not at all)."""
    return _number[0] if _number else None


def _hold(number, frame):
    if not _held:
        _held.append(number)


@contextlib.contextmanager
def holding() -> Iterator[None]:
    """Within (from the main thread): SIGINT and SIGTERM are held, not raised, and raised as
    :class:`Stopped` on the way out. For importing native libraries: an exception raised inside
    one's import can crash it (jaxlib's nanobind turns it into a C++ ``terminate``). Python
    lets only the main thread set handlers: from another thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _hold) for number in _SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if _held:
        _number.append(_held[0])
        _taken.set()
        raise Stopped(_held[0])


@contextlib.contextmanager
def catching() -> Iterator[None]:
    """Within: SIGINT and SIGTERM raise :class:`Stopped` in the main thread (and one swallowed
    by a callback is delivered again); the previous handlers are restored on the way out.
    Python lets only the main thread set handlers: from another thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _number.clear()  # (a process may run several commands: tests call cli.main)
    _taken.clear()
    previous = {number: signal.signal(number, _stop) for number in _SIGNALS}
    hook = sys.unraisablehook
    sys.unraisablehook = _redeliver(hook)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        sys.unraisablehook = hook


def watch(remove_unfinished) -> None:
    """Start the watchdog of a whole process (call from the main thread, once): after a signal
    that the main thread has not taken within :data:`GRACE` s (or whose clean-up has not ended
    the process within :data:`CLEANUP` s more), call ``remove_unfinished()``, print the line and
    end the process with 128 + the signal's number."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)

    def run():
        number = os.read(read, 1)[0]
        if _taken.wait(GRACE):
            time.sleep(CLEANUP)
        for pid in list(_children):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        remove_unfinished()
        leave(128 + number, message(number))

    threading.Thread(target=run, name="hybridlab-stop-watchdog", daemon=True).start()


def adopt(pid: int) -> None:
    """Kill process ``pid`` (a child writing this process's output) before the watchdog's
    clean-up, should it come to that; :func:`disown` once it has ended."""
    _children.add(pid)


def disown(pid: int) -> None:
    """The child ``pid`` has ended (see :func:`adopt`)."""
    _children.discard(pid)


def leave(status: int, line: str | None = None) -> None:
    """End the process now with ``status`` (after printing ``line`` on stderr and flushing the
    standard streams), without the interpreter's finalisers: native threads still at work at
    exit (XLA's, Arrow's) can crash it otherwise."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if line is not None:
        with contextlib.suppress(OSError):
            os.write(2, (line + "\n").encode())
    os._exit(status)
