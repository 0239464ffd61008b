"""What every collision operator provides.

A collision operator is defined through its dissipative bracket (DESIGN.md, GENERIC structure):

    W_k dX_k/dt = ⟨Q_h(F), φ_k⟩ = −M_h(F)[η_h, φ_k],     η_h = log(f / τ(f)) at the nodes,

so collision invariants (which M_h annihilates) are conserved exactly, and the entropy
H = Σ W h(f) changes at the rate −M_h(F)[η_h, η_h] ≤ 0 exactly.
All arrays are blocks of rows: X has shape (n_rows, mixture.size), one row per space node.
"""
from __future__ import annotations

import numpy as np

from dgkinetic.mixture import Mixture

__all__ = ["CollisionOperator"]


class CollisionOperator:
    """Base class: subclasses implement :meth:`weak_form`, :meth:`dissipative_bracket`, :meth:`jacobian`."""

    def __init__(self, mixture: Mixture):
        self.mixture = mixture

    # ------------------------------------------------------------ to implement
    def weak_form(self, X: np.ndarray) -> np.ndarray:
        """⟨Q_h(F), φ_k⟩ for every node k: shape like X."""
        raise NotImplementedError

    def dissipative_bracket(self, X: np.ndarray, Xi: np.ndarray, Eta: np.ndarray) -> np.ndarray:
        """M_h(F)[ξ, η] per row (shape (n_rows,)); ξ, η nodal test functions shaped like X."""
        raise NotImplementedError

    def jacobian(self, X: np.ndarray) -> np.ndarray:
        """d rhs / dX per row: shape (n_rows, size, size)."""
        raise NotImplementedError

    def freeze_tails(self, X: np.ndarray | None) -> None:
        """Freeze any state-dependent choice of the operator at X for a nonlinear solve (no-op here)."""

    # ------------------------------------------------------------ derived
    def rhs(self, X: np.ndarray) -> np.ndarray:
        """dX/dt from collisions alone: weak_form / W."""
        return self.weak_form(X) / self.mixture.weights

    def dissipation(self, X: np.ndarray) -> np.ndarray:
        """D(F) = M_h(F)[η_h, η_h] ≥ 0 per row: the collisional entropy production rate."""
        eta = self.mixture.entropy_variable(X)
        return self.dissipative_bracket(X, eta, eta)
