"""The GENERIC (metriplectic) structure of a discrete kinetic problem (PHYSICS.md §2).

    ∂t F = L(F) dE + M(F) dS,    E = Σ_i ∫∫ m_i|v|²/2 f_i,    S = −Σ_i ∫∫ h_i(f_i),

with L the Poisson bracket of free transport and M the sum of the collision operators' dissipative
brackets. Everything here is discrete: a phase-space function is an array of nodal values shaped
like the state (one row per owned space node, columns the velocity nodes of every species), and
the pairing of two of them is ⟨a, b⟩ = Σ_r ∫φ_r dx Σ_k W_k a_rk b_rk, so the differentials are
nodal: dE = m|v|²/2 and dS = −log(f/τ(f)).

With that pairing the collision part of the evolution *is* M(F) dS (the operators are built from
their brackets), energy is in the kernel of M and collision invariants make M vanish.

The Poisson bracket of free transport. The broken-derivative bracket

    K(F)[ξ, η] = Σ_i ∫∫ (f_i/m_i)(∇ₓξ·∇ᵥη − ∇ᵥξ·∇ₓη)      (cell-wise derivatives, nodal quadrature)

is antisymmetric and reproduces the volume part of the transport weak form, K[ξ, dE] = ∫∫ f v·∇ₓξ,
but K dS = 0 only up to the discretisation error: nodal derivatives obey neither the chain rule
f∇log f = ∇f nor summation by parts between x and v. Following the projection idea of Öttinger's
GENERIC integrators (J. Non-Equilib. Thermodyn. 43 (2018) 89), L is K restricted by the projector

    Pξ = ξ − dS ⟨c, ξ⟩/⟨c, dS⟩,   c = dS minus its ⟨·,·⟩-projection on span{dE, 1_i},
    L(F)[ξ, η] = K(F)[Pξ, Pη],

which fixes dE and the species indicators 1_i and annihilates dS. So L is antisymmetric, L dS = 0
exactly, the masses stay Casimirs, and L dE = K dE − (K[dS, dE]/⟨c, dS⟩) c differs from the
transport's volume term by the discretisation residual K[dS, dE] only. In the entropy budget that
residual is therefore part of what the discrete transport does beyond L dE: the numerical dissipation.

Linearised variants (``linearised=True``): the same brackets with unit mobility (Λ ≡ 1, F ≡ 1) and
the quadratic entropy S = −½ Σ ∫∫ f², dS = −f.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from mpi4py import MPI

import firedrake as fd
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.sparse_local import local_matrix

__all__ = ["GenericStructure", "fisher_information"]


def fisher_information(X: np.ndarray, mixture, floor: float = 0.0) -> np.ndarray:
    """I(F) = Σ_i ∫ |∇_v log f_i|² f_i dv = Σ_i Σ_k W_k |∇_v f_i|²/f_i per row (PHYSICS.md §3).

    ∇_v f is the derivative of the velocity interpolant at the nodes (cell-wise polynomials).
    With ``floor`` > 0 only nodes with f ≥ floor · max f_i count: the part of velocity space a
    collision operator with that ``tail_floor`` acts on (below it the tails are frozen, and their
    1/f-weighted gradients would dominate the sum without saying anything about the dynamics).
    """
    out = np.zeros(X.shape[:-1])
    for Xi, g in zip(mixture.split(X), mixture.grids):
        grad2 = np.zeros_like(Xi)
        for a in range(g.dim):
            D = g.basis_at(g.nodes, derivative=a)
            grad2 += (Xi @ D.T) ** 2
        counted = Xi >= floor * np.max(Xi, axis=-1, keepdims=True)
        out += np.where(counted, grad2 / Xi, 0.0) @ g.weights
    return out


class GenericStructure:
    """E, S, their differentials, the brackets L and M, and the entropy budget of a problem.

    Parameters
    ----------
    phase
        The phase space.
    collisions
        ``(operator, rate)`` pairs, as in :class:`dgkinetic.solver.KineticProblem`.
    transport
        The :class:`dgkinetic.transport.Transport` of the problem (for the entropy budget), or None.
    """

    def __init__(self, phase: PhaseSpace, collisions=(), transport=None, linearised: bool = False):
        self.phase = phase
        self.linearised = bool(linearised)
        self.mixture = phase.mixture
        self.collisions = list(collisions)
        self.transport = transport
        self.comm = phase.mesh.comm
        self.volumes = phase.node_volumes
        mix = self.mixture
        # nodal pairing weights and derivatives
        self.weights = self.volumes[:, None] * mix.weights[None, :]
        V = phase.scalar_space
        u, v = fd.TrialFunction(V), fd.TestFunction(V)
        n = phase.n_owned
        self._grad_x = [(phase.inverse_mass @ local_matrix(u.dx(a) * v * fd.dx, V, V))[:n, :n].tocsr()
                        for a in range(phase.dim)]
        self._grad_v = [sp.block_diag([g.basis_at(g.nodes, derivative=a) for g in mix.grids]).tocsr()
                        for a in range(phase.dim)]

    # ------------------------------------------------------------------ functionals
    def _sum(self, value) -> float:
        return float(self.comm.allreduce(float(value), op=MPI.SUM))

    def pairing(self, a: np.ndarray, b: np.ndarray) -> float:
        """⟨a, b⟩ = Σ_r ∫φ_r Σ_k W_k a b."""
        return self._sum(np.sum(self.weights * a * b))

    def energy(self, X: np.ndarray) -> float:
        return self.pairing(X, self.energy_differential(X))

    def energy_differential(self, X: np.ndarray) -> np.ndarray:
        """dE = m|v|²/2 at every node (independent of the state)."""
        mix = self.mixture
        return np.broadcast_to(0.5 * mix.masses * np.sum(mix.velocities ** 2, axis=1), X.shape)

    def entropy(self, X: np.ndarray) -> float:
        """S = −H (non-decreasing); −½⟨f, f⟩ for the linearised structure."""
        if self.linearised:
            return -0.5 * self.pairing(X, X)
        return -self._sum(self.volumes @ self.mixture.entropy_density(X))

    def entropy_differential(self, X: np.ndarray) -> np.ndarray:
        """dS = −log(f/τ(f)); −f for the linearised structure."""
        if self.linearised:
            return -np.asarray(X, dtype=float)
        return -self.mixture.entropy_variable(X)

    # ------------------------------------------------------------------ brackets
    def _gradients(self, xi: np.ndarray):
        gx = [G @ xi for G in self._grad_x]
        gv = [xi @ G.T for G in self._grad_v]
        return gx, gv

    def _casimirs(self, X: np.ndarray) -> list[np.ndarray]:
        """dE and the species indicators 1_i: what the projector P keeps fixed."""
        mix = self.mixture
        kept = [np.array(self.energy_differential(X))]
        for sl in mix.slices():
            one = np.zeros(X.shape)
            one[:, sl] = 1.0
            kept.append(one)
        return kept

    def _projector(self, X: np.ndarray):
        """(dS, q) with Pξ = ξ − dS ⟨q, ξ⟩: P fixes dE and every 1_i and P dS = 0 (module docstring)."""
        dS = self.entropy_differential(X)
        c = np.array(dS)
        basis = []
        for v in self._casimirs(X):          # Gram–Schmidt in the pairing
            for b in basis:
                v = v - b * self.pairing(b, v)
            norm = np.sqrt(self.pairing(v, v))
            if norm > 0:
                basis.append(v / norm)
        for b in basis:
            c = c - b * self.pairing(b, c)
        cds = self.pairing(c, dS)
        if not cds > 0:
            raise ValueError("the entropy differential lies in span{dE, 1_i}: P is undefined at this state")
        return dS, c / cds

    def _project(self, X, xi, projector=None):
        dS, q = projector or self._projector(X)
        return xi - dS * self.pairing(q, xi)

    def transport_bracket(self, X: np.ndarray, xi: np.ndarray, eta: np.ndarray) -> float:
        """K(F)[ξ, η] = Σ_i ∫∫ (f_i/m_i)(∇ₓξ·∇ᵥη − ∇ᵥξ·∇ₓη): broken derivatives, not projected."""
        gx_xi, gv_xi = self._gradients(xi)
        gx_eta, gv_eta = self._gradients(eta)
        integrand = sum(gx_xi[a] * gv_eta[a] - gv_xi[a] * gx_eta[a] for a in range(self.phase.dim))
        return self.pairing(X / self.mixture.masses, integrand)

    def poisson_bracket(self, X: np.ndarray, xi: np.ndarray, eta: np.ndarray) -> float:
        """L(F)[ξ, η] = K(F)[Pξ, Pη]: antisymmetric, L dS = 0 exactly (module docstring)."""
        proj = self._projector(X)
        return self.transport_bracket(X, self._project(X, xi, proj), self._project(X, eta, proj))

    def reversible_evolution(self, X: np.ndarray) -> np.ndarray:
        """L(F) dE as nodal time derivatives (⟨ψ, L dE⟩ = L[ψ, dE] for every ψ): owned rows."""
        dS, q = self._projector(X)
        dE = np.array(self.energy_differential(X))
        residual = self.transport_bracket(X, dS, dE)           # K[dS, dE]: 0 for the exact equation
        # ⟨ψ, K dE⟩ = Σ W (f/m) ∇ₓψ·∇ᵥdE (= ∫∫ f v·∇ₓψ); nodal representative W⁻¹ ∇ₓᵀ (W (f/m) ∇ᵥdE)
        _, gv = self._gradients(dE)
        vol = np.zeros(X.shape)
        for a in range(self.phase.dim):
            vol += self._grad_x[a].T @ (self.weights * X / self.mixture.masses * gv[a])
        return vol / self.weights - q * residual
    def dissipative_bracket(self, X: np.ndarray, xi: np.ndarray, eta: np.ndarray) -> float:
        """M(F)[ξ, η] = Σ_r ∫φ_r Σ_ops rate · M_op(F_r)[ξ_r, η_r]."""
        lin = {"linearised": True} if self.linearised else {}
        total = sum(rate * (self.volumes @ op.dissipative_bracket(X, xi, eta, **lin)) for op, rate in self.collisions)
        return self._sum(total)

    def dissipation(self, X: np.ndarray) -> float:
        """Collisional entropy production M(F)[dS, dS] ≥ 0."""
        dS = self.entropy_differential(X)
        return self.dissipative_bracket(X, dS, dS)

    def dissipative_matrix(self, X: np.ndarray) -> sp.csr_matrix:
        """The matrix of M(F) in nodal coordinates, M[ξ, η] = ξ·(A η) (small serial problems)."""
        lin = {"linearised": True} if self.linearised else {}
        blocks = []
        for r in range(X.shape[0]):       # small problems only: one dense block per space node
            blocks.append(sum(rate * self.volumes[r] * op.bracket_matrix(X[r], **lin) for op, rate in self.collisions))
        return sp.block_diag(blocks).tocsr()

    def transport_matrix(self, X: np.ndarray) -> sp.csr_matrix:
        """The matrix of K(F) (unprojected), K[ξ, η] = ξ·(A η) (small serial problems)."""
        n, size = X.shape
        Ix, Iv = sp.identity(n, format="csr"), sp.identity(size, format="csr")
        w = sp.diags((self.weights * X / self.mixture.masses).ravel())
        A = sp.csr_matrix((n * size, n * size))
        for a in range(self.phase.dim):
            Gx = sp.kron(self._grad_x[a], Iv, format="csr")
            Gv = sp.kron(Ix, self._grad_v[a], format="csr")
            A = A + Gx.T @ w @ Gv - Gv.T @ w @ Gx
        return A.tocsr()

    def poisson_matrix(self, X: np.ndarray) -> np.ndarray:
        """The dense matrix of L(F) = Pᵀ K P, L[ξ, η] = ξ·(A η) (small serial problems).

        With Pξ = ξ − dS (Wq)ᵀξ and dSᵀ K dS = 0: Pᵀ K P = K − k (Wq)ᵀ + (Wq) kᵀ, k = K dS.
        """
        K = self.transport_matrix(X).toarray()
        dS, q = self._projector(X)
        k = K @ dS.ravel()
        wq = (self.weights * q).ravel()
        return K - np.outer(k, wq) + np.outer(wq, k)

    # ------------------------------------------------------------------ entropy budget
    def entropy_rates(self, X: np.ndarray, Xh: np.ndarray | None = None) -> dict[str, float]:
        """dS/dt split by origin at the state X (owned rows; Xh the same rows with halos).

        ``production``: collisions, = M(F)[dS, dS] ≥ 0; ``numerical dissipation``: the interior
        transport beyond the reversible L dE (which produces no entropy, L dS = 0): the upwind
        jumps at interior facets plus the central flux's discretisation residual K[dS, dE];
        ``wall <id> flux``: the entropy carried in through that boundary, −Σ ∫ (v·n) h(f̂);
        ``wall <id> dissipation``: the rest of that wall's term (upwinding between the trace and
        the wall state). They add up to −⟨log(f/τ), dX/dt⟩ = dS/dt exactly.
        """
        eta = self.mixture.entropy_variable(X)
        rates = {"production": 0.0}
        for op, rate in self.collisions:
            rates["production"] += -self.pairing(eta, rate * op.rhs(X))
        if self.transport is not None:
            Xl = X if Xh is None else Xh
            parts = self.transport.parts(Xl)
            fluxes = self.transport.wall_entropy_flux(Xl) if self.transport.boundary is not None else {}
            for key, part in parts.items():
                rate = -self.pairing(eta, part)
                if key in ("central", "upwind"):
                    rates["numerical dissipation"] = rates.get("numerical dissipation", 0.0) + rate
                elif key in fluxes:
                    # what the wall term does to S = the entropy carried in − the wall's own upwinding
                    inflow = -self._sum(fluxes[key])
                    rates[f"{key} flux"] = inflow
                    rates[f"{key} dissipation"] = rate - inflow
                else:
                    rates[key] = rate
        return rates
