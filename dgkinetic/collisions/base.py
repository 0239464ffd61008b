"""What every collision operator provides.

A collision operator is defined through its dissipative bracket (DESIGN.md, GENERIC structure):

    W_k dX_k/dt = ⟨Q_h(F), φ_k⟩ = −M_h(F)[η_h, φ_k],     η_h = log(f / τ(f)) at the nodes,

so collision invariants (which M_h annihilates) are conserved exactly, and the entropy
H = Σ W h(f) changes at the rate −M_h(F)[η_h, η_h] ≤ 0 exactly.
All arrays are blocks of rows: X has shape (n_rows, mixture.size), one row per space node.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from dgkinetic.errors import InputError
from dgkinetic.mixture import Mixture

__all__ = ["CollisionOperator", "WithoutBracket"]


class CollisionOperator(ABC):
    """What every collision operator is; a subclass missing a required method cannot be built.

    Required: :meth:`weak_form`, :meth:`dissipative_bracket` and :meth:`jacobian` (an operator
    without a Jacobian raises InputError there and sets :attr:`explicit_only`; one without a bracket
    raises there, see :class:`WithoutBracket`). Derived: :meth:`rhs`, :meth:`dissipation`.
    How a time stepper asks: :attr:`explicit_only` operators are stepped explicitly, or implicitly
    by matrix-free Newton–Krylov if they give :meth:`loss_frequency` (its preconditioner);
    :meth:`freeze_tails` is called at the start of every step. Optional: :meth:`loss_frequency`,
    :meth:`limited_work` (what a limiting mechanism dropped or changed; derived from it:
    :meth:`limited_fraction`).

    Attributes
    ----------
    mixture : Mixture
    explicit_only : bool
        True for operators without a Jacobian (explicit steppers, or matrix-free implicit ones given
        :meth:`loss_frequency`).
    tail_floor : float
        Fraction of a species' peak below which far-tail cells leave the collision sums
        (0: none; see the README — it biases the rates).
    """

    explicit_only: bool = False
    tail_floor: float = 0.0

    def __init__(self, mixture: Mixture):
        self.mixture = mixture

    # ------------------------------------------------------------ to implement
    @abstractmethod
    def weak_form(self, X: np.ndarray) -> np.ndarray:
        """⟨Q_h(F), φ_k⟩ for every node k: shape like X."""

    @abstractmethod
    def dissipative_bracket(self, X: np.ndarray, Xi: np.ndarray, Eta: np.ndarray) -> np.ndarray:
        """M_h(F)[ξ, η] per row (shape (n_rows,)); ξ, η nodal test functions shaped like X."""

    @abstractmethod
    def jacobian(self, X: np.ndarray) -> np.ndarray:
        """d rhs / dX per row: shape (n_rows, size, size)."""

    def freeze_tails(self, X: np.ndarray | None) -> None:
        """Freeze any state-dependent choice of the operator at X for a nonlinear solve (no-op here)."""

    def loss_frequency(self, X: np.ndarray) -> np.ndarray | None:
        """Optional: the collision frequency ν ≥ 0 of the loss term −ν f at the rows X (shaped like X),
        which preconditioners use (the steady solver's sweep); None (the default) if the operator
        does not give it."""
        return None

    def limited_work(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Optional: per row of X (rows (n_rows, size)), the collision work that a limiting mechanism of
        the operator (a tail floor, positive parts) dropped or changed and the total collision work it
        is measured against, two arrays of shape (n_rows,) ≥ 0 whose meaning each operator documents;
        None (the default) if the operator has no such mechanism or it is off.
        :meth:`limited_fraction` and the run's diagnostics (``collisions_limited_<index>``, sums over
        space) divide the two."""
        return None

    def limited_fraction(self, X: np.ndarray, weights: np.ndarray | None = None) -> float:
        """The fraction of the collision work of the rows X that the operator's limiting mechanism
        dropped or changed: Σ_r w_r limited_r / Σ_r w_r total_r from :meth:`limited_work`, w the
        ``weights`` of the rows (e.g. their space volumes; 1 by default). Exactly 0.0 for an operator
        without such a mechanism, with it off, or at a state without collision work."""
        parts = self.limited_work(np.atleast_2d(np.asarray(X, dtype=float)))
        if parts is None:
            return 0.0
        limited, total = (float(np.sum(p) if weights is None else np.asarray(weights, dtype=float) @ p)
                          for p in parts)
        return limited / total if total > 0 else 0.0

    # ------------------------------------------------------------ derived
    def rhs(self, X: np.ndarray) -> np.ndarray:
        """dX/dt from collisions alone: weak_form / W."""
        return self.weak_form(X) / self.mixture.weights

    def dissipation(self, X: np.ndarray) -> np.ndarray:
        """D(F) = M_h(F)[η_h, η_h] ≥ 0 per row: the collisional entropy production rate."""
        eta = self.mixture.entropy_variable(X)
        return self.dissipative_bracket(X, eta, eta)


class WithoutBracket:
    """Mixin for the non-structural variants, whose nodal :meth:`rhs` is the operator itself
    (collocation, spectral): no dissipative bracket, and the entropy production is −Σ W η rhs,
    whose sign is guaranteed only up to the discretisation error."""

    def weak_form(self, X: np.ndarray) -> np.ndarray:
        return self.rhs(X) * self.mixture.weights

    def dissipative_bracket(self, *args, **kwargs):
        raise InputError(f"{type(self).__name__} has no dissipative bracket (it is not a GENERIC form); "
                         "use Boltzmann for entropy budgets and brackets")

    def bracket_matrix(self, *args, **kwargs):
        self.dissipative_bracket()

    def dissipation(self, X: np.ndarray) -> np.ndarray:
        """The entropy production −Σ W η rhs of the rates (not a bracket)."""
        eta = self.mixture.entropy_variable(np.atleast_2d(X))
        return -np.sum(self.mixture.weights * eta * np.atleast_2d(self.rhs(X)), axis=-1)
