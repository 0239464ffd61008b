"""Exact momentum and energy exchange of a Maxwell-molecule mixture, for any distributions.

For Maxwell molecules the collision kernel does not depend on the relative speed, so the moments
m_i n_i u_i and E_i = ∫ m_i|v|²/2 f_i of each species obey closed ordinary differential equations
whatever the shape of f (Morse, Phys. Fluids 6 (1963) 1420; Garzó, Santos and Brey, Phys. Fluids A
1 (1989) 380). Derived here from the weak forms of PHYSICS.md §1 with ψ = m_i v and m_i|v|²/2;
m_ij = m_i m_j/(m_i + m_j), M_ij = m_i + m_j, d the velocity dimension, n, u, T per species.

Boltzmann, B_ij = C_ij (constant): with the post-collision rule v' − v = m_j/M_ij (|g|σ − g) and
∫ (|g|σ − g) dσ = −|S^{d−1}| g,

    d(m_i n_i u_i)/dt = −Σ_j λ_ij m_ij n_i n_j (u_i − u_j),
    dE_i/dt = −Σ_j λ_ij (m_ij/M_ij) n_i n_j [d(T_i − T_j) + m_i|u_i|² − m_j|u_j|² + (m_j − m_i) u_i·u_j],

λ_ij = |S^{d−1}| C_ij (1 for the default BKW normalisation C = 1/|S^{d−1}|).

Landau, U = ν_ij(|z|²I − z⊗z): integrating by parts with ∇·U(z) = (1 − d) z and tr U = (d − 1)|z|²,

    d(m_i n_i u_i)/dt = −Σ_j ν_ij (d − 1)(1/m_i + 1/m_j) n_i n_j (u_i − u_j),
    dE_i/dt = −Σ_j ν_ij (d − 1) n_i n_j [(u_i·u_j − |u_j|² − d T_j/m_j)/m_i
                                         + (|u_i|² + d T_i/m_i − u_i·u_j)/m_j].

Both conserve the total momentum and energy, and vanish at a common u and T.
"""
from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from dgkinetic.errors import InputError

__all__ = ["exchange_rates", "moment_trajectory"]


def _strengths(strength, n: int) -> np.ndarray:
    s = np.asarray(strength, dtype=float)
    return np.full((n, n), float(s)) if s.ndim == 0 else s


def exchange_rates(operator: str, masses, densities, velocities, temperatures, strength=1.0):
    """(d(m_i n_i u_i)/dt, dE_i/dt) of every species: shapes (N, d) and (N,).

    Parameters
    ----------
    operator
        ``"boltzmann"`` (strength λ_ij = |S^{d−1}| C_ij) or ``"landau"`` (strength ν_ij).
    masses, densities
        m_i, n_i, shape (N,).
    velocities
        u_i, shape (N, d).
    temperatures
        T_i, shape (N,).
    strength
        λ_ij or ν_ij: a scalar or an (N, N) symmetric array, times the collision rate.
    """
    m = np.asarray(masses, dtype=float)
    n = np.asarray(densities, dtype=float)
    u = np.atleast_2d(np.asarray(velocities, dtype=float))
    T = np.asarray(temperatures, dtype=float)
    N, d = u.shape
    lam = _strengths(strength, N)
    mi, mj = m[:, None], m[None, :]
    nn = lam * n[:, None] * n[None, :]
    du = u[:, None, :] - u[None, :, :]                           # u_i − u_j
    uu = u @ u.T                                                 # u_i·u_j
    usq = np.diag(uu)
    if operator == "boltzmann":
        mred = mi * mj / (mi + mj)
        momentum = -np.einsum("ij,ija->ia", nn * mred, du)
        bracket = d * (T[:, None] - T[None, :]) + (mi * usq[:, None] - mj * usq[None, :]) + (mj - mi) * uu
        energy = -np.sum(nn * mred / (mi + mj) * bracket, axis=1)
    elif operator == "landau":
        momentum = -(d - 1) * np.einsum("ij,ija->ia", nn * (1 / mi + 1 / mj), du)
        bracket = ((uu - usq[None, :] - d * T[None, :] / mj) / mi
                   + (usq[:, None] + d * T[:, None] / mi - uu) / mj)
        energy = -(d - 1) * np.sum(nn * bracket, axis=1)
    else:
        raise InputError(f"exchange_rates: operator must be 'boltzmann' or 'landau', got {operator!r}")
    return momentum, energy


def moment_trajectory(operator: str, masses, densities, velocities, temperatures, times, strength=1.0):
    """u_i(t), T_i(t) at ``times`` (from t = 0): shapes (len(times), N, d) and (len(times), N).

    Integrates the closed moment equations of :func:`exchange_rates` to round-off (the number
    densities are constant in a homogeneous gas).
    """
    m = np.asarray(masses, dtype=float)
    n = np.asarray(densities, dtype=float)
    u0 = np.atleast_2d(np.asarray(velocities, dtype=float))
    N, d = u0.shape

    def split(y):
        p, E = y[:N * d].reshape(N, d), y[N * d:]
        u = p / (m * n)[:, None]
        T = (2 * E / n - m * np.sum(u * u, axis=1)) / d
        return u, T

    def rhs(_t, y):
        u, T = split(y)
        dp, dE = exchange_rates(operator, m, n, u, T, strength)
        return np.concatenate([dp.ravel(), dE])

    E0 = n * (0.5 * m * np.sum(u0 * u0, axis=1) + 0.5 * d * np.asarray(temperatures, dtype=float))
    y0 = np.concatenate([((m * n)[:, None] * u0).ravel(), E0])
    times = np.asarray(times, dtype=float)
    sol = solve_ivp(rhs, (0.0, float(times[-1])), y0, t_eval=times, method="DOP853", rtol=1e-12, atol=1e-14)
    us, Ts = zip(*(split(y) for y in sol.y.T))
    return np.array(us), np.array(Ts)
