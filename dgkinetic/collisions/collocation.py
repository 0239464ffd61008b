"""A high-order, non-structural variant of the Boltzmann operator: nodal collocation of gain − loss.

:class:`~dgkinetic.collisions.boltzmann.Boltzmann` tests the collision integral with the velocity
basis at the post-collision velocities. That gives exact conservation and an exact H-theorem, but its
*nodal* values converge only at first order: the basis functions jump where v' crosses a cell
boundary. :class:`CollocationBoltzmann` evaluates instead, at every node, the strong form over the
same discrete collisions (same tables, kernel, sphere rule and post-collision velocities),

    Q_i(v_k) ≈ Σ_j Σ_l Σ_s W_l ω_s B_ij (f_i' f_j*' τ_i τ_j* − f_i f_j* τ_i' τ_j*'),

with the off-node values f(v') = f(η_h(v')) from the interpolated entropy variable (positive). Its
integrand is smooth in (v*, σ) up to the interpolation error, so nodal values converge at high order
(tests/test_collocation.py, bench/bench_boltzmann.py). The discrete sums do not cancel on the
invariants, so conservation is restored afterwards by the f-weighted projection

    r ↦ P r = r − f ⊙ Ψ λ,   (Ψᵀ diag(W f) Ψ) λ = Ψᵀ W r,

Ψ the invariants (per-species number, m v, m|v|²/2): Σ W ψ P r = 0 to round-off for every invariant,
and the correction is a local Maxwellian-like multiple of f (it vanishes with f in the tails and is
as small as the conservation defect, itself of high order).

What it does not have: a dissipative bracket. The H-theorem is not exact (only up to the
discretisation error), equilibria are fixed points only approximately, and GENERIC diagnostics
(entropy budgets) need :class:`~dgkinetic.collisions.boltzmann.Boltzmann`. What it adds besides
accuracy: the gain is positive and the loss is f ν, so forward Euler keeps f > 0 for Δt ν < 1 and
explicit SSP Runge–Kutta runs work down into the far tails.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from dgkinetic.collisions.base import WithoutBracket
from dgkinetic.collisions.boltzmann import Boltzmann, _Chunk

__all__ = ["CollocationBoltzmann", "restore_conservation"]


def _gram(mixture, X: np.ndarray) -> np.ndarray:
    """Ψᵀ diag(W f) Ψ per row of X: the normal matrix of the f-weighted projection."""
    Psi = mixture.invariants
    return np.einsum("ka,rk,kb->rab", Psi, mixture.weights * X, Psi)


def restore_conservation(mixture, X: np.ndarray, R: np.ndarray):
    """The f-weighted projection P of rates R (rows) onto Σ W ψ R = 0 for every invariant ψ of the
    mixture, at states X (rows, positive). Returns (P R, q) with P R = R − X ⊙ q, q = Ψ λ per row."""
    Psi = mixture.invariants                                   # (size, n_inv)
    W = mixture.weights
    lam = np.linalg.solve(_gram(mixture, X), ((R * W) @ Psi)[..., None])[..., 0]  # (rows, n_inv)
    q = lam @ Psi.T
    return R - X * q, q


class CollocationBoltzmann(WithoutBracket, Boltzmann):
    """Nodal collocation of the Boltzmann gain − loss with conservation restored (module docstring).

    Takes the same parameters as :class:`~dgkinetic.collisions.boltzmann.Boltzmann` and shares its
    cached collision tables. :meth:`rhs` and its exact :meth:`jacobian` are the variant;
    :meth:`dissipative_bracket` and :meth:`bracket_matrix` raise (there is no bracket). A tail floor
    drops the same collisions from the collocated sums, so :meth:`limited_work` is the parent's."""

    @staticmethod
    def _scatter(ch: _Chunk) -> sp.csr_matrix:
        # each collision seen from its two pre-collision nodes: 2 c_t / W_k = W_partner ω_s B
        return 2.0 * ch.Ikl.T.tocsr()

    def _collocated(self, X2: np.ndarray) -> np.ndarray:
        """W ⊙ (gain − loss) at the nodes, before the conservation projection: (rows, size)."""
        etaT = np.ascontiguousarray(self._entropy_variable(X2).T)
        out = np.zeros_like(etaT)
        for table, ch in self._chunks(self._chunk_length(etaT.shape[1])):
            st = self._collision_values(etaT, table, ch)[0]
            out += ch.Ikl.T @ (2.0 * ch.c[:, None] * st)
        return out.T

    def rhs(self, X: np.ndarray) -> np.ndarray:
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        r = self._collocated(X2) / self.mixture.weights
        return restore_conservation(self.mixture, X2, r)[0].reshape(np.shape(X))

    def jacobian(self, X: np.ndarray) -> np.ndarray:
        """Exact d rhs/dX: with r the collocated rates and P r = r − f ⊙ q, differentiating the
        projection's normal equations gives d(P r) = P (dr − q ⊙ df), P at the current state."""
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        Jr = super().jacobian(X2)                                 # d r / dX through _scatter
        r = self._collocated(X2) / self.mixture.weights
        _, q = restore_conservation(self.mixture, X2, r)
        idx = np.arange(X2.shape[1])
        Jr[:, idx, idx] -= q
        # P applied to every column: P J = J − f ⊙ Ψ G⁻¹ Ψᵀ W J (per row of the batch)
        Psi, W = self.mixture.invariants, self.mixture.weights
        lam = np.linalg.solve(_gram(self.mixture, X2), np.einsum("ka,rkm->ram", Psi * W[:, None], Jr))
        J = Jr - X2[:, :, None] * np.einsum("ka,ram->rkm", Psi, lam)
        return J if np.ndim(X) > 1 else J[0]
