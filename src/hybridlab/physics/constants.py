"""Physical constants as plain data, free of JAX (the command line's help prints them)."""

#: Gravitational acceleration (m/s²) of every projectile unless one is given: the lectures' value.
G = 9.81
#: Standard gravity (m/s², the CGPM's of 1901): where a fit of real measurements starts g
#: (``learn-drag``, the drops benchmark).
STANDARD_GRAVITY = 9.80665
