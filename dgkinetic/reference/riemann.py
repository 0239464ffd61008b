"""The exact solution of the Riemann problem of the ideal-gas Euler equations (the Kn → 0 limit).

A gas at rest or moving, with states (ρ, u, p) left and right of x₀ at t = 0, develops two waves
(each a shock or a rarefaction fan) and a contact discontinuity between them. The pressure p* and
velocity u* of the two star states solve f_L(p*) + f_R(p*) + u_R − u_L = 0, f_K the velocity jump
across the wave of side K (Rankine–Hugoniot for a shock, p* > p_K; the isentropic Riemann invariant
for a rarefaction); Newton's method from the mean pressure finds p*. The solution is self-similar
in ξ = (x − x₀)/t (Toro, *Riemann Solvers and Numerical Methods for Fluid Dynamics*, 3rd ed. 2009,
ch. 4).

The kinetic equations approach it as the Knudsen number goes to zero, with the ratio of specific
heats of a monatomic gas of d velocity dimensions, γ = (d + 2)/d, and p = ρT (unit mass).
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["riemann_star", "euler_riemann", "outer_wave_speeds"]


def _sound_speed(rho: float, p: float, gamma: float) -> float:
    """c = √(γ p/ρ)."""
    return math.sqrt(gamma * p / rho)


def _pressure_function(p: float, rho: float, pk: float, gamma: float) -> tuple[float, float]:
    """Velocity jump across the wave of one side and its derivative in p (shock or rarefaction)."""
    c = _sound_speed(rho, pk, gamma)
    if p > pk:
        a, b = 2.0 / ((gamma + 1) * rho), (gamma - 1) / (gamma + 1) * pk
        s = math.sqrt(a / (p + b))
        return (p - pk) * s, s * (1.0 - 0.5 * (p - pk) / (p + b))
    e = (gamma - 1) / (2 * gamma)
    return 2 * c / (gamma - 1) * ((p / pk) ** e - 1.0), (p / pk) ** (-(gamma + 1) / (2 * gamma)) / (rho * c)


def riemann_star(left, right, gamma: float) -> tuple[float, float]:
    """Pressure p* and velocity u* between the two waves.

    Parameters
    ----------
    left, right
        (ρ, u, p) on each side.
    gamma
        Ratio of specific heats.

    Returns
    -------
    tuple of float
        (p*, u*).

    Raises
    ------
    ValueError
        The two states separate so fast that a vacuum opens between them.
    """
    (rl, ul, pl), (rr, ur, pr) = left, right
    cl, cr = _sound_speed(rl, pl, gamma), _sound_speed(rr, pr, gamma)
    if 2 * (cl + cr) / (gamma - 1) <= ur - ul:
        raise ValueError("the Riemann problem creates vacuum")
    p = 0.5 * (pl + pr)
    for _ in range(100):
        fl, dl = _pressure_function(p, rl, pl, gamma)
        fr, dr = _pressure_function(p, rr, pr, gamma)
        step = (fl + fr + ur - ul) / (dl + dr)
        p = max(p - step, 1e-3 * p)
        if abs(step) < 1e-15 * p:
            break
    fl, fr = _pressure_function(p, rl, pl, gamma)[0], _pressure_function(p, rr, pr, gamma)[0]
    return p, 0.5 * (ul + ur) + 0.5 * (fr - fl)


def _left_shock_speed(state, p_star: float, gamma: float) -> float:
    """Speed of a shock moving into the left state (ρ, u, p) with p* > p behind it."""
    rho, u, p = state
    c = _sound_speed(rho, p, gamma)
    return u - c * math.sqrt((gamma + 1) / (2 * gamma) * p_star / p + (gamma - 1) / (2 * gamma))


def _left_wave(xi: np.ndarray, state, p_star: float, u_star: float, gamma: float) -> list[np.ndarray]:
    """(ρ, u, p) at ξ = x/t left of the contact (ξ ≤ u*), for the left state (ρ, u, p)."""
    rho, u, p = state
    c = _sound_speed(rho, p, gamma)
    g1 = (gamma - 1) / (gamma + 1)
    out = [np.full_like(xi, rho), np.full_like(xi, u), np.full_like(xi, p)]
    if p_star > p:                                          # shock
        behind = xi >= _left_shock_speed(state, p_star, gamma)
        rho_star = rho * (p_star / p + g1) / (g1 * p_star / p + 1.0)
    else:                                                   # rarefaction fan
        c_star = c * (p_star / p) ** ((gamma - 1) / (2 * gamma))
        head, tail = u - c, u_star - c_star
        behind = xi >= tail
        rho_star = rho * (p_star / p) ** (1.0 / gamma)
        fan = (xi > head) & ~behind
        base = 2 / (gamma + 1) + (gamma - 1) / ((gamma + 1) * c) * (u - xi[fan])
        out[0][fan] = rho * base ** (2 / (gamma - 1))
        out[1][fan] = 2 / (gamma + 1) * (c + 0.5 * (gamma - 1) * u + xi[fan])
        out[2][fan] = p * base ** (2 * gamma / (gamma - 1))
    out[0][behind], out[1][behind], out[2][behind] = rho_star, u_star, p_star
    return out


def _mirrored(state):
    """The state seen from the mirrored problem x → −x, u → −u."""
    return (state[0], -state[1], state[2])


def euler_riemann(xi, left, right, gamma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact self-similar solution (ρ, u, p) at ξ = (x − x₀)/t of the ideal-gas Riemann problem.

    Parameters
    ----------
    xi
        Similarity coordinates, shape (n,).
    left, right
        (ρ, u, p) on each side.
    gamma
        Ratio of specific heats.

    Returns
    -------
    tuple of ndarray
        Density, velocity and pressure, each of shape (n,).
    """
    xi = np.asarray(xi, dtype=float)
    p_star, u_star = riemann_star(left, right, gamma)
    lw = _left_wave(xi, left, p_star, u_star, gamma)
    # the right wave is the left wave of the mirrored problem x → −x, u → −u
    rw = _left_wave(-xi, _mirrored(right), p_star, -u_star, gamma)
    rw[1] = -rw[1]
    on_left = xi <= u_star
    return tuple(np.where(on_left, a, b) for a, b in zip(lw, rw))


def outer_wave_speeds(left, right, gamma: float) -> tuple[float, float]:
    """Speeds of the leftmost and rightmost fronts of the solution.

    Each is the shock speed, or the speed of the head of the rarefaction fan, u ∓ c: outside
    ``[s_left t, s_right t]`` the initial states are undisturbed.

    Parameters
    ----------
    left, right
        (ρ, u, p) on each side.
    gamma
        Ratio of specific heats.

    Returns
    -------
    tuple of float
        (s_left, s_right).
    """
    p_star, _ = riemann_star(left, right, gamma)

    def leftmost(state):
        rho, u, p = state
        if p_star > p:
            return _left_shock_speed(state, p_star, gamma)
        return u - _sound_speed(rho, p, gamma)

    return leftmost(left), -leftmost(_mirrored(right))
