"""Maxwell–Stefan diffusion: the diffusive (ε → 0) limit of the multi-species kinetic equations.

PHYSICS.md §6 (seed 000, Bondesan & Briant, eqs. (1.7)–(1.9)): at a fixed temperature T the number
densities c_i and the velocities u_i of the limit solve

    ∂t c_i + ∇·(c_i u_i) = 0,      −∇c_i = Σ_j c_i c_j (u_i − u_j) / Δ_ij,      ∇·Σ_i c_i u_i = 0,

with Δ_ij = Δ_ji set by T, the masses and the collision kernels. Where they come from: in the
scaled equation ∂t f_i + ε⁻¹ v·∇f_i = ε⁻² Σ_j Q_ij the kinetic drifts are U_i = ε u_i, and the
momentum balance of species i reads ε m_i ∂t(c_i u_i) + ε⁻¹ ∇·P_i = ε⁻² R_i. For Maxwell interactions
(Boltzmann Maxwell molecules, or the Landau operator with Φ = 1) the momentum exchange between
two species is exactly linear in their drift difference, whatever the shape of the distributions,

    R_i = −Σ_j k_ij c_i c_j (U_i − U_j),     Boltzmann: k_ij = μ_ij ∫ B_ij (1 − cosθ) dσ,
                                            Landau (Φ = 1): k_ij = (d − 1) ν_ij / μ_ij,

μ_ij = m_i m_j / (m_i + m_j) (Boltzmann: m_i(v' − v) = μ_ij(|g|σ − g) integrated against B_ij, i.e.
the momentum-transfer cross-section; that Maxwell molecules make the first Chapman–Enskog approximation
to the diffusion coefficient exact is classical, Chapman & Cowling, *The Mathematical Theory of
Non-Uniform Gases*, 3rd ed. 1970; Landau: ∇·U(z) = −(d − 1) z, integrated by parts in the weak form
of PHYSICS.md §1). With P_i = c_i T at leading order this gives the relation above with

    Δ_ij = T / k_ij,       i.e. the binary diffusivity D_ij = Δ_ij / c = T / (c k_ij)

for a mixture of total number density c (the form D_ij = kT / (μ_ij ν_ij) with the momentum-transfer
frequency ν_ij = c k_ij / μ_ij). :func:`friction_coefficients` measures k_ij on the discrete
operator (a drifting Maxwellian against a resting one).

A discretised operator keeps the exact linearity of the momentum exchange only approximately: its
linearisation no longer maps the drift perturbations v_x M_i onto themselves, so the first-order
correction of the diffusive expansion acquires other components, and the Δ_ij of the *discrete*
model's own ε → 0 limit differ from T/k_ij (in the ternary-diffusion demo by ≈ 5 % on 4 × 4 velocity
cells, ≈ 1 % on 6 × 6).
:func:`linear_response_diffusivities` computes them by the discrete Chapman–Enskog step: with
f_i = c_i M̂_i + ε f1_i, the order ε⁻¹ of the scaled equation is v_x M̂_i ∂x c_i = J f1 (J the
collision Jacobian at the equilibrium), solved for f1 at a given composition; the fluxes
N_i = Σ W v_x f1_i (bulk flow removed: Σ N_i = 0) then determine Δ_ij through the relation above.
This is the reference a kinetic run converges to as ε → 0.

In a closed one-dimensional channel the total molar flux Σ_i c_i u_i vanishes at the walls, hence
everywhere; the total density Σ c_i then stays uniform (summing the relation above gives
Σ_i ∇c_i = 0). :func:`closed_channel` integrates this system by finite volumes and scipy's BDF.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.sparse import diags, kron

from dgkinetic.errors import InputError
from dgkinetic.log import logger

__all__ = ["friction_coefficients", "diffusivities", "linear_response_diffusivities", "molar_fluxes",
           "closed_channel", "MaxwellStefanSolution"]


def friction_coefficients(operator, temperature: float = 1.0, drift: float = 1e-4) -> np.ndarray:
    """Momentum-exchange coefficients k_ij of a collision operator, measured on its discretisation.

    For every pair (i, j), species i drifting by ``drift`` thermal speeds of species i along v_x
    and species j at rest, both Maxwellians of unit density at ``temperature`` (the other species
    at 1e-12 of that density): k_ij = −(dp_i/dt) / (n_i n_j (U_i − U_j)), p_i = m_i Σ W v_x f_i.

    Parameters
    ----------
    operator
        A collision operator (``rhs(X)`` on rows of ``operator.mixture``).
    temperature
        The common temperature T of the two Maxwellians.
    drift
        The drift, in thermal speeds of species i (small: R_i is linear in it).

    Returns
    -------
    ndarray, shape (N, N)
        Symmetric to the accuracy of the discretisation; the diagonal is NaN (species i does not
        exchange momentum with itself).

    Notes
    -----
    Releases any frozen tail choice of the operator (``freeze_tails(None)``) so that the tail cut
    is the one of these Maxwellians; a time stepper freezes it again at its next step.
    """
    from dgkinetic.equilibrium import equilibrium
    from dgkinetic.moments import momentum_density
    mix = operator.mixture
    N = len(mix)
    operator.freeze_tails(None)
    k = np.full((N, N), np.nan)
    for i in range(N):
        for j in range(N):
            if i == j:
                continue
            U = drift * mix.species[i].thermal_speed(temperature)
            rows = []
            for m, (s, g) in enumerate(zip(mix.species, mix.grids)):
                u = np.zeros(mix.dim)
                if m == i:
                    u[0] = U
                rows.append(equilibrium(g, s, 1.0 if m in (i, j) else 1e-12, u, temperature))
            X = np.concatenate(rows)[None, :]
            dp = momentum_density(mix.split(operator.rhs(X))[i], mix.grids[i], mix.species[i])[0, 0]
            k[i, j] = -dp / U
    return k


def diffusivities(friction: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Δ_ij = T / k_ij from momentum-exchange coefficients, symmetrised; inf on the diagonal."""
    k = np.array(friction, dtype=float)
    k = 0.5 * (k + k.T)
    D = np.full_like(k, np.inf)
    off = ~np.eye(k.shape[0], dtype=bool)
    if np.any(~(k[off] > 0)):
        raise InputError(f"momentum-exchange coefficients must be positive, got {k[off]}")
    D[off] = temperature / k[off]
    return D


def linear_response_diffusivities(operator, composition, temperature: float = 1.0) -> np.ndarray:
    """Δ_ij of the diffusion limit of a discrete collision operator (discrete Chapman–Enskog step).

    At the homogeneous equilibrium X0 = (c_i M̂_i) (M̂_i the discrete Maxwellian of unit density at
    rest, temperature T), solve J f1 = s for the N − 1 independent density gradients
    g = e_k − e_N (Σ_i g_i = 0, uniform total density), s_i = g_i v_x M̂_i, J the collision Jacobian
    (least squares: J is singular on the equilibrium directions); remove the bulk-flow component
    (the momentum direction of the equilibria) so that Σ_i N_i = 0, N_i = Σ_k W_k v_x f1_i; then
    solve −g_i = Σ_j (c_j N_i − c_i N_j)/Δ_ij for the N(N − 1)/2 values 1/Δ_ij (least squares over
    every gradient and species).

    Parameters
    ----------
    operator
        A collision operator with ``jacobian`` (rows of ``operator.mixture``), rate 1.
    composition
        Number densities c_i of the equilibrium, shape (N,), positive.
    temperature
        The temperature T.

    Returns
    -------
    ndarray, shape (N, N)
        Symmetric Δ_ij, inf on the diagonal. For Maxwell interactions in the continuum this is
        T/k_ij for every composition; a discrete operator gives values that depend slightly on it.

    Notes
    -----
    Releases any frozen tail choice of the operator, as :func:`friction_coefficients`. A residual
    of the last least-squares problem above 1e-8 (the response is not of Maxwell–Stefan form) is
    logged as a warning.
    """
    from dgkinetic.equilibrium import equilibrium
    mix = operator.mixture
    N = len(mix)
    c = np.asarray(composition, dtype=float)
    if N < 2 or c.shape != (N,) or np.any(~(c > 0)):
        raise InputError(f"composition must hold {N} positive densities (N ≥ 2), got {composition!r}")
    unit = [equilibrium(g, s, 1.0, np.zeros(mix.dim), temperature) for s, g in zip(mix.species, mix.grids)]
    X0 = np.concatenate([ci * Mi for ci, Mi in zip(c, unit)])
    operator.freeze_tails(None)
    J = operator.jacobian(X0[None, :])[0]
    vx = [g.nodes[:, 0] for g in mix.grids]
    # d/du_x of the equilibria: a bulk flow, which carries no diffusion flux
    bulk = np.concatenate([ci * Mi * s.mass * v / temperature
                           for ci, Mi, s, v in zip(c, unit, mix.species, vx)])

    def fluxes(f):
        return np.array([g.weights @ (v * fi) for g, v, fi in zip(mix.grids, vx, mix.split(f))])

    pairs = [(i, j) for i in range(N) for j in range(i + 1, N)]
    rows, rhs = [], []
    for k in range(N - 1):
        grad = np.zeros(N)
        grad[k], grad[-1] = 1.0, -1.0
        source = np.concatenate([gi * v * Mi for gi, v, Mi in zip(grad, vx, unit)])
        Nf = fluxes(np.linalg.lstsq(J, source, rcond=None)[0])
        Nb = fluxes(bulk)
        Nf = Nf - Nf.sum() / Nb.sum() * Nb
        for i in range(N):
            row = np.zeros(len(pairs))
            for p, (a, b) in enumerate(pairs):
                if i in (a, b):
                    j = b if i == a else a
                    row[p] = c[j] * Nf[i] - c[i] * Nf[j]
            rows.append(row)
            rhs.append(-grad[i])
    A, b = np.array(rows), np.array(rhs)
    inv = np.linalg.lstsq(A, b, rcond=None)[0]
    residual = np.linalg.norm(A @ inv - b) / np.linalg.norm(b)
    if residual > 1e-8:
        logger.warning("linear_response_diffusivities: the response is not of Maxwell-Stefan form "
                       "(relative residual %.1e)", residual)
    if np.any(~(inv > 0)):
        raise InputError(f"non-positive inverse diffusivities {inv}: the operator does not diffuse")
    Delta = np.full((N, N), np.inf)
    for (a, b_), y in zip(pairs, inv):
        Delta[a, b_] = Delta[b_, a] = 1.0 / y
    return Delta


def molar_fluxes(c: np.ndarray, grad_c: np.ndarray, Delta: np.ndarray) -> np.ndarray:
    """Fluxes N_i = c_i u_i from −∂x c_i = Σ_j (c_j N_i − c_i N_j)/Δ_ij and Σ_i N_i = 0.

    Parameters
    ----------
    c, grad_c
        Number densities and their gradients, shape (..., N).
    Delta
        Symmetric (N, N) array of Δ_ij (the diagonal is not used).

    Returns
    -------
    ndarray, shape (..., N)
    """
    c = np.asarray(c, dtype=float)
    N = c.shape[-1]
    inv = np.where(np.eye(N, dtype=bool), 0.0, 1.0 / np.asarray(Delta, dtype=float))
    A = -c[..., :, None] * inv                                   # A_ij = −c_i/Δ_ij (i ≠ j)
    A[..., np.arange(N), np.arange(N)] = c @ inv                 # A_ii = Σ_j c_j/Δ_ij
    b = -np.array(grad_c, dtype=float)
    # the rows of A sum to zero (Σ_i ∂x c_i = 0): replace the last by the closure Σ N = 0
    A[..., -1, :] = 1.0
    b[..., -1] = 0.0
    return np.linalg.solve(A, b[..., None])[..., 0]


@dataclass
class MaxwellStefanSolution:
    """Finite-volume solution of :func:`closed_channel`.

    Attributes
    ----------
    centres : ndarray (cells,)
        Cell centres.
    faces : ndarray (cells + 1,)
        Cell faces (the walls are the first and the last).
    times : ndarray (nt,)
    density : ndarray (nt, cells, N)
        Cell averages of c_i.
    flux : ndarray (nt, cells + 1, N)
        Molar fluxes c_i u_i at the faces (zero at the walls).
    """

    centres: np.ndarray
    faces: np.ndarray
    times: np.ndarray
    density: np.ndarray
    flux: np.ndarray

    def density_at(self, x: np.ndarray) -> np.ndarray:
        """c_i at points x (linear interpolation of the cell averages): (nt, len(x), N)."""
        return _interpolate(self.centres, self.density, x)

    def flux_at(self, x: np.ndarray) -> np.ndarray:
        """N_i at points x (linear interpolation between faces): (nt, len(x), N)."""
        return _interpolate(self.faces, self.flux, x)


def _interpolate(xp, values, x):
    x = np.asarray(x, dtype=float)
    out = np.empty((values.shape[0], len(x), values.shape[2]))
    for t in range(values.shape[0]):
        for i in range(values.shape[2]):
            out[t, :, i] = np.interp(x, xp, values[t, :, i])
    return out


def closed_channel(initial, length: float, Delta: np.ndarray, times, cells: int = 200,
                   rtol: float = 1e-9, atol: float = 1e-12) -> MaxwellStefanSolution:
    """Maxwell–Stefan diffusion in the channel [0, length] with impermeable walls.

    Second-order finite volumes: at an interior face c is the mean and ∂x c the difference
    quotient of the two neighbouring cells, the fluxes come from :func:`molar_fluxes`; at the
    walls every flux is zero. The method of lines is integrated by scipy's BDF with the block
    tridiagonal sparsity of its Jacobian. Each species' total ∫c_i is conserved to round-off.

    Parameters
    ----------
    initial
        Callable x ↦ c(x), x of shape (m,), returning (m, N); evaluated at the cell centres.
    length
        Channel length L.
    Delta
        (N, N) symmetric Δ_ij.
    times
        Increasing output times, the first being the initial time.
    cells
        Number of finite volumes.
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or len(times) < 1 or np.any(np.diff(times) <= 0):
        raise InputError("times must be an increasing 1D sequence")
    h = length / cells
    faces = np.linspace(0.0, length, cells + 1)
    centres = 0.5 * (faces[1:] + faces[:-1])
    c0 = np.asarray(initial(centres), dtype=float)
    if c0.ndim != 2 or c0.shape[0] != cells:
        raise InputError(f"initial(x) must return shape ({cells}, N), got {c0.shape}")
    N = c0.shape[1]
    if np.any(c0 <= 0):
        raise InputError("Maxwell–Stefan densities must be positive")

    def face_fluxes(c):
        F = np.zeros((cells + 1, N))
        F[1:-1] = molar_fluxes(0.5 * (c[1:] + c[:-1]), (c[1:] - c[:-1]) / h, Delta)
        return F

    def rhs(t, y):
        F = face_fluxes(y.reshape(cells, N))
        return (-(F[1:] - F[:-1]) / h).ravel()

    band = diags([1.0, 1.0, 1.0], [-1, 0, 1], shape=(cells, cells))
    sparsity = kron(band, np.ones((N, N)), format="csr")
    sol = solve_ivp(rhs, (times[0], times[-1]), c0.ravel(), method="BDF", t_eval=times,
                    jac_sparsity=sparsity, rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"Maxwell–Stefan integration failed: {sol.message}")
    density = sol.y.T.reshape(len(times), cells, N)
    flux = np.stack([face_fluxes(c) for c in density])
    return MaxwellStefanSolution(centres, faces, times, density, flux)
