"""Multi-species Landau (Fokker–Planck–Landau) operator, built from its dissipative bracket.

The continuous weak form (PHYSICS.md §1, "Landau"), with ∇f_i = f_iτ_i ∇η_i and η_i = log(f_i/τ_i):

    ⟨Q_i, ψ_i⟩ = − Σ_j ν_ij ∫∫ F_i(v) F_j(w) ∇ψ_i(v)/m_i · U(v − w) (∇η_i(v)/m_i − ∇η_j(w)/m_j) dw dv,
    F = f τ(f),   U(z) = |z|^γ (|z|² I − z⊗z).

Symmetrising over (i, v) ↔ (j, w) gives the dissipative bracket of PHYSICS.md §2 (Landau),
discretised here as in Kraus & Hirvijoki (2017) (DESIGN.md, "GENERIC structure"): every species has
a continuous (Gauss–Lobatto, H¹-conforming) velocity grid, η_h is the nodal interpolant of the entropy
variable, q runs over the Gauss points of species i (weights w_q), r over those of species j, and

    M(F)[ξ, η] = ½ Σ_ij ν_ij Σ_q Σ_r w_q w_r F_i(q) F_j(r) (a_i(q) − a_j(r)) · U(q − r) (b_i(q) − b_j(r)),
    a_i = ∇ξ_h,i / m_i,   b_i = ∇η_h,i / m_i,   F_i(q) = (fτ)(η_h,i(q)) > 0,

    ⟨Q_h, φ_k⟩ = − M(F)[η_h, φ_k],         rhs_k = ⟨Q_h, φ_k⟩ / W_k   (lumped GLL mass).

Consequences, exact up to round-off (tests/test_landau.py checks each one):

- M is symmetric and positive semi-definite (U is, the weights and F are positive);
- ψ_i ∈ {1_i, m_i v, m_i|v|²/2} are in Q_p (p ≥ 2) and interpolated exactly, so a_i − a_j ∈ {0, e, q − r}
  and U(q − r) annihilates them: number, momentum and energy are conserved by every evaluation;
- dH/dt = Σ_k η_k ⟨Q_h, φ_k⟩ = −M[η_h, η_h] ≤ 0 (discrete H-theorem);
- a mixture equilibrium (η_i = c_i + m_i u·v − m_i|v|²/(2T), common u, T) has b_i(q) − b_j(r) ∝ q − r,
  hence Q_h = 0.

Evaluation (why it is fast). Using ν_ij = ν_ji and U(z) = U(−z) the bracket collapses to

    M[ξ, η] = Σ_ij ν_ij Σ_q w_q F_i(q) a_i(q) · (D_ij(q) b_i(q) − K_ij(q)),
    D_ij(q) = Σ_r w_r F_j(r) U(q − r),      K_ij(q) = Σ_r w_r F_j(r) U(q − r) b_j(r),

so the O(N_q²) work is d(d+1)/2 dense matrix products per species pair, batched over all state rows
(one GEMM each), with the kernel components U^{ab}(q, r) precomputed once and cached (or recomputed
in blocks when they would not fit the cache budget). Everything else is sparse interpolation.

Units. Velocities, masses and ν are in the run's units; ν_ij multiplies the PHYSICS.md §1 weak form
as written (with its 1/m_i, 1/m_j factors). For the Coulomb kernel (γ = −3) the default is the
nondimensional ν_ij = Z_i² Z_j² lnΛ, i.e. the SI factor e⁴/(8π ε0²) is 1 in the run's units.
"""
from __future__ import annotations

import math
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from dgkinetic.collisions.base import CollisionOperator
from dgkinetic.collisions.ring import VW_INDEX, azimuthal_rule, polynomial_rule, ring_kernel
from dgkinetic.errors import InputError, NonPhysicalStateError
from dgkinetic.mixture import Mixture
from dgkinetic.statistics import mobility

__all__ = ["Landau", "mobility_derivative"]

#: default memory budget for the cached kernel components U^{ab}(q, r) of all species pairs
DEFAULT_CACHE_BYTES = 1 << 30
#: budget for the temporaries of one block of rows / quadrature points
_BLOCK_BYTES = 64 << 20


def mobility_derivative(eta, alpha: int):
    """d(fτ)/dη as a function of η: e^η (1 + α e^η) / (1 − α e^η)³ (Bose: capped like ``mobility``)."""
    e = np.exp(eta)
    if alpha == 0:
        return e
    if alpha > 0:
        e = np.minimum(e, 1.0 - 1e-12)
    return e * (1.0 + alpha * e) / (1.0 - alpha * e) ** 3


def _potential_exponent(potential, dim: int) -> tuple[float, str]:
    """γ of Φ(|z|) = |z|^γ and a display name, validated (−d−1 < γ ≤ 2)."""
    if isinstance(potential, str):
        key = potential.lower()
        if key == "maxwell":
            return 0.0, "maxwell"
        if key == "coulomb":
            if dim != 3:
                raise InputError("the Coulomb Landau kernel (Φ = |z|^-3) needs 3 velocity dimensions; in 2V "
                                 "pass a power law potential=gamma with -3 < gamma <= 2 instead")
            return -3.0, "coulomb"
        raise InputError(f"Landau potential must be 'maxwell', 'coulomb' or a number gamma, "
                         f"got {potential!r}")
    try:
        gamma = float(potential)
    except (TypeError, ValueError):
        raise InputError(f"Landau potential must be 'maxwell', 'coulomb' or a number gamma, "
                         f"got {potential!r}") from None
    # The friction ∫(∇·U) f_j needs |z|^{γ+1} locally integrable in d dimensions: γ > −d − 1.
    if not (math.isfinite(gamma) and -dim - 1 < gamma <= 2):
        raise InputError(f"Landau power-law exponent gamma must satisfy {-dim - 1} < gamma <= 2 in {dim}V, "
                         f"got {gamma}")
    return gamma, f"power law gamma={gamma:g}"


class _SpeciesQuadrature:
    """Cell Gauss quadrature of one species' grid and the sparse maps from its nodal values.

    The Jacobian-only operators (``rightT``, ``localT``) are built on first use: the triple products
    hold (p+1)^{2d} entries per quadrature point, too many to build for a fine grid that is only
    ever evaluated (e.g. the BKW refinement study).
    """

    def __init__(self, species, grid, quadrature_points, pairs):
        self.points, self.weights, V, G = grid.cell_quadrature(quadrature_points)
        self.V = V.tocsr()                                   # (Nq, n) nodal values → values at q
        self.G = [g.tocsr() for g in G]                      # d × (Nq, n) nodal values → ∂_a at q
        self.Gstack = sp.vstack(self.G, format="csr")        # (d Nq, n), direction-major
        self.GstackT = self.Gstack.T.tocsr()                 # (n, d Nq)
        self.mass = float(species.mass)
        self.alpha = int(species.alpha)
        self.size = grid.size
        self.dim = grid.dim
        self._k = (grid.degree + 1) ** grid.dim              # nodes per cell
        self._pairs = pairs
        self.point_cell, self.cell_nodes = grid.cell_of(self.points), grid.cell_nodes

    @property
    def nq(self) -> int:
        return self.points.shape[0]

    @cached_property
    def rightT(self) -> sp.csr_matrix:
        """(n, (1+d) Nq): [V; G_1; …; G_d]ᵀ, the right factor of the Jacobian's non-local blocks."""
        return sp.vstack([self.V] + self.G, format="csr").T.tocsr()

    @cached_property
    def localT(self) -> sp.csr_matrix:
        """(n², (d + nab) Nq): Σ_a Gₐᵀ diag(c_a) V and Σ_ab Gₐᵀ diag(c_ab) G_b as one sparse product."""
        n, k, G = self.size, self._k, self.G
        blocks = [_triple(G[a], self.V, k, n) for a in range(self.dim)]
        for a, b in self._pairs:
            T = _triple(G[a], G[b], k, n)
            if a != b:
                T = T + _triple(G[b], G[a], k, n)   # D^{ab} = D^{ba}: both orders share one coefficient
            blocks.append(T)
        return sp.vstack(blocks, format="csr").T.tocsr()


def _row_structure(A: sp.csr_matrix, k: int):
    """Column indices and values of a CSR matrix with exactly k stored entries per row: (rows, k)."""
    A = A.tocsr().copy()
    A.sort_indices()
    counts = np.diff(A.indptr)
    if np.all(counts == k):
        return A.indices.reshape(-1, k), A.data.reshape(-1, k)
    # Fallback (never for tensor grids): pad rows to the longest one with zero entries.
    kmax = counts.max()
    idx = np.zeros((A.shape[0], kmax), dtype=A.indices.dtype)
    val = np.zeros((A.shape[0], kmax))
    for r in range(A.shape[0]):   # pragma: no cover - layout guard only
        s = slice(A.indptr[r], A.indptr[r + 1])
        idx[r, :counts[r]] = A.indices[s]
        val[r, :counts[r]] = A.data[s]
    return idx, val


def _triple(L: sp.csr_matrix, R: sp.csr_matrix, k: int, n: int) -> sp.csr_matrix:
    """T (Nq, n²) with T[q, l n + l'] = L[q, l] R[q, l'], so c @ T = vec(Lᵀ diag(c) R) for every row c."""
    li, lv = _row_structure(L, k)
    ri, rv = _row_structure(R, k)
    nq, kk = li.shape[0], li.shape[1] * ri.shape[1]
    cols = (li[:, :, None] * n + ri[:, None, :]).reshape(nq, kk)
    vals = (lv[:, :, None] * rv[:, None, :]).reshape(nq, kk)
    rows = np.repeat(np.arange(nq), kk)
    T = sp.csr_matrix((vals.ravel(), (rows, cols.ravel())), shape=(nq, n * n))
    T.sum_duplicates()
    return T


class Landau(CollisionOperator):
    """Structure-preserving multi-species Landau operator (Kraus–Hirvijoki bracket form).

    Parameters
    ----------
    mixture
        Species and their velocity grids; every grid must be continuous (``continuous=True``,
        Gauss–Lobatto nodes) of degree ≥ 2 so that the collision invariants lie in the test space.
    potential
        ``"maxwell"`` (Φ = 1, γ = 0), ``"coulomb"`` (Φ = |z|⁻³, 3V only) or a float γ with
        −d−1 < γ ≤ 2 for Φ = |z|^γ, U(z) = Φ(|z|)(|z|²I − z⊗z).
    nu
        Collision strengths ν_ij: a positive scalar (all pairs) or a symmetric N×N array with
        non-negative entries (0 switches a pair off). Default 1, or Z_i²Z_j² lnΛ for Coulomb.
    coulomb_log
        lnΛ for the Coulomb default of ``nu`` (default 1, i.e. lnΛ absorbed in the time unit).
        Only meaningful with ``potential="coulomb"`` and ``nu=None``.
    quadrature_points
        Gauss points per cell and direction for the interaction integrals (default degree + 1).
    cache_bytes
        Memory budget for the cached kernel components U^{ab}(q, r) of all species pairs; above it
        they are recomputed block by block on every evaluation (slower, bounded memory).
    method
        How the fields D_ij, K_ij are summed: ``"direct"`` (the O(N_q^i N_q^j) GEMMs, any γ) or
        ``"moments"`` (Maxwell molecules only: U(q − r) is a quadratic polynomial in q and r, so the
        sums reduce exactly to the moments Σ s, Σ s r, Σ s r⊗r of the sources, O(N_q) work).
        ``"auto"`` picks ``"moments"`` for γ = 0. The two agree to round-off; the Jacobian and
        :meth:`bracket_matrix` always use the direct kernel.

    Notes
    -----
    For γ < −2 the kernel is singular at z = 0; coincident quadrature points (q = r, same
    species or grids sharing a point) are skipped, i.e. U(0) := 0, which keeps U symmetric and PSD so
    that conservation and the H-theorem stay exact.
    """

    def __init__(self, mixture: Mixture, potential="maxwell", nu=None, coulomb_log=None,
                 quadrature_points: int | None = None, cache_bytes: int = DEFAULT_CACHE_BYTES,
                 method: str = "auto", tail_floor: float = 0.0):
        super().__init__(mixture)
        if not (0.0 <= float(tail_floor) < 1e-3):
            raise InputError(f"Landau tail_floor must be in [0, 1e-3), got {tail_floor}")
        self.tail_floor = float(tail_floor)
        self._frozen = {}
        d = mixture.dim
        N = len(mixture)
        self.dim = d
        for s, g in zip(mixture.species, mixture.grids):
            if not g.continuous:
                raise InputError(f"Landau needs continuous (Gauss–Lobatto, H¹) velocity grids; species "
                                 f"'{s.name}' has continuous=False")
            if g.degree < 2:
                raise InputError(f"Landau needs velocity degree >= 2 (energy m|v|²/2 in the test space); "
                                 f"species '{s.name}' has degree {g.degree}")
        self.axisymmetric = bool(mixture.grids[0].axisymmetric)
        self.gamma, self.potential = _potential_exponent(potential, mixture.grids[0].physical_dim)
        self.nu = self._collision_strengths(nu, coulomb_log, N)
        if quadrature_points is not None and (int(quadrature_points) != quadrature_points
                                              or quadrature_points < 1):
            raise InputError(f"Landau quadrature_points must be a positive integer, got {quadrature_points}")
        self.quadrature_points = quadrature_points
        if method not in ("auto", "direct", "moments"):
            raise InputError(f"Landau method must be 'auto', 'direct' or 'moments', got {method!r}")
        if method == "moments" and (self.gamma != 0.0 or self.axisymmetric):
            raise InputError("Landau method='moments' is exact only for Maxwell molecules (gamma = 0) on "
                             "Cartesian grids")
        self.method = ("moments" if self.gamma == 0.0 and not self.axisymmetric else "direct") \
            if method == "auto" else method
        self._pairs = [(a, b) for a in range(d) for b in range(a, d)]
        self._nab = len(self._pairs)
        full = np.zeros((d, d), dtype=int)
        for k, (a, b) in enumerate(self._pairs):
            full[a, b] = full[b, a] = k
        self._full = full
        # component of the cross kernel U_vw(q, r) for gradient directions (a at q, b at r): U itself
        # on Cartesian grids (U_vw = U_vv = U(q − r)), the ring-averaged blocks on axisymmetric ones
        self._vw = VW_INDEX if self.axisymmetric else full
        self._ring_rule = None
        if self.axisymmetric:
            self._ring_rule = polynomial_rule() if self.gamma == 0.0 else azimuthal_rule()
        self._sq = [_SpeciesQuadrature(s, g, quadrature_points, self._pairs)
                    for s, g in zip(mixture.species, mixture.grids)]
        # Points closer than this are "coincident": U := 0 there (only matters for γ < −2).
        self._coincide2 = (1e-10 * min(g.cell_width for g in mixture.grids)) ** 2
        if self.axisymmetric:       # one (U_vv, U_vw) pair of tables per ordered species pair
            total = sum(8 * (self._nab + d * d) * self._sq[i].nq * self._sq[j].nq
                        for i in range(N) for j in range(N) if self.nu[i, j] != 0)
        else:
            total = sum(8 * self._nab * self._sq[i].nq * self._sq[j].nq
                        for i in range(N) for j in range(i, N) if self.nu[i, j] != 0)
        self.cache_bytes = int(cache_bytes)
        self._use_cache = total <= self.cache_bytes
        self._cache: dict[tuple[int, int], np.ndarray] = {}

    # ------------------------------------------------------------------ set-up
    def _collision_strengths(self, nu, coulomb_log, N: int) -> np.ndarray:
        if coulomb_log is not None:
            if self.potential != "coulomb":
                raise InputError("coulomb_log is only used with potential='coulomb'")
            if nu is not None:
                raise InputError("give either nu or coulomb_log, not both (nu already contains lnΛ)")
            coulomb_log = float(coulomb_log)
            if not (math.isfinite(coulomb_log) and coulomb_log > 0):
                raise InputError(f"coulomb_log must be positive, got {coulomb_log}")
        if nu is None:
            if self.potential == "coulomb":
                Z2 = np.array([float(s.charge) ** 2 for s in self.mixture.species])
                nu = np.outer(Z2, Z2) * (1.0 if coulomb_log is None else coulomb_log)
            else:
                nu = 1.0
        nu = np.asarray(nu, dtype=float)
        if nu.ndim == 0:
            if not (math.isfinite(nu) and nu > 0):
                raise InputError(f"Landau nu must be positive, got {float(nu)}")
            return np.full((N, N), float(nu))
        if nu.shape != (N, N):
            raise InputError(f"Landau nu must be a scalar or a {N}x{N} array, got shape {nu.shape}")
        if not np.all(np.isfinite(nu)) or np.any(nu < 0) or not np.any(nu > 0):
            raise InputError("Landau nu must be finite, non-negative and not all zero")
        if not np.allclose(nu, nu.T, rtol=1e-14, atol=0):
            raise InputError("Landau nu must be symmetric (nu_ij = nu_ji conserves momentum and energy)")
        return 0.5 * (nu + nu.T)

    # ------------------------------------------------------------------ the kernel U(q − r)
    def kernel(self, P: np.ndarray, Q: np.ndarray) -> np.ndarray:
        """Components U^{ab}(p − q) for a ≤ b: shape (d(d+1)/2, len(P), len(Q)).

        U(z) = |z|^γ (|z|² I − z⊗z); U := 0 for (numerically) coincident points.
        """
        z = P[:, None, :] - Q[None, :, :]
        r2 = np.einsum("pqa,pqa->pq", z, z)
        far = r2 > self._coincide2
        phi = np.zeros_like(r2)
        if self.gamma == 0.0:
            phi[far] = 1.0
        else:
            np.power(r2, 0.5 * self.gamma, out=phi, where=far)
        out = np.empty((self._nab,) + r2.shape)
        for k, (a, b) in enumerate(self._pairs):
            if a == b:
                np.multiply(phi, r2 - z[..., a] * z[..., a], out=out[k])
            else:
                np.multiply(phi, -z[..., a] * z[..., b], out=out[k])
        return out

    def _pair_kernel(self, P: np.ndarray, Q: np.ndarray):
        """(U_vv, U_vw) between points P of one species and Q of another (see :attr:`_vw`)."""
        if self.axisymmetric:
            return ring_kernel(P, Q, self.gamma, self._ring_rule, self._coincide2)
        U = self.kernel(P, Q)
        return U, U

    def _blocks(self, i: int, j: int):
        """Yield (slice of species-i points, U_vv, U_vw for q in the slice and r all points of j)."""
        Pi, Pj = self._sq[i].points, self._sq[j].points
        if self._use_cache:
            if self.axisymmetric:
                if (i, j) not in self._cache:
                    self._cache[(i, j)] = self._pair_kernel(Pi, Pj)
                yield (slice(None),) + self._cache[(i, j)]
                return
            key = (min(i, j), max(i, j))
            if key not in self._cache:
                self._cache[key] = self.kernel(self._sq[key[0]].points, self._sq[key[1]].points)
            U = self._cache[key]
            # U(z) is even: U_ji(r, q) = U_ij(q, r), so one orientation serves both pairs.
            U = U if i <= j else U.transpose(0, 2, 1)
            yield slice(None), U, U
            return
        per_point = (self._nab + self.dim * self.dim + 2 * self.dim) * (len(self._ring_rule[0]) if
                                                                       self.axisymmetric else 1)
        rows = max(1, _BLOCK_BYTES // (8 * per_point * len(Pj)))
        for s in range(0, len(Pi), rows):
            sl = slice(s, min(s + rows, len(Pi)))
            yield (sl,) + self._pair_kernel(Pi[sl], Pj)

    # ------------------------------------------------------------------ state at quadrature points
    def _check_state(self, X: np.ndarray) -> None:
        for i, (Xi, s) in enumerate(zip(self.mixture.split(X), self.mixture.species)):
            bad = ~np.isfinite(Xi) | (Xi <= 0) | ((Xi >= 1) if s.alpha < 0 else False)
            if np.any(bad):
                row, col = np.argwhere(bad)[0]
                limit = "in (0, 1) (Fermi)" if s.alpha < 0 else "positive and finite"
                raise NonPhysicalStateError(
                    f"Landau: species '{s.name}' has f = {Xi[row, col]:.3g} at row {row}, velocity node "
                    f"{col}; the entropy variable needs f {limit}")

    def _at_points(self, eta: np.ndarray, derivative: bool = False):
        """Per species: F w (R, Nq), b = ∇η_h/m (R, d, Nq) and optionally F' w (R, Nq)."""
        out = []
        for sq, e in zip(self._sq, self.mixture.split(eta)):
            R = e.shape[0]
            eh = (sq.V @ e.T).T
            b = (sq.Gstack @ e.T).reshape(self.dim, sq.nq, R).transpose(2, 0, 1) / sq.mass
            w = sq.weights
            if self.tail_floor > 0:
                w = w * self._active_points(sq, e)
            Fw = mobility(eh, sq.alpha) * w
            Fpw = mobility_derivative(eh, sq.alpha) * w if derivative else None
            out.append((Fw, b, Fpw))
        return out

    def _active_points(self, sq, eta):
        """1 at the quadrature points of cells whose every node has f ≥ tail_floor · max f, else 0.

        Dropping whole cells of the far tail from the bracket keeps it symmetric, positive and
        blind to the invariants (the integrand is dropped point by point), so conservation and the
        H-theorem stay exact; it removes the enormous relative rates of nodes whose f is many
        orders of magnitude below the values at the quadrature points of their cell.
        """
        frozen = self._frozen.get(id(sq))
        if frozen is not None and frozen.shape[0] == eta.shape[0]:
            return frozen
        cell_min = eta[:, sq.cell_nodes].min(axis=2)                      # (R, n_cells), η monotone in f
        cut = eta.max(axis=1, keepdims=True) + np.log(self.tail_floor)
        return (cell_min >= cut)[:, sq.point_cell]

    def freeze_tails(self, X: np.ndarray | None) -> None:
        """Fix the active cells of :attr:`tail_floor` from the state X (None releases them).

        A time stepper freezes them at the start of a step, so that within a Newton solve the
        collision term is a smooth function of the unknowns; any fixed set keeps the structure.
        """
        self._frozen = {}
        if X is None or self.tail_floor <= 0:
            return
        X2 = np.atleast_2d(np.maximum(X, 1e-300))
        eta = self.mixture.entropy_variable(X2)
        for sq, e in zip(self._sq, self.mixture.split(eta)):
            self._frozen[id(sq)] = self._active_points(sq, e)

    def _fields(self, Fw: list, Sb: list):
        """ν-weighted fields at the points of every species i (see :meth:`_fields_direct`)."""
        if self.method == "moments":
            return self._fields_moments(Fw, Sb)
        return self._fields_direct(Fw, Sb)

    def _fields_direct(self, Fw: list, Sb: list):
        """ν-weighted fields at the points of every species i by the O(N_q²) sums.

        Returns ``Dsum[i]`` (R, nab, Nq_i) = Σ_j ν_ij Σ_r w_r F_j(r) U^{ab}(q − r) and
        ``Ksum[i]`` (R, d, Nq_i) = Σ_j ν_ij Σ_r U(q − r) (w F_j b_j)(r), from
        ``Fw[j]`` = w F_j (R, Nq_j) and ``Sb[j]`` = w F_j b_j (R, d, Nq_j).
        """
        d, N = self.dim, len(self._sq)
        R = Fw[0].shape[0]
        Dsum = [np.zeros((R, self._nab, sq.nq)) for sq in self._sq]
        Ksum = [np.zeros((R, d, sq.nq)) for sq in self._sq]
        if self.axisymmetric:
            # U_vv multiplies the mobility sources, U_vw the fluxes: each table is read once
            for j in range(N):
                for i in range(N):
                    nu = self.nu[i, j]
                    if nu == 0:
                        continue
                    for sl, Uvv, Uvw in self._blocks(i, j):
                        for k in range(self._nab):
                            Dsum[i][:, k, sl] += nu * (Fw[j] @ Uvv[k].T)
                        for a in range(d):
                            for b in range(d):
                                Ksum[i][:, a, sl] += nu * (Sb[j][:, b] @ Uvw[self._vw[a, b]].T)
            return Dsum, Ksum
        for j in range(N):
            # All d+1 sources of species j, all rows: one left operand for every GEMM below.
            S = np.concatenate([Fw[j][:, None, :], Sb[j]], axis=1).reshape(R * (d + 1), -1)
            for i in range(N):
                nu = self.nu[i, j]
                if nu == 0:
                    continue
                for sl, U, _ in self._blocks(i, j):
                    for k, (a, b) in enumerate(self._pairs):
                        T = (S @ U[k].T).reshape(R, d + 1, -1)
                        Dsum[i][:, k, sl] += nu * T[:, 0]
                        Ksum[i][:, a, sl] += nu * T[:, 1 + b]
                        if a != b:
                            Ksum[i][:, b, sl] += nu * T[:, 1 + a]
        return Dsum, Ksum

    def _fields_moments(self, Fw: list, Sb: list):
        """Same as :meth:`_fields_direct` for γ = 0, through moments of the sources.

        With U^{ab}(q − r) = δ_ab |q − r|² − (q − r)_a (q − r)_b and a source s(r),
        Σ_r s(r) U^{ab}(q − r) = δ_ab (M0|q|² − 2 q·M1 + tr M2) − (M0 q_a q_b − q_a M1_b − M1_a q_b + M2_ab),
        M0 = Σ s, M1 = Σ s r, M2 = Σ s r⊗r.
        """
        d, N = self.dim, len(self._sq)
        R = Fw[0].shape[0]
        eye = np.eye(d)
        # ν-weighted moments seen by species i, for the d+1 sources (w F_j, w F_j b_j^1..d).
        mom = [[np.zeros((R, d + 1)), np.zeros((R, d + 1, d)), np.zeros((R, d + 1, d, d))]
               for _ in range(N)]
        for j, sqj in enumerate(self._sq):
            S = np.concatenate([Fw[j][:, None, :], Sb[j]], axis=1)                  # (R, d+1, Nq)
            r = sqj.points
            M0 = S.sum(axis=2)                                                      # (R, d+1)
            M1 = S @ r                                                              # (R, d+1, d)
            M2 = (S @ (r[:, :, None] * r[:, None, :]).reshape(-1, d * d)).reshape(R, d + 1, d, d)
            for i in range(N):
                for acc, M in zip(mom[i], (M0, M1, M2)):
                    acc += self.nu[i, j] * M
        Dsum, Ksum = [], []
        for i, sqi in enumerate(self._sq):
            M0, M1, M2 = mom[i]
            q = sqi.points                                                          # (Nq, d)
            q2 = np.sum(q * q, axis=1)
            # T[R, s, a, b, q] = Σ_r s(r) U^{ab}(q − r) for every source s
            iso = (M0[:, :, None] * q2 - 2.0 * M1 @ q.T
                   + np.trace(M2, axis1=2, axis2=3)[:, :, None])                    # (R, d+1, Nq)
            qM1 = q.T[None, None, :, None, :] * M1[:, :, None, :, None]              # q_a M1_b
            T = (iso[:, :, None, None, :] * eye[None, None, :, :, None]
                 - M0[:, :, None, None, None] * (q.T[:, None, :] * q.T[None, :, :])[None, None]
                 + qM1 + qM1.transpose(0, 1, 3, 2, 4) - M2[..., None])
            Dsum.append(np.stack([T[:, 0, a, b] for a, b in self._pairs], axis=1))
            Ksum.append(np.einsum("Rbabq->Raq", T[:, 1:]))
        return Dsum, Ksum

    def _flux(self, Dsum, Ksum, b):
        """P_i(q) = Σ_j ν_ij (D_ij b_i − K_ij), shape (R, d, Nq)."""
        return np.einsum("Rabq,Rbq->Raq", Dsum[:, self._full], b) - Ksum

    def _unit_mobility(self, rows: int):
        """The linearised bracket's weights: F ≡ 1 (Λ ≡ 1), no tail cut, in the layout of :meth:`_at_points`."""
        return [(np.broadcast_to(sq.weights, (rows, sq.nq)), None, None) for sq in self._sq]

    def _evaluate(self, X: np.ndarray, Eta: np.ndarray | None = None, derivative: bool = False,
                  linearised: bool = False):
        """Everything the weak form, the bracket and the Jacobian share."""
        if linearised:
            at = self._unit_mobility(X.shape[0])
        else:
            self._check_state(X)
            at = self._at_points(self.mixture.entropy_variable(X), derivative)
        if Eta is None:
            bs = [b for _, b, _ in at]
        else:
            bs = [b for _, b, _ in self._at_points(Eta)]
        Fw = [Fw for Fw, _, _ in at]
        Dsum, Ksum = self._fields(Fw, [F[:, None, :] * b for F, b in zip(Fw, bs)])
        P = [self._flux(D, K, b) for D, K, b in zip(Dsum, Ksum, bs)]
        return at, bs, Dsum, P

    # ------------------------------------------------------------------ public interface
    def weak_form(self, X: np.ndarray) -> np.ndarray:
        """⟨Q_h(F), φ_k⟩ = −M(F)[η_h, φ_k] for every node k; shape like X."""
        X = np.asarray(X, dtype=float)
        X2 = np.atleast_2d(X)
        at, _, _, P = self._evaluate(X2)
        out = np.empty_like(X2)
        for sq, (Fw, _, _), Pi, Oi in zip(self._sq, at, P, self.mixture.split(out)):
            c = (Fw[:, None, :] * Pi).transpose(1, 2, 0).reshape(self.dim * sq.nq, -1)
            Oi[...] = -(sq.GstackT @ c).T / sq.mass
        return out.reshape(X.shape)

    def limited_work(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """What :attr:`tail_floor` drops, per row of X: the interaction rate of the point pairs (q, r) of
        which a point lies in a dropped cell, and that of all pairs,

            A = Σ_ij ν_ij Σ_q Σ_r w_q w_r F̃_i(q) F̃_j(r) tr U(q − r),   tr U(z) = (d − 1) |z|^{γ+2} ≥ 0,

        F̃ = |f τ| interpolated from the nodal values (axisymmetric grids: tr over the (v_r, v_z) block of
        the ring-averaged U). A weighs each pair by its collisional diffusion
        (Σ_ij ν_ij ∫ F_i tr D_ij dv: the Landau analogue of the Boltzmann collision rate), so the ratio
        (:meth:`limited_fraction`) is the share of the collision activity the floor drops. F̃ comes from
        nodal f τ, not from the entropy variable: interpolated in a far-tail cell (nodes many decades
        apart) η_h can overshoot by tens of decades — the reason the floor drops such cells. The
        dropped cells are the ones :meth:`weak_form` drops at X (the frozen ones, if any). None (no
        mechanism) when ``tail_floor`` is 0. Cost: two evaluations of the fields D_ij.
        """
        if self.tail_floor <= 0:
            return None
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        self._check_state(X2)
        eta = self.mixture.entropy_variable(X2)
        F = [np.abs(sq.V @ (Xi * (1.0 + sq.alpha * Xi)).T).T * sq.weights
             for sq, Xi in zip(self._sq, self.mixture.split(X2))]
        kept = [Fi * self._active_points(sq, e) for sq, Fi, e in zip(self._sq, F, self.mixture.split(eta))]
        trace = [k for k, (a, b) in enumerate(self._pairs) if a == b]
        parts = []
        for Fw in (kept, F):
            D, _ = self._fields(Fw, [np.zeros((Fi.shape[0], self.dim, Fi.shape[1])) for Fi in Fw])
            parts.append(sum(np.einsum("Rq,Rq->R", Fi, Di[:, trace].sum(axis=1)) for Fi, Di in zip(Fw, D)))
        return parts[1] - parts[0], parts[1]

    def dissipative_bracket(self, X: np.ndarray, Xi: np.ndarray, Eta: np.ndarray,
                            linearised: bool = False) -> np.ndarray:
        """M_h(F)[ξ, η] per row, F from X; ξ, η nodal functions shaped like X.

        ``linearised``: the bracket with unit mobility F ≡ 1 (PHYSICS.md §2), independent of X.
        """
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        Xi2 = np.atleast_2d(np.asarray(Xi, dtype=float))
        Eta2 = np.atleast_2d(np.asarray(Eta, dtype=float))
        at, _, _, P = self._evaluate(X2, Eta=Eta2, linearised=linearised)
        total = np.zeros(X2.shape[0])
        for sq, (Fw, _, _), Pi, xi in zip(self._sq, at, P, self.mixture.split(Xi2)):
            a = (sq.Gstack @ xi.T).reshape(self.dim, sq.nq, -1).transpose(2, 0, 1) / sq.mass
            total += np.einsum("Rq,Raq,Raq->R", Fw, a, Pi)
        return total if np.ndim(X) > 1 else total[0]

    def bracket_matrix(self, x_row: np.ndarray, linearised: bool = False) -> np.ndarray:
        """Dense matrix M with ξᵀ M η = M_h(F)[ξ, η] for one state row (small problems only).

        Block (i, i) holds Σ_j ν_ij/m_i² Σ_ab Gₐᵀ diag(w F_i D_ij^{ab}) G_b, block (i, j) the cross terms
        −ν_ij/(m_i m_j) Σ_ab G_i,aᵀ diag(w F_i) U^{ab} diag(w F_j) G_j,b — assembled directly, independently
        of the matrix-free path used by :meth:`dissipative_bracket`.
        """
        x = np.asarray(x_row, dtype=float).reshape(1, -1)
        if linearised:
            at = self._unit_mobility(1)
        else:
            self._check_state(x)
            at = self._at_points(self.mixture.entropy_variable(x))
        Fw = [F for F, _, _ in at]
        Dsum, _ = self._fields(Fw, [np.zeros((1, self.dim, sq.nq)) for sq in self._sq])
        M = np.zeros((self.mixture.size, self.mixture.size))
        sl = self.mixture.slices()
        for i, sqi in enumerate(self._sq):
            for a in range(self.dim):
                for b in range(self.dim):
                    c = Fw[i][0] * Dsum[i][0, self._full[a, b]] / sqi.mass ** 2
                    M[sl[i], sl[i]] += (sqi.G[a].T @ sp.diags(c) @ sqi.G[b]).toarray()
            for j, sqj in enumerate(self._sq):
                if self.nu[i, j] == 0:
                    continue
                U = np.concatenate([Uvw for _, _, Uvw in self._blocks(i, j)], axis=1)
                scale = self.nu[i, j] / (sqi.mass * sqj.mass)
                for a in range(self.dim):
                    for b in range(self.dim):
                        K = Fw[i][0][:, None] * U[self._vw[a, b]] * Fw[j][0][None, :]
                        M[sl[i], sl[j]] -= scale * (sqi.G[a].T @ (sqj.G[b].T @ K.T).T)
        return M

    def jacobian(self, X: np.ndarray) -> np.ndarray:
        """Exact d rhs/dX per row, shape (n_rows, size, size).

        rhs = W⁻¹ ⟨Q_h, φ⟩(η(X)) with dη/df = 1/(fτ) nodally; ⟨Q_h, φ⟩ depends on η through
        F(q) = (fτ)(η_h(q)), b = ∇η_h/m at the points of its own species (local, sparse blocks) and
        through the fields D_ij, K_ij of every partner species j (dense blocks).
        """
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        nqmax = max(sq.nq for sq in self._sq)
        rows = max(1, int(4 * _BLOCK_BYTES // (8 * (self.dim + 2) * nqmax * nqmax)))
        J = np.empty((X2.shape[0], self.mixture.size, self.mixture.size))
        for s in range(0, X2.shape[0], rows):
            J[s:s + rows] = self._jacobian_rows(X2[s:s + rows])
        return J

    def _jacobian_rows(self, X: np.ndarray) -> np.ndarray:
        d, R = self.dim, X.shape[0]
        at, bs, Dsum, P = self._evaluate(X, derivative=True)
        Jeta = np.zeros((R, self.mixture.size, self.mixture.size))
        sl = self.mixture.slices()
        for i, sqi in enumerate(self._sq):
            Fwi, bi, Fpwi = at[i]
            m, n = sqi.mass, sqi.size
            # Local part: F_i through η_h,i(q) and b_i = ∇η_h,i/m_i in D_ij b_i.
            coef = [-(Fpwi * P[i][:, a]) / m for a in range(d)]
            coef += [-(Fwi * Dsum[i][:, k]) / m ** 2 for k in range(self._nab)]
            loc = sqi.localT @ np.concatenate(coef, axis=1).T            # (n², R)
            Jeta[:, sl[i], sl[i]] += loc.T.reshape(R, n, n)
            # Non-local part, partner j: through D_ij (F_j) and K_ij (F_j and b_j).
            for j, sqj in enumerate(self._sq):
                nu = self.nu[i, j]
                if nu == 0:
                    continue
                Fwj, bj, Fpwj = at[j]
                nj = sqj.nq
                Lam = np.zeros((d, n, R, nj))     # Λ^b = Σ_a Gₐᵀ diag(wF_i) U^{ab}
                Gam = np.zeros((n, R, nj))        # Γ = Σ_ab Gₐᵀ diag(wF_i b_i^b) U^{ab}
                for qs, Uvv, Uvw in self._blocks(i, j):
                    Fq = Fwi[:, qs].T                                       # (nq_s, R)
                    for a in range(d):
                        GaT = sqi.G[a][qs].T.tocsr()                        # (n, nq_s)
                        acc = np.zeros((Fq.shape[0], R, nj))
                        for b in range(d):
                            B = Fq[:, :, None] * Uvw[self._vw[a, b]][:, None, :]
                            Lam[b] += (GaT @ B.reshape(B.shape[0], -1)).reshape(n, R, nj)
                            if Uvv is not Uvw:
                                B = Fq[:, :, None] * Uvv[self._full[a, b]][:, None, :]
                            acc += bi[:, b, qs].T[:, :, None] * B
                        Gam += (GaT @ acc.reshape(acc.shape[0], -1)).reshape(n, R, nj)
                A = np.empty((n, R, d + 1, nj))
                A[:, :, 0] = Gam * Fpwj[None] - np.einsum("bnRr,Rbr->nRr", Lam, Fpwj[:, None, :] * bj)
                A[:, :, 1:] = -Lam.transpose(1, 2, 0, 3) * (Fwj / sqj.mass)[None, :, None, :]
                res = sqj.rightT @ A.reshape(n * R, (d + 1) * nj).T        # (n_j, n R)
                Jeta[:, sl[i], sl[j]] -= (nu / m) * res.reshape(sqj.size, n, R).transpose(2, 1, 0)
        ftau = np.concatenate([Xi * (1.0 + s.alpha * Xi) for Xi, s in
                               zip(self.mixture.split(X), self.mixture.species)], axis=1)
        return Jeta / self.mixture.weights[None, :, None] / ftau[:, None, :]
