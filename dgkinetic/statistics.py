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


def _xlogx(x):
    """x log x where x > 0, 0 elsewhere (0 log 0 = 0)."""
    return np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)


def _capped_exp(eta, alpha: int):
    """e^η, for a Bose species (α > 0) at most ``_BOSE_CAP`` (short of condensation)."""
    e = np.exp(eta)
    return np.minimum(e, _BOSE_CAP) if alpha > 0 else e


def entropy_density(f, alpha: int):
    """h(f); 0 log 0 = 0."""
    f = np.asarray(f, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if alpha == 0:
            return _xlogx(f) - f
        return _xlogx(f) - _xlogx(tau(f, alpha)) / alpha


def entropy_variable(f, alpha: int):
    """η = dh/df = log(f / τ(f)); requires f > 0 (and f < 1 for Fermi)."""
    f = np.asarray(f, dtype=float)
    return np.log(f) if alpha == 0 else np.log(f / tau(f, alpha))


def from_entropy_variable(eta, alpha: int):
    """f = e^η / (1 − α e^η), the inverse of :func:`entropy_variable`."""
    e = _capped_exp(eta, alpha)
    return e if alpha == 0 else e / (1.0 - alpha * e)


def mobility(eta, alpha: int):
    """f τ(f) = df/dη as a function of η: e^η / (1 − α e^η)²."""
    e = _capped_exp(eta, alpha)
    return e if alpha == 0 else e / (1.0 - alpha * e) ** 2
