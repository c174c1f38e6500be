"""Models linear in their coefficients (the linear and basis rungs): their loss and formula."""

from __future__ import annotations

import jax.numpy as jnp


def standardised_loss(w, data):
    """mean((Zw − y)²)/var(y): the least-squares loss in units of the output's variance
    (var(y) taken as 1 for a constant output, which has no variance to be a unit)."""
    Z, y = data
    variance = jnp.var(y)
    return jnp.mean((Z @ w - y) ** 2) / jnp.where(variance > 0, variance, 1.0)


def format_formula(coefficients, names, digits: int = 6) -> str:
    """``c1*t1 + c2*t2 - …`` as Python (the term "1" is written as the bare constant)."""
    parts = []
    for c, name in zip(coefficients, names):
        magnitude = f"{abs(c):.{digits}g}" + ("" if name == "1" else f"*{name}")
        parts.append(("- " if c < 0 else "+ ") + magnitude)
    text = " ".join(parts) if parts else "+ 0"
    return text[2:] if text.startswith("+ ") else "-" + text[2:]
