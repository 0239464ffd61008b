"""The Landau tensor averaged over rings: the kernel of the axisymmetric (gyrotropic) Landau form.

For gyrotropic f and test functions ξ(v_perp, v_par), the 3D Landau bracket (landau.py) only sees the
relative azimuth φ of the two velocities. Put v = (r, 0, z) and w = (r' cos φ, r' sin φ, z'); a
half-plane gradient (∂_r ξ, ∂_z ξ) is the 3D vector E_v (∂_r ξ, ∂_z ξ) with E_v = [x̂, ẑ] at v and
E_w = [(cos φ, sin φ, 0), ẑ] at w. With the half-plane measures 2π r dr dz (the grid weights),

    ∫∫ F F' (a − a')·U(v − w)(b − b') d³v d³w
        = ∫∫ F F' ⟨(E_v a − E_w a')·U (E_v b − E_w b')⟩_φ 2πr dr dz 2πr' dr' dz',

⟨·⟩_φ the average over φ. The bracket then needs the 2×2 blocks

    U_vv(q, r) = ⟨E_vᵀ U E_v⟩_φ   (symmetric: perp-perp, perp-par, par-par),
    U_vw(q, r) = ⟨E_vᵀ U E_w⟩_φ   (rows: v's perp, par; columns: w's perp, par).

They are computed with one fixed quadrature rule in φ, so every identity that holds for each φ holds
for the sums to round-off: U (v − w) = 0 and U ẑ-differences vanish, which is what makes number,
parallel momentum and energy exact and the bracket positive semi-definite. For Maxwell molecules the
integrand is a trigonometric polynomial and a 5-point trapezoid rule is exact; otherwise the rule is composite
Gauss–Legendre on geometrically graded panels of [0, π] (the integrand is even in φ), refined toward
φ = 0 where nearby ring pairs make the Coulomb kernel nearly singular; ``test_axisymmetric.py`` checks
it against the complete elliptic integrals of the closed forms.
"""
from __future__ import annotations

import numpy as np
from numpy.polynomial import legendre

__all__ = ["azimuthal_rule", "polynomial_rule", "ring_kernel", "VW_INDEX"]

#: index of U_vw's component (a, b) in the stacked array
VW_INDEX = np.array([[0, 1], [2, 3]])

_BLOCK = 1 << 21            # pairs × angles per block of temporaries


def azimuthal_rule(levels: int = 12, points: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Angles in (0, π) and weights with Σ w g(φ) ≈ (1/2π)∫_{−π}^{π} g(φ) dφ for even g.

    Panels [0, π 2^-levels], [π 2^-levels, π 2^(1-levels)], …, [π/2, π], ``points`` Gauss points each.
    """
    x, w = legendre.leggauss(points)
    edges = np.concatenate([[0.0], np.pi * 2.0 ** -np.arange(levels, -1, -1)])
    a, b = edges[:-1, None], edges[1:, None]
    phi = (0.5 * (b - a) * (x + 1.0) + a).ravel()
    wts = (0.5 * (b - a) * w).ravel() / np.pi
    return phi, wts


def polynomial_rule(intervals: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid rule on [0, π] for even g: exact for trigonometric polynomials of degree < 2·intervals.

    For Maxwell molecules (γ = 0) U is quadratic in d, so the integrand has degree 2 in (cos φ, sin φ):
    the default is exact.
    """
    phi = np.pi * np.arange(intervals + 1) / intervals
    wts = np.full(intervals + 1, 1.0 / intervals)
    wts[[0, -1]] *= 0.5
    return phi, wts


def ring_kernel(P: np.ndarray, Q: np.ndarray, gamma: float, rule, coincide2: float = 0.0):
    """(U_vv, U_vw) for the half-plane points P (n_p, 2) and Q (n_q, 2): shapes (3, n_p, n_q), (4, n_p, n_q).

    U(d) = |d|^γ (|d|² I − d⊗d); ring pairs closer than sqrt(coincide2) at some angle contribute 0 there.
    """
    phi, wts = rule
    cos, sin = np.cos(phi), np.sin(phi)
    nq = len(Q)
    Uvv = np.zeros((3, len(P), nq))
    Uvw = np.zeros((4, len(P), nq))
    rows = max(1, _BLOCK // max(1, nq * len(phi)))
    rq, zq = Q[:, 0][None, :, None], Q[:, 1][None, :, None]
    for s in range(0, len(P), rows):
        sl = slice(s, min(s + rows, len(P)))
        rp, zp = P[sl, 0][:, None, None], P[sl, 1][:, None, None]
        dx = rp - rq * cos                               # (p, q, φ)
        dy = -rq * sin
        dz = np.broadcast_to(zp - zq, dx.shape)
        d2 = dx * dx + dy * dy + dz * dz
        far = d2 > coincide2
        phiw = np.zeros_like(d2)
        if gamma == 0.0:
            phiw[far] = 1.0
        else:
            np.power(d2, 0.5 * gamma, out=phiw, where=far)
        phiw *= wts                                      # the angular average folded into the weight
        dr = dx * cos + dy * sin                         # d · e_r(φ)
        avg = lambda g: np.sum(phiw * g, axis=-1)        # noqa: E731
        Uvv[0, sl] = avg(d2 - dx * dx)
        Uvv[1, sl] = avg(-dx * dz)
        Uvv[2, sl] = avg(d2 - dz * dz)
        Uvw[0, sl] = avg(d2 * cos - dx * dr)
        Uvw[1, sl] = Uvv[1, sl]
        Uvw[2, sl] = avg(-dz * dr)
        Uvw[3, sl] = Uvv[2, sl]
    return Uvv, Uvw
