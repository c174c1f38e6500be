"""The ``hybridlab`` command (and ``python -m hybridlab``) as a process: signals are caught
before anything heavy is imported, a quick command is handed to the warm process
(:mod:`hybridlab.daemon`), and the process ends without the interpreter's finalisers when a
command failed or was stopped (see :mod:`hybridlab.stopping`)."""

import sys

from hybridlab import compilation, daemon, stopping


def main() -> None:
    compilation.configure()  # before JAX's import, which reads it
    compilation.collect_less()
    with stopping.catching():
        try:
            if daemon.wanted(sys.argv[1:]):
                status = daemon.hand_over(sys.argv[1:])
                if status is not None:
                    stopping.leave(status)
            with stopping.holding():  # a signal now is raised once NumPy's native library is in
                from hybridlab.files import remove_unfinished

                stopping.watch(remove_unfinished)
                from hybridlab.cli import main as command  # (JAX is imported once a command needs it)
            status = command(sys.argv[1:])
        except stopping.Stopped as stop:  # before the command's own handling began (imports)
            stopping.leave(128 + stop.number, stopping.message(stop.number))
        number = stopping.taken()
        if number is not None and status != 128 + number:  # a stop the command lost (see stopping.taken)
            stopping.leave(128 + number, stopping.message(number))
        if status:
            stopping.leave(status)
    sys.exit(status)


if __name__ == "__main__":
    main()
