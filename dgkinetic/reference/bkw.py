"""The Bobylev–Krook–Wu (BKW) exact solution for Maxwell molecules (PHYSICS.md §7).

One species, unit density, zero mean velocity, ∫|v|² f = d:

    f(t, v) = (2πK)^{-d/2} exp(−|v|²/(2K)) [P + Q|v|²],
    P = ((d+2)K − d)/(2K),   Q = (1 − K)/(2K²),

with K(t) = 1 − c exp(−λ t). The same K(t) solves

- the cut-off Boltzmann equation with B = 1/(2π) (2D) or 1/(4π) (3D), λ = 1/8 (2D), 1/6 (3D), and
- the Landau equation with U(z) = C(|z|² I − z⊗z), ν = m = 1, λ = 2(d−1)C; C = 1/16 (2D) and
  C = 1/24 (3D) reproduce the Boltzmann rates above.

c = 1/2 in 2D and c = 1 in 3D (PHYSICS.md §7), so f ≥ 0 for all t ≥ 0 in 2D and for
t ≥ ln(5c/2)/λ (= 6 ln(5/2) ≈ 5.498 with the standard 3D rate) in 3D.

The tests of both collision operators check against this module; keep the names stable.
"""
from __future__ import annotations

import math

import numpy as np

from dgkinetic.errors import InputError

__all__ = ["bkw_rate", "bkw_K", "bkw_dKdt", "bkw_start_time", "bkw_distribution",
           "bkw_time_derivative", "bkw_moment", "STANDARD_LANDAU_C"]

#: Landau constant C of U(z) = C(|z|²I − z⊗z) giving the same K(t) as the standard Boltzmann BKW kernel
STANDARD_LANDAU_C = {2: 1.0 / 16.0, 3: 1.0 / 24.0}

#: amplitude c in K(t) = 1 − c e^{−λt}
_AMPLITUDE = {2: 0.5, 3: 1.0}


def _check_dim(dim: int) -> int:
    if dim not in (2, 3):
        raise InputError(f"BKW solution: velocity dimension must be 2 or 3, got {dim}")
    return int(dim)


def bkw_rate(dim: int, C: float | str | None = None) -> float:
    """Decay rate λ of K(t) = 1 − c e^{−λt}.

    Parameters
    ----------
    dim
        Velocity dimension d ∈ {2, 3}.
    C
        ``None``, ``"boltzmann"`` or ``"landau"``: the standard normalisation (λ = 1/8 in 2D, 1/6 in
        3D); a float: the Landau constant C of U(z) = C(|z|²I − z⊗z) with ν = m = 1, λ = 2(d−1)C.
    """
    d = _check_dim(dim)
    if C is None or (isinstance(C, str) and C.lower() in ("boltzmann", "landau", "standard")):
        C = STANDARD_LANDAU_C[d]
    elif isinstance(C, str):
        raise InputError(f"BKW kernel must be 'boltzmann', 'landau' or a Landau constant C, got {C!r}")
    C = float(C)
    if not (math.isfinite(C) and C > 0):
        raise InputError(f"BKW Landau constant C must be positive, got {C}")
    return 2.0 * (d - 1) * C


def bkw_K(t, dim: int, C: float | str | None = None):
    """K(t) = 1 − c e^{−λt} (see :func:`bkw_rate` for ``C``)."""
    d = _check_dim(dim)
    return 1.0 - _AMPLITUDE[d] * np.exp(-bkw_rate(d, C) * np.asarray(t, dtype=float))


def bkw_dKdt(t, dim: int, C: float | str | None = None):
    """dK/dt = λ (1 − K)."""
    return bkw_rate(dim, C) * (1.0 - bkw_K(t, dim, C))


def bkw_start_time(dim: int, C: float | str | None = None) -> float:
    """Earliest time at which f_BKW ≥ 0 everywhere (P ≥ 0 ⇔ K ≥ d/(d+2)); 0 in 2D."""
    d = _check_dim(dim)
    c = _AMPLITUDE[d]
    # K ≥ d/(d+2)  ⇔  c e^{−λt} ≤ 2/(d+2)
    return max(0.0, math.log(c * (d + 2) / 2.0) / bkw_rate(d, C))


def _profile(v, K, dim):
    """Gaussian factor g, P, Q and |v|² for velocities v (shape (..., d))."""
    v = np.asarray(v, dtype=float)
    if v.shape[-1] != dim:
        raise InputError(f"BKW: velocities must have last axis of length {dim}, got shape {v.shape}")
    r2 = np.sum(v * v, axis=-1)
    g = (2.0 * math.pi * K) ** (-dim / 2.0) * np.exp(-r2 / (2.0 * K))
    P = ((dim + 2) * K - dim) / (2.0 * K)
    Q = (1.0 - K) / (2.0 * K * K)
    return g, P, Q, r2


def bkw_distribution(v, t: float, dim: int, C: float | str | None = None) -> np.ndarray:
    """f_BKW(t, v) at velocities v of shape (..., d); returns shape v.shape[:-1]."""
    d = _check_dim(dim)
    K = float(bkw_K(t, d, C))
    g, P, Q, r2 = _profile(v, K, d)
    return g * (P + Q * r2)


def bkw_time_derivative(v, t: float, dim: int, C: float | str | None = None) -> np.ndarray:
    """∂f_BKW/∂t at velocities v (shape (..., d)): ∂f/∂K · dK/dt, differentiated analytically."""
    d = _check_dim(dim)
    K = float(bkw_K(t, d, C))
    g, P, Q, r2 = _profile(v, K, d)
    dg = g * (-d / (2.0 * K) + r2 / (2.0 * K * K))          # ∂g/∂K
    dP = d / (2.0 * K * K)                                   # ∂P/∂K
    dQ = -1.0 / K ** 3 + 1.0 / (2.0 * K * K)                 # ∂Q/∂K
    return (dg * (P + Q * r2) + g * (dP + dQ * r2)) * float(bkw_dKdt(t, d, C))


def bkw_moment(k: int, t, dim: int, C: float | str | None = None):
    """∫|v|^{2k} f_BKW dv = m_k^eq K^{k−1}(k − (k−1)K); m_k^eq = 2^k k! (2D), (2k+1)!! (3D)."""
    d = _check_dim(dim)
    if int(k) != k or k < 0:
        raise InputError(f"BKW moment order must be a non-negative integer, got {k}")
    k = int(k)
    K = bkw_K(t, d, C)
    if d == 2:
        meq = 2.0 ** k * math.factorial(k)
    else:
        meq = float(np.prod(np.arange(2 * k + 1, 0, -2))) if k > 0 else 1.0
    return meq * K ** (k - 1) * (k - (k - 1) * K)
