"""Maxwell, Bose and Fermi statistics: τ(f), the entropy density h(f) and the entropy variable.

PHYSICS.md §1 (entropy): h(f) = f log f − f (α = 0), h(f) = f log f − (1/α) τ log τ (α = ±1),
τ = 1 + α f, and the entropy variable η = h'(f) = log(f / τ). Its inverse, f = e^η / (1 − α e^η),
is how the structure-preserving collision forms evaluate f off the nodes: any real η gives a
physical f (positive; ≤ 1 for Fermi), except η ≥ 0 for Bose, which is clipped (condensation).
"""
from __future__ import annotations

import numpy as np

__all__ = ["tau", "entropy_density", "entropy_variable", "from_entropy_variable", "mobility"]

_BOSE_CAP = 1.0 - 1e-12   # largest e^η a Bose species may take off the nodes


def tau(f, alpha: int):
    """τ(f) = 1 + α f."""
    return 1.0 + alpha * f


def entropy_density(f, alpha: int):
    """h(f); 0 log 0 = 0."""
    f = np.asarray(f, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        flogf = np.where(f > 0, f * np.log(np.where(f > 0, f, 1.0)), 0.0)
        if alpha == 0:
            return flogf - f
        t = tau(f, alpha)
        tlogt = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0)
        return flogf - tlogt / alpha


def entropy_variable(f, alpha: int):
    """η = dh/df = log(f / τ(f)); requires f > 0 (and f < 1 for Fermi)."""
    f = np.asarray(f, dtype=float)
    return np.log(f) if alpha == 0 else np.log(f / tau(f, alpha))


def from_entropy_variable(eta, alpha: int):
    """f = e^η / (1 − α e^η), the inverse of :func:`entropy_variable`."""
    e = np.exp(eta)
    if alpha == 0:
        return e
    if alpha > 0:
        e = np.minimum(e, _BOSE_CAP)
    return e / (1.0 - alpha * e)


def mobility(eta, alpha: int):
    """f τ(f) = df/dη as a function of η: e^η / (1 − α e^η)²."""
    e = np.exp(eta)
    if alpha == 0:
        return e
    if alpha > 0:
        e = np.minimum(e, _BOSE_CAP)
    return e / (1.0 - alpha * e) ** 2
