"""Quadrature on the unit sphere S^{d−1} of collision directions σ (PHYSICS.md §1).

Every rule here is written in the *collision frame* of a relative velocity g: its first axis is
ĝ = g/|g| and the others are an orthonormal completion. A node is stored by its coordinates in that
frame, so its first coordinate *is* cosθ = σ·ĝ. The kernel B(|g|, cosθ) is then evaluated at the
exact deflection angle of every node, and rules can concentrate on the support of b (grazing
kernels, θ ∈ [0, θ_max]) or be split where b has a kink (2D hard disks: |sin(θ/2)| at θ = 0).

Rules
-----
2D (σ = cosθ ĝ + sinθ ĝ^⊥):
- ``"equispaced"``: θ_s = −π + (s + ½) 2π/n, weights 2π/n. Spectrally accurate for smooth periodic
  integrands, exact for trigonometric polynomials of degree < n; θ = 0 (a trivial collision) is
  never a node.
- ``"gauss"``: n/2 Gauss–Legendre nodes in θ on [0, θ_max], mirrored to [−θ_max, 0] (b depends on
  cosθ, so it is even in θ). Accurate for kernels with a kink at θ = 0 or compact support.
3D (σ = cosθ ĝ + sinθ (cosφ e₁ + sinφ e₂)):
- ``"product"``: n Gauss–Legendre nodes in cosθ on [cos θ_max, 1] × ``n_azimuth`` equispaced φ.
- ``"lebedev"``: scipy's Lebedev rule of the given degree (full sphere only), rotated into the frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.integrate import lebedev_rule

from dgkinetic.errors import InputError

__all__ = ["SphereQuadrature", "sphere_quadrature", "collision_frames", "directions"]


@dataclass(frozen=True, eq=False)
class SphereQuadrature:
    """Nodes and weights of a rule on S^{d−1}, in the collision frame.

    Attributes
    ----------
    points : ndarray, shape (M, d)
        Node coordinates in the frame (ĝ, e₁[, e₂]); ``points[:, 0]`` is cosθ.
    weights : ndarray, shape (M,)
        Weights ω_s (Σ ω_s = |S^{d−1}| for a full-sphere rule: 2π in 2D, 4π in 3D).
    kind : str
        Name of the rule, for messages and cache keys.
    """

    points: np.ndarray
    weights: np.ndarray
    kind: str

    @property
    def dim(self) -> int:
        return self.points.shape[1]

    @property
    def size(self) -> int:
        return self.points.shape[0]

    @property
    def cos_theta(self) -> np.ndarray:
        return self.points[:, 0]

    def key(self) -> bytes:
        """Bytes identifying the rule exactly (for the precomputation cache)."""
        return (self.kind.encode() + np.ascontiguousarray(self.points).tobytes()
                + np.ascontiguousarray(self.weights).tobytes())

    def integrate(self, b) -> float:
        """∫ b(cosθ) dσ with this rule (``b`` a vectorised callable of cosθ)."""
        return float(np.dot(self.weights, b(self.cos_theta)))


def sphere_quadrature(dim: int, n: int, *, kind: str | None = None, theta_max: float = math.pi,
                      n_azimuth: int | None = None) -> SphereQuadrature:
    """Build a rule on S^{d−1} in the collision frame.

    Parameters
    ----------
    dim
        Velocity dimension, 2 or 3.
    n
        2D: total number of nodes (even for ``"gauss"``). 3D ``"product"``: Gauss–Legendre nodes
        in cosθ. 3D ``"lebedev"``: the degree of the Lebedev rule (a degree scipy provides).
    kind
        ``"equispaced"``/``"gauss"`` (2D), ``"product"``/``"lebedev"`` (3D). Default: ``"gauss"``
        in 2D when θ_max < π, else ``"equispaced"``; ``"product"`` in 3D.
    theta_max
        The kernel's b vanishes for θ > θ_max; nodes are placed in [0, θ_max] only.
    n_azimuth
        3D ``"product"`` only: equispaced azimuths (default 2n).

    Raises
    ------
    InputError
        For an unknown rule, a too small n, or θ_max outside (0, π].
    """
    if dim not in (2, 3):
        raise InputError(f"sphere quadrature: dimension must be 2 or 3, got {dim}")
    if int(n) != n or n < 1:
        raise InputError(f"sphere quadrature: number of nodes must be a positive integer, got {n}")
    n = int(n)
    if not (0.0 < theta_max <= math.pi):
        raise InputError(f"sphere quadrature: theta_max must lie in (0, pi], got {theta_max}")
    full = theta_max >= math.pi
    if dim == 2:
        kind = kind or ("equispaced" if full else "gauss")
        if kind == "equispaced":
            if not full:
                raise InputError("sphere quadrature: 'equispaced' covers the full circle; use 'gauss' "
                                 "for a kernel with theta_max < pi")
            if n < 2:
                raise InputError("sphere quadrature: 'equispaced' needs at least 2 nodes")
            theta = -math.pi + (np.arange(n) + 0.5) * (2 * math.pi / n)
            w = np.full(n, 2 * math.pi / n)
        elif kind == "gauss":
            if n % 2 or n < 2:
                raise InputError(f"sphere quadrature: 'gauss' in 2D needs an even number of nodes, got {n}")
            x, wx = np.polynomial.legendre.leggauss(n // 2)
            half = 0.5 * theta_max * (x + 1.0)
            theta = np.concatenate([-half[::-1], half])
            w = np.concatenate([wx[::-1], wx]) * (0.5 * theta_max)
        else:
            raise InputError(f"sphere quadrature: unknown 2D rule {kind!r}; use 'equispaced' or 'gauss'")
        pts = np.stack([np.cos(theta), np.sin(theta)], axis=1)
        return SphereQuadrature(pts, w, f"{kind}2d")
    kind = kind or "product"
    if kind == "product":
        n_phi = 2 * n if n_azimuth is None else int(n_azimuth)
        if n_phi < 1:
            raise InputError(f"sphere quadrature: n_azimuth must be positive, got {n_azimuth}")
        x, wx = np.polynomial.legendre.leggauss(n)
        # Gauss nodes in w = 1 − cosθ ∈ [0, 1 − cos θ_max]: with 1 − cos θ_max = 2 sin²(θ_max/2) and
        # sinθ = sqrt(w (2 − w)) nothing cancels, so tiny caps (grazing kernels) stay accurate.
        span = 2.0 * math.sin(0.5 * theta_max) ** 2
        w1 = 0.5 * span * (x + 1.0)
        wmu = 0.5 * span * wx
        phi = (np.arange(n_phi) + 0.5) * (2 * math.pi / n_phi)
        W1, PHI = np.meshgrid(w1, phi, indexing="ij")
        MU = 1.0 - W1
        s = np.sqrt(W1 * (2.0 - W1))
        pts = np.stack([MU.ravel(), (s * np.cos(PHI)).ravel(), (s * np.sin(PHI)).ravel()], axis=1)
        w = np.repeat(wmu, n_phi) * (2 * math.pi / n_phi)
        return SphereQuadrature(pts, w, f"product3d_{n_phi}")
    if kind == "lebedev":
        if not full:
            raise InputError("sphere quadrature: 'lebedev' covers the full sphere; use 'product' for "
                             "a kernel with theta_max < pi")
        try:
            x, w = lebedev_rule(n)
        except ValueError as err:
            raise InputError(f"sphere quadrature: no Lebedev rule of degree {n} ({err})") from None
        return SphereQuadrature(np.ascontiguousarray(x.T), np.asarray(w), "lebedev3d")
    raise InputError(f"sphere quadrature: unknown 3D rule {kind!r}; use 'product' or 'lebedev'")


def collision_frames(ghat: np.ndarray) -> np.ndarray:
    """Orthonormal frames whose first axis is ĝ: shape (n, d, d), frame[:, a] the a-th axis.

    2D: (ĝ, ĝ^⊥) with ĝ^⊥ = ĝ rotated by +90°. 3D: e₁ = normalised ĝ × a, a the coordinate axis
    least aligned with ĝ (never near-parallel, so no cancellation), e₂ = ĝ × e₁.
    """
    ghat = np.asarray(ghat, dtype=float)
    n, d = ghat.shape
    frames = np.empty((n, d, d))
    frames[:, 0] = ghat
    if d == 2:
        frames[:, 1, 0] = -ghat[:, 1]
        frames[:, 1, 1] = ghat[:, 0]
        return frames
    axis = np.argmin(np.abs(ghat), axis=1)
    a = np.zeros_like(ghat)
    a[np.arange(n), axis] = 1.0
    e1 = np.cross(ghat, a)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    frames[:, 1] = e1
    frames[:, 2] = np.cross(ghat, e1)
    return frames


def directions(ghat: np.ndarray, rule: SphereQuadrature) -> np.ndarray:
    """σ_s for every relative direction: shape (n, M, d), σ = Σ_a points[s, a] frame_a(ĝ)."""
    return np.einsum("sa,nad->nsd", rule.points, collision_frames(ghat))
