"""Discrete equilibria whose discrete moments equal the requested ones to round-off.

An equilibrium of species i has an entropy variable affine in the collision invariants,
η(v) = a + b·v + c|v|² (PHYSICS.md §1), f = e^η / (1 − α e^η). The continuous Maxwellian,
sampled at the nodes, has moments off by the quadrature error; here (a, b, c) are instead
chosen so that the discrete moments Σ W f (1, v, |v|²) are the requested ones. The map from
(a, b, c) to these moments is the gradient of the convex function Σ_k W_k g(η_k) (g' = f), so a
damped Newton iteration on that function converges from the continuous guess.

For Bose and Fermi species the requested temperature is the kinetic one, tr P / (d n).
"""
from __future__ import annotations

import math

import numpy as np

from dgkinetic.errors import InputError
from dgkinetic.species import Species
from dgkinetic.statistics import from_entropy_variable, mobility
from dgkinetic.velocity import VelocityGrid

__all__ = ["equilibrium", "equilibria", "maxwellian", "check_resolution"]

#: a requested Maxwellian must sit at least this many thermal speeds inside the velocity box
MIN_BOX_THERMAL_SPEEDS = 4.0
#: and its nodes must be at most this many thermal speeds apart on average
MAX_NODE_SPACING = 1.5


def check_resolution(grid: VelocityGrid, species: Species, velocity, temperature: float) -> None:
    """Raise InputError if the grid cannot hold a Maxwellian of this drift and temperature."""
    if not (math.isfinite(temperature) and temperature > 0):
        raise InputError(f"species '{species.name}': temperature must be positive, got {temperature}")
    vt = species.thermal_speed(temperature)
    u = np.broadcast_to(np.asarray(velocity, dtype=float), (grid.dim,))
    axes = list(grid.momentum_axes)                 # v_perp of an axisymmetric grid starts at the axis
    room = min(np.min((u - grid.lower)[axes]), np.min(grid.upper - u)) / vt
    if room < MIN_BOX_THERMAL_SPEEDS:
        raise InputError(
            f"species '{species.name}': velocity grid too small for T={temperature:g}, u={u.tolist()}: "
            f"the box reaches only {room:.2f} thermal speeds past the drift (need "
            f"{MIN_BOX_THERMAL_SPEEDS:g}); raise the velocity extent or the reference temperature")
    spacing = (grid.upper[0] - grid.lower[0]) / grid.n1        # mean node spacing
    if spacing > MAX_NODE_SPACING * vt:
        raise InputError(
            f"species '{species.name}': velocity grid too coarse for T={temperature:g}: node spacing "
            f"{spacing:.3g} exceeds {MAX_NODE_SPACING:g} thermal speeds ({vt:.3g}); "
            "use more velocity cells or a higher degree")


def _convex_potential(eta, alpha):
    """g(η) with g' = f(η): e^η, or −log(1 − α e^η)/α."""
    if alpha == 0:
        return np.exp(eta)
    e = np.exp(eta)
    if alpha > 0 and np.any(e >= 1.0):
        return np.full_like(eta, np.inf)
    return -np.log1p(-alpha * e) / alpha


def _newton(theta, phi, W, target, scale, alpha, objective, tol, max_iter):
    """Damped Newton on the convex dual: drive Σ W f(φ·θ) φ to the target moments, row by row."""
    rows = theta.shape[0]
    active = np.ones(rows, dtype=bool)
    previous = np.full(rows, np.inf)
    for _ in range(max_iter):
        eta = np.matmul(phi, theta[:, :, None])[:, :, 0]
        grad = np.matmul((W * from_entropy_variable(eta, alpha))[:, None, :], phi)[:, 0, :] - target
        gnorm = np.max(np.abs(grad), axis=1)
        # converged: at the tolerance, or at the round-off floor where Newton stops gaining
        floor = (gnorm < 1e-11 * scale) & (gnorm > 0.5 * previous)
        active &= (gnorm > tol * scale) & ~floor
        previous = gnorm
        if not active.any():
            break
        hess = np.matmul(phi.transpose(0, 2, 1), (W * mobility(eta, alpha))[:, :, None] * phi)
        try:
            step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:     # degenerate (f → 1 for Fermi): least squares, reported below
            step = np.matmul(np.linalg.pinv(hess), grad[:, :, None])[:, :, 0]
        step[~active] = 0.0
        g0, t = objective(theta), np.ones(rows)
        decrease = 0.25 * np.sum(grad * step, axis=1)
        for _ in range(60):
            # the slack admits steps whose decrease is below round-off of the objective
            slack = 1e-13 * np.abs(g0)
            bad = ~(objective(theta - t[:, None] * step) <= g0 - t * decrease + slack)
            bad &= active
            if not bad.any():
                break
            t[bad] *= 0.5
        stalled = t < 1e-12
        theta = theta - t[:, None] * step
        active &= ~stalled
    return theta


def equilibrium(grid: VelocityGrid, species: Species, density: float, velocity, temperature: float,
                *, check: bool = True) -> np.ndarray:
    """Nodal values of the discrete equilibrium with moments (n, u, T).

    Parameters
    ----------
    grid, species
        The species and its velocity grid.
    density
        Number density n > 0.
    velocity
        Mean velocity u, shape (d,) (a scalar is broadcast).
    temperature
        Kinetic temperature T > 0.

    Returns
    -------
    ndarray, shape (n_v,)
        f_k with Σ W f = n, Σ W f v = n u and Σ W f m|v−u|² = d n T to round-off.

    Raises
    ------
    InputError
        For non-positive n or T, a grid that cannot hold the state, or a Fermi density above the
        Pauli limit of the grid (Bose: beyond condensation).
    """
    u = np.broadcast_to(np.asarray(velocity, dtype=float), (grid.dim,))
    return equilibria(grid, species, np.array([density], dtype=float), u[None, :],
                      np.array([temperature], dtype=float), check=check)[0]


def equilibria(grid: VelocityGrid, species: Species, density, velocity, temperature,
               *, check: bool = True, tol: float = 1e-15, max_iter: int = 100) -> np.ndarray:
    """Batched :func:`equilibrium`: density (n,), velocity (n, d), temperature (n,) → (n, n_v)."""
    d, m, alpha = grid.dim, species.mass, species.alpha
    axes, dp = list(grid.momentum_axes), grid.physical_dim
    density = np.asarray(density, dtype=float).reshape(-1)
    rows = density.shape[0]
    temperature = np.broadcast_to(np.asarray(temperature, dtype=float).reshape(-1), (rows,))
    u = np.broadcast_to(np.asarray(velocity, dtype=float), (rows, d))
    off = [a for a in range(d) if a not in axes]
    if off and np.any(u[:, off] != 0):
        raise InputError(f"species '{species.name}': an axisymmetric grid holds no drift along v_perp")
    if not np.all(np.isfinite(density) & (density > 0)):
        raise InputError(f"species '{species.name}': density must be positive and finite, "
                         f"got min {np.min(density)}")
    if check:
        for q in np.unique(np.concatenate([u, temperature[:, None]], axis=1), axis=0):
            check_resolution(grid, species, q[:d], q[d])
    vt = np.sqrt(temperature / m)
    # Invariants in scaled variables c = (v − u)/vt keep the Newton matrix well conditioned.
    c = (grid.nodes[None, :, :] - u[:, None, :]) / vt[:, None, None]          # (rows, n_v, d)
    phi = np.concatenate([np.ones(c.shape[:2] + (1,)), c[:, :, axes], np.sum(c ** 2, axis=2, keepdims=True)], axis=2)
    target = density[:, None] * np.concatenate([[1.0], np.zeros(len(axes)), [dp]])[None, :]
    W = grid.weights
    # Continuous Maxwellian as the starting point (shifted down for quantum species).
    theta = np.zeros((rows, len(axes) + 2))
    theta[:, 0] = np.log(density / (2 * np.pi * vt * vt) ** (dp / 2))
    theta[:, -1] = -0.5
    if alpha != 0:
        theta[:, 0] = np.minimum(theta[:, 0], -1.0)
    scale = np.abs(target).max(axis=1)

    def objective(th):
        eta = np.matmul(phi, th[:, :, None])[:, :, 0]
        return _convex_potential(eta, alpha) @ W - np.sum(th * target, axis=1)

    with np.errstate(over="ignore", invalid="ignore"):
        theta = _newton(theta, phi, W, target, scale, alpha, objective, tol, max_iter)
    f = from_entropy_variable(np.matmul(phi, theta[:, :, None])[:, :, 0], alpha)
    resid = np.max(np.abs(np.matmul((W * f)[:, None, :], phi)[:, 0, :] - target), axis=1) / scale
    if not np.all(np.isfinite(f)) or np.any(resid > 1e-11):
        bad = int(np.argmax(np.where(np.isfinite(resid), resid, np.inf)))
        what = {-1: "above the Pauli limit of this grid",
                1: "beyond Bose–Einstein condensation: report, not represented"}.get(
                    alpha, "not representable on this grid")
        raise InputError(f"species '{species.name}': no discrete equilibrium with n={density[bad]:g}, "
                         f"T={temperature[bad]:g} ({what}; residual {resid[bad]:.1e})")
    return f


def maxwellian(grid: VelocityGrid, species: Species, density: float, velocity, temperature: float,
               **kwargs) -> np.ndarray:
    """Discrete equilibrium of a Maxwell–Boltzmann species (see :func:`equilibrium`)."""
    if species.alpha != 0:
        raise InputError(f"species '{species.name}' has {species.statistics} statistics; use equilibrium()")
    return equilibrium(grid, species, density, velocity, temperature, **kwargs)
