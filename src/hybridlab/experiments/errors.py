"""The one type of error a user can cause: within :func:`user_errors`, a check that fires inside
a compiled solve (an Equinox runtime error, or JAX's that wraps it) and a multi-line message
become a ``ValueError`` of one line, the cause. The command line then catches ``ValueError`` and
``OSError`` alone (besides its own usage errors) and imports nothing of JAX's to do it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hybridlab import stopping


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Within: JAX is imported (a signal meanwhile is raised once jaxlib is in: its import can
    crash on one), and the errors a user can cause leave as one line (see the module)."""
    with stopping.holding():
        from equinox import EquinoxRuntimeError
        from jax.errors import JaxRuntimeError
    from hybridlab.physics.validation import runtime_cause

    try:
        yield
    except (EquinoxRuntimeError, JaxRuntimeError) as error:
        raise ValueError(runtime_cause(error)) from error
    except (ValueError, OSError) as error:
        if runtime_cause(error) != str(error):  # several lines, or none (then its type's name)
            raise ValueError(runtime_cause(error)) from error
        raise
