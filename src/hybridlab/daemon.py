"""A warm process that later commands hand their work to (as mypy's daemon and Julia's
DaemonMode do).

A fresh process pays for importing JAX and the libraries on it, for tracing and for XLA
compiling, every time: seconds, where the SciPy script a user would otherwise write answers in
a fraction of one. So a command (:data:`COMMANDS`) starts, once, a background process that has
those imports done, runs the command there, and later commands hand their work to the same
process, whose compiled programs are still in memory. What the user sees is the same: the
same output and files, exit status, one-line errors, and a stop (SIGINT, SIGTERM) forwarded to
it; the work is done in the command's working directory with its umask.

- Private: its socket lies in a directory of the user's (mode 0700, in ``$XDG_RUNTIME_DIR`` or
  the temporary directory), and it serves only its own user (``SO_PEERCRED``). Linux only.
- Never stale: its socket's name carries a key of the Python, the installed packages (the
  modification times of ``sys.path``'s directories), hybridlab's source files (names, sizes,
  modification times) and the environment variables that change a computation
  (:data:`_ENVIRONMENT`); a change gives another key, so another process.
- Optional: ``HYBRIDLAB_DAEMON=off`` runs every command in its own process. It runs one command
  at a time (another command meanwhile runs in its own process), ends after :data:`IDLE` s
  without work, after a stopped command or after :data:`MOST` commands, and its own output goes
  nowhere.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

#: The commands handed over: quick answers whose state ends with them (``run`` and ``sweep``
#: change the device and start workers; ``info`` describes this process).
COMMANDS = frozenset({"range", "aim", "trajectory", "simulate", "fit", "predict", "learn-drag", "drops", "solve",
                      "recover-wind"})
#: The switch: ``off`` runs every command in its own process.
SWITCH = "HYBRIDLAB_DAEMON"
#: Seconds without work after which the warm process ends.
IDLE = 900.0
#: Commands after which the warm process ends (and the next starts afresh): its memory holds
#: every program it compiled, one set per law and data shape.
MOST = 200
#: Seconds a command waits for a warm process it started to be ready (its imports take 2–5 s).
START = 60.0
#: Environment variables (by prefix) that change what a computation does or where it runs.
_ENVIRONMENT = ("JAX_", "XLA_", "EQX_", "HYBRIDLAB_", "CUDA_", "NVIDIA_", "TPU_", "OMP_", "MKL_", "OPENBLAS_",
                "PYTHON", "TQDM_", "MPL", "LD_", "TMPDIR")
#: A frame: its kind (a: command taken, o: stdout, e: stderr, x: exit status) and length.
_FRAME = struct.Struct("!cI")


def wanted(argv: list[str]) -> bool:
    """Whether ``argv`` is handed to a warm process: a command of :data:`COMMANDS` (not its
    help), on Linux, unless switched off."""
    if os.environ.get(SWITCH, "").strip().lower() == "off" or not sys.platform.startswith("linux"):
        return False
    return bool(argv) and argv[0] in COMMANDS and not {"-h", "--help"} & set(argv)


def key() -> str:
    """What the warm process must share with the command (see the module's docstring), hashed."""
    digest = hashlib.sha256()
    # Not sys.path[0]: the working directory under ``python -m`` (the warm process starts in its own).
    for part in (sys.executable, sys.version, *sys.path[1:]):
        digest.update(part.encode(errors="replace") + b"\0")
        with contextlib.suppress(OSError):
            digest.update(str(os.stat(part).st_mtime_ns).encode() if part else b"")
    package = os.path.dirname(os.path.abspath(__file__))
    for folder, _, names in sorted(os.walk(package)):
        for name in sorted(n for n in names if n.endswith(".py")):
            stat = os.stat(os.path.join(folder, name))
            digest.update(f"{folder}/{name}:{stat.st_size}:{stat.st_mtime_ns}\0".encode())
    for name in sorted(n for n in os.environ if n.startswith(_ENVIRONMENT)):
        digest.update(f"{name}={os.environ[name]}\0".encode(errors="replace"))
    return digest.hexdigest()[:20]


def _home() -> str | None:
    """The user's private directory for the socket, made if missing; None where it is not
    private (another owner, other permissions, a link)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = runtime if runtime and os.path.isdir(runtime) else tempfile.gettempdir()
    home = os.path.join(base, f"hybridlab-{os.getuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(home, 0o700)
    stat = os.lstat(home)
    private = stat.st_uid == os.getuid() and stat.st_mode & 0o777 == 0o700 and os.path.isdir(home)
    return home if private and not os.path.islink(home) else None


# --- the command's side -------------------------------------------------------------------------


def hand_over(argv: list[str]) -> int | None:
    """Run ``argv`` in the warm process (started if there is none): its exit status, or None
    where no warm process can take it (busy with another command, or failing to start), and the
    command runs in its own process."""
    home = _home()
    if home is None:
        return None
    address = os.path.join(home, f"{key()}.sock")
    if len(os.fsencode(address)) + len(".new") >= 104:  # beyond what a Unix socket's name may hold (104 on macOS)
        return None
    # Held while a command uses the warm process: one at a time, released if the command dies.
    using = open(address + ".using", "a")  # noqa: SIM115  (held until the process ends)
    try:
        fcntl.flock(using, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return None
    connection = _connect(address) or _start(address)
    if connection is None:
        return None
    return _converse(connection, argv)


def _connect(address: str) -> socket.socket | None:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(address)
    except OSError:
        connection.close()
        return None
    return connection


def _start(address: str) -> socket.socket | None:
    """Start the warm process for ``address`` and connect once it listens (None if it does
    not within :data:`START` s, or ends)."""
    with open(address + ".start", "a") as starting:
        fcntl.flock(starting, fcntl.LOCK_EX)  # one command starts it; another waits, then connects
        connection = _connect(address)
        if connection is not None:
            return connection
        with contextlib.suppress(FileNotFoundError):
            os.unlink(address)  # a socket left by a process that died
        process = subprocess.Popen([sys.executable, "-m", "hybridlab.daemon", address], cwd=os.path.dirname(address),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True, close_fds=True)
        deadline = time.monotonic() + START
        while time.monotonic() < deadline and process.poll() is None:
            connection = _connect(address)
            if connection is not None:
                return connection
            time.sleep(0.02)
        with contextlib.suppress(OSError):
            process.kill()
    return None


def _converse(connection: socket.socket, argv: list[str]) -> int | None:
    """Send the command; write what comes back to this process's stdout and stderr; forward
    SIGINT and SIGTERM; return the exit status (None: the warm process ended before taking
    the command, which then runs here)."""
    request = {"argv": argv, "cwd": os.getcwd(), "umask": _umask(),
               "tty": [sys.stdout.isatty(), sys.stderr.isatty()]}
    forwarded: list[int] = []

    def forward(number, frame):
        forwarded.append(number)
        with contextlib.suppress(OSError):
            connection.sendall(f"signal {number}\n".encode())

    previous = {number: signal.signal(number, forward) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        connection.sendall(json.dumps(request).encode() + b"\n")
        reader = connection.makefile("rb")
        taken = False
        while True:
            head = reader.read(_FRAME.size)
            if len(head) < _FRAME.size:
                return _ended(taken, forwarded)
            kind, length = _FRAME.unpack(head)
            payload = reader.read(length)
            taken |= kind == b"a"
            if kind == b"x":
                return int(payload)
            if kind == b"a":
                continue
            stream = sys.stdout if kind == b"o" else sys.stderr
            with contextlib.suppress(OSError, ValueError):  # a closed pipe downstream: the status still counts
                stream.buffer.write(payload)
                stream.flush()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        connection.close()


def _ended(taken: bool, forwarded: list[int]) -> int | None:
    """The exit status where the warm process ended without sending one: None (run the command
    here) if it ended before taking the command; after a stop, the stop's; else an error."""
    if not taken and not forwarded:
        return None
    if forwarded:
        from hybridlab.stopping import message

        os.write(2, (message(forwarded[0]) + "\n").encode())
        return 128 + forwarded[0]
    os.write(2, f"hybridlab: error: the warm process ended during the command; {SWITCH}=off runs it in its own "
                f"process\n".encode())
    return 1


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- the warm process's side --------------------------------------------------------------------


class _Stream(io.RawIOBase):
    """A standard stream of the command, sent to it as frames of ``kind``."""

    def __init__(self, connection: socket.socket, kind: bytes, tty: bool):
        self.connection, self.kind, self.tty = connection, kind, tty

    def writable(self):
        return True

    def isatty(self):
        return self.tty

    def write(self, data):
        self.connection.sendall(_FRAME.pack(self.kind, len(data)) + bytes(data))
        return len(data)


def _text(connection, kind, tty) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BufferedWriter(_Stream(connection, kind, tty)), encoding="utf-8",
                            line_buffering=True, write_through=True)


def serve(address: str) -> None:
    """Import what the commands need, listen on ``address`` and run the commands that come,
    one at a time, until :data:`IDLE` s pass without one, a command is stopped, or
    :data:`MOST` have run."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only a command's own stop (forwarded) concerns it
    from hybridlab import compilation, stopping

    compilation.configure()
    compilation.collect_less()
    import jax  # noqa: F401

    from hybridlab import cli
    from hybridlab.files import remove_unfinished

    stopping.watch(remove_unfinished)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(address + ".new")  # left by a process that died starting
    listener.bind(address + ".new")
    os.replace(address + ".new", address)  # it appears listening, or not at all
    listener.listen(4)
    listener.settimeout(IDLE)
    try:
        for _ in range(MOST):
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                return
            with connection:
                connection.settimeout(None)
                status = _run(connection, cli.main)
            if status in (130, 143):  # a stopped command: its clean-up may still hold the watchdog
                return
    finally:  # the name first: a command that finds none starts another; one already waiting gets no answer
        for leftover in (address, address + ".start", address + ".using"):
            with contextlib.suppress(OSError):
                os.unlink(leftover)
        listener.close()


def _run(connection: socket.socket, command) -> int | None:
    """Run the command that ``connection`` sends; send its output and exit status back."""
    uid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
    if uid != os.getuid():
        return None
    lines = connection.makefile("rb")
    request = json.loads(lines.readline())
    connection.sendall(_FRAME.pack(b"a", 0))  # taken: from now on the command is answered here
    running = threading.Event()
    running.set()

    def listen():  # a stop the command was sent is raised here, as if it had been sent here
        for line in lines:
            if running.is_set() and line.startswith(b"signal "):
                os.kill(os.getpid(), int(line.split()[1]))

    threading.Thread(target=listen, daemon=True).start()
    out, err = _text(connection, b"o", request["tty"][0]), _text(connection, b"e", request["tty"][1])
    here, mask = os.getcwd(), os.umask(request["umask"])
    try:
        os.chdir(request["cwd"])
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = _status(command, request["argv"])
    except OSError:  # the command's working directory went away, or it left: nothing to answer
        return None
    finally:
        running.clear()
        os.umask(mask)
        os.chdir(here)
    with contextlib.suppress(OSError):
        connection.sendall(_FRAME.pack(b"x", len(str(status))) + str(status).encode())
    return status


def _status(command, argv) -> int:
    """The exit status of ``command(argv)``, as its own process would end: a bug's traceback
    on stderr and 1."""
    try:
        return command(argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    except Exception:
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    serve(sys.argv[1])
    os._exit(0)  # without the interpreter's finalisers, which XLA's threads can crash (see stopping.leave)
