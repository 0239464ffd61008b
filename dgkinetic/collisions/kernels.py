"""Collision kernels B_ij(|g|, cosθ) = C_ij Φ(|g|) b(cosθ) of the cut-off Boltzmann operator.

PHYSICS.md §1 lists the kernels; θ is the deflection angle, cosθ = σ·ĝ. Every kernel is symmetric
in the pair (B_ij = B_ji), non-negative and has Grad's cut-off (∫ b dσ < ∞). A kernel also says
where b lives (``theta_max``) and whether b has a kink at θ = 0 (``angular_kink``), so the sphere
quadrature can put its nodes where b is smooth (see :mod:`dgkinetic.collisions.sphere`).

Every kernel accepts ``coefficient``: a scalar C, or a symmetric (N, N) matrix C_ij of
non-negative numbers for an N-species mixture (pair-dependent interaction strengths).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from dgkinetic.errors import InputError
from dgkinetic.species import Species

__all__ = ["CollisionKernel", "MaxwellMolecules", "HardSpheres", "VariableHardSpheres",
           "UserKernel", "GrazingKernel", "grazing_family", "sphere_area"]


def sphere_area(dim: int) -> float:
    """|S^{d−1}|: 2π (d = 2), 4π (d = 3)."""
    return 2 * math.pi if dim == 2 else 4 * math.pi


def _finite(value, what: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"collision kernel: {what} must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise InputError(f"collision kernel: {what} must be finite, got {value}")
    return value


class CollisionKernel:
    """Base class: B_ij(|g|, cosθ) = C_ij Φ_ij(|g|) b_ij(cosθ).

    Subclasses implement :meth:`phi` and :meth:`b` (and may use the species, e.g. diameters).

    Parameters
    ----------
    coefficient
        C, a non-negative scalar or a symmetric (N, N) matrix (one entry per species pair);
        ``None`` means the kernel's own default (1 unless stated).

    Attributes
    ----------
    theta_max : float
        b(cosθ) = 0 for θ > theta_max (π: full support).
    """

    theta_max: float = math.pi

    def __init__(self, coefficient=None):
        if coefficient is None:
            self._coefficient = None
        else:
            c = np.asarray(coefficient, dtype=float)
            if c.ndim not in (0, 2) or (c.ndim == 2 and c.shape[0] != c.shape[1]):
                raise InputError(f"collision kernel: coefficient must be a scalar or a square matrix, "
                                 f"got shape {c.shape}")
            if not np.all(np.isfinite(c)) or np.any(c < 0):
                raise InputError("collision kernel: coefficient must be finite and non-negative")
            if c.ndim == 2 and not np.allclose(c, c.T, rtol=1e-14, atol=0.0):
                raise InputError("collision kernel: coefficient matrix must be symmetric (B_ij = B_ji)")
            self._coefficient = c

    # ------------------------------------------------------------------ to implement
    def phi(self, g: np.ndarray, si: Species, sj: Species, dim: int) -> np.ndarray:
        """Φ_ij(|g|) (without the coefficient); ``g`` holds the speeds |g| > 0."""
        raise NotImplementedError

    def b(self, cos_theta: np.ndarray, si: Species, sj: Species, dim: int) -> np.ndarray:
        """Angular part b_ij(cosθ) ≥ 0."""
        raise NotImplementedError

    def describe(self) -> str | None:
        """A string naming the kernel and all its parameters (None: cannot be cached)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ common
    def angular_kink(self, dim: int) -> bool:
        """True if b is not smooth at θ = 0 in dimension ``dim`` (2D rules must not straddle it)."""
        return False

    def default_coefficient(self, dim: int) -> float:
        return 1.0

    def coefficient(self, i: int, j: int, dim: int) -> float:
        """C_ij."""
        if self._coefficient is None:
            return self.default_coefficient(dim)
        c = self._coefficient
        return float(c) if c.ndim == 0 else float(c[i, j])

    def check(self, species: list[Species], dim: int) -> None:
        """Raise InputError if the kernel cannot be used with these species in dimension ``dim``."""
        if dim not in (2, 3):
            raise InputError(f"collision kernel: velocity dimension must be 2 or 3, got {dim}")
        c = self._coefficient
        if c is not None and c.ndim == 2 and c.shape[0] != len(species):
            raise InputError(f"collision kernel: coefficient matrix is {c.shape[0]}×{c.shape[0]} but the "
                             f"mixture has {len(species)} species")

    def __call__(self, g, cos_theta, i: int, j: int, species: list[Species], dim: int) -> np.ndarray:
        """B_ij(|g|, cosθ), broadcasting ``g`` against ``cos_theta``."""
        si, sj = species[i], species[j]
        return (self.coefficient(i, j, dim) * np.asarray(self.phi(np.asarray(g, float), si, sj, dim))
                * np.asarray(self.b(np.asarray(cos_theta, float), si, sj, dim)))

    def key(self, i: int, j: int, species: list[Species], dim: int) -> str | None:
        """Identifies B_ij exactly (for the precomputation cache); None disables caching."""
        desc = self.describe()
        if desc is None:
            return None
        si, sj = species[i], species[j]
        return (f"{desc}|C={self.coefficient(i, j, dim)!r}|d={si.diameter!r},{sj.diameter!r}"
                f"|m={si.mass!r},{sj.mass!r}|dim={dim}")


class MaxwellMolecules(CollisionKernel):
    """Maxwell molecules: B_ij = C_ij, independent of |g| and θ (PHYSICS.md §1).

    The default C = 1/|S^{d−1}| (1/(2π) in 2D, 1/(4π) in 3D) is the BKW normalisation of
    PHYSICS.md §7: the collision frequency equals the density of the partner species.
    """

    def default_coefficient(self, dim: int) -> float:
        return 1.0 / sphere_area(dim)

    def phi(self, g, si, sj, dim):
        return np.ones_like(g)

    def b(self, cos_theta, si, sj, dim):
        return np.ones_like(cos_theta)

    def describe(self):
        return "MaxwellMolecules"


class HardSpheres(CollisionKernel):
    """Hard spheres (3D) and hard disks (2D) with mixture diameters d_ij = (d_i + d_j)/2.

    3D: B_ij = (d_ij²/4) |g| (isotropic; total cross-section π d_ij²).
    2D: B_ij = (d_ij/2) |g| |sin(θ/2)| (not isotropic; total cross-section 2 d_ij), PHYSICS.md §1.
    The diameters are the species' ``diameter``; ``coefficient`` multiplies B (default 1).
    """

    def angular_kink(self, dim):
        return dim == 2                                        # |sin(θ/2)| at θ = 0

    def phi(self, g, si, sj, dim):
        dij = 0.5 * (si.diameter + sj.diameter)
        return (0.25 * dij * dij if dim == 3 else 0.5 * dij) * g

    def b(self, cos_theta, si, sj, dim):
        if dim == 3:
            return np.ones_like(cos_theta)
        return np.sqrt(np.maximum(0.5 * (1.0 - cos_theta), 0.0))    # |sin(θ/2)|

    def describe(self):
        return "HardSpheres"


class VariableHardSpheres(CollisionKernel):
    """Variable hard/soft spheres: Φ = |g|^γ, b constant (VHS) or VSS-shaped.

    B_ij = C_ij |g|^γ b_α(cosθ) with b_α = N_α ((1 + cosθ)/2)^{α−1}: α = 1 is VHS (b ≡ 1); α > 1
    is the variable soft sphere (VSS) shape of DSMC, in which (1 + cosθ)/2 = R^{1/α} for a uniform
    impact parameter R ∈ [0, 1]. N_α makes ∫ b_α dσ = |S^{d−1}|, the VHS value, so α changes the
    angular distribution at fixed total cross-section C |g|^γ |S^{d−1}|.

    Parameters
    ----------
    gamma
        Speed exponent γ ∈ (−d, 1] (γ = 1 hard spheres, 0 Maxwell molecules, < 0 soft potentials).
    coefficient
        C (default 1).
    alpha
        VSS exponent α ≥ 1 (default 1: VHS).
    """

    def __init__(self, gamma: float, coefficient=None, alpha: float = 1.0):
        super().__init__(coefficient)
        self.gamma = _finite(gamma, "VHS exponent gamma")
        self.alpha = _finite(alpha, "VSS exponent alpha")
        if self.gamma > 1.0:
            raise InputError(f"collision kernel: VHS exponent gamma must be ≤ 1, got {self.gamma}")
        if self.alpha < 1.0:
            raise InputError(f"collision kernel: VSS exponent alpha must be ≥ 1, got {self.alpha}")

    def check(self, species, dim):
        super().check(species, dim)
        if self.gamma <= -dim:
            raise InputError(f"collision kernel: VHS exponent gamma must be > -{dim} in {dim}D "
                             f"(integrable kernel), got {self.gamma}")

    def normalisation(self, dim: int) -> float:
        """N_α with ∫ N_α ((1+cosθ)/2)^{α−1} dσ = |S^{d−1}|."""
        a = self.alpha
        if dim == 3:
            return a                                         # 2π ∫_{-1}^{1} ((1+μ)/2)^{α-1} dμ = 4π/α
        # ∫_{-π}^{π} cos^{2(α−1)}(θ/2) dθ = 2√π Γ(α − ½)/Γ(α)
        return math.sqrt(math.pi) * math.exp(math.lgamma(a) - math.lgamma(a - 0.5))

    def phi(self, g, si, sj, dim):
        return g ** self.gamma

    def b(self, cos_theta, si, sj, dim):
        if self.alpha == 1.0:
            return np.ones_like(cos_theta)
        base = np.maximum(0.5 * (1.0 + cos_theta), 0.0)
        return self.normalisation(dim) * base ** (self.alpha - 1.0)

    def describe(self):
        return f"VHS(gamma={self.gamma!r},alpha={self.alpha!r})"


class UserKernel(CollisionKernel):
    """B_ij = C_ij Φ(|g|) b(cosθ) with user-supplied b (and optionally Φ).

    Parameters
    ----------
    b
        Vectorised callable cosθ ↦ b(cosθ) ≥ 0 (same for all pairs).
    phi
        Vectorised callable |g| ↦ Φ(|g|) ≥ 0 (default 1: Maxwell molecules).
    theta_max
        b vanishes for θ > theta_max; the sphere quadrature only places nodes in [0, theta_max].
    coefficient
        C or C_ij (default 1).
    angular_kink
        Set True if b is not smooth at θ = 0.
    key
        A string identifying (b, Φ) exactly. Without it the precomputation is never cached
        (a Python callable cannot be hashed reliably).

    Raises
    ------
    InputError
        If b or Φ is not callable, or b is negative or non-finite on [cos θ_max, 1].
    """

    def __init__(self, b: Callable, phi: Callable | None = None, theta_max: float = math.pi,
                 coefficient=None, angular_kink: bool = False, key: str | None = None):
        super().__init__(coefficient)
        if not callable(b):
            raise InputError("collision kernel: b must be a callable of cos(theta)")
        if phi is not None and not callable(phi):
            raise InputError("collision kernel: phi must be a callable of |g|")
        theta_max = _finite(theta_max, "theta_max")
        if not 0.0 < theta_max <= math.pi:
            raise InputError(f"collision kernel: theta_max must lie in (0, pi], got {theta_max}")
        self._b, self._phi = b, phi
        self.theta_max = theta_max
        self._kink = bool(angular_kink)
        self._key = key
        probe = np.cos(np.linspace(0.0, theta_max, 65))
        vals = np.asarray(b(probe), dtype=float)
        if vals.shape != probe.shape or not np.all(np.isfinite(vals)) or np.any(vals < 0):
            raise InputError("collision kernel: b(cos theta) must return finite non-negative values, "
                             "one per input, on [cos(theta_max), 1]")
        if phi is not None:
            g = np.geomspace(1e-3, 1e2, 11)
            pv = np.asarray(phi(g), dtype=float)
            if pv.shape != g.shape or not np.all(np.isfinite(pv)) or np.any(pv < 0):
                raise InputError("collision kernel: phi(|g|) must return finite non-negative values")

    def angular_kink(self, dim):
        return self._kink

    def phi(self, g, si, sj, dim):
        return np.ones_like(g) if self._phi is None else self._phi(g)

    def b(self, cos_theta, si, sj, dim):
        return np.where(cos_theta >= math.cos(self.theta_max) - 1e-15, self._b(cos_theta), 0.0)

    def describe(self):
        return None if self._key is None else f"User({self._key},theta_max={self.theta_max!r})"


def _eps_minus_sin(eps: float) -> float:
    """ε − sin ε without cancellation."""
    if eps > 0.1:
        return eps - math.sin(eps)
    e2 = eps * eps
    return eps * e2 / 6.0 * (1.0 - e2 / 20.0 * (1.0 - e2 / 42.0 * (1.0 - e2 / 72.0)))


class GrazingKernel(CollisionKernel):
    """Maxwell-type kernel concentrated on deflections θ ≤ ε (see :func:`grazing_family`)."""

    def __init__(self, eps: float, momentum_transfer: float | None = None, coefficient=None):
        super().__init__(coefficient)
        eps = _finite(eps, "grazing angle eps")
        if not 0.0 < eps <= math.pi:
            raise InputError(f"grazing family: eps must lie in (0, pi], got {eps}")
        if momentum_transfer is not None:
            momentum_transfer = _finite(momentum_transfer, "momentum transfer")
            if momentum_transfer <= 0:
                raise InputError("grazing family: momentum transfer must be positive, "
                                 f"got {momentum_transfer}")
        self.eps = eps
        self.theta_max = eps
        self._lam = momentum_transfer

    def momentum_transfer(self, dim: int) -> float:
        """Λ = ∫ (1 − cosθ) b_ε dσ: the given value, else 1/4 (2D), 1/3 (3D)."""
        return (0.25 if dim == 2 else 1.0 / 3.0) if self._lam is None else self._lam

    def level(self, dim: int) -> float:
        """c_ε with b_ε = c_ε on θ ≤ ε (2D: Λ = 2c(ε − sin ε); 3D: Λ = π c (1 − cos ε)²)."""
        lam = self.momentum_transfer(dim)
        if dim == 2:
            return lam / (2.0 * _eps_minus_sin(self.eps))
        return lam / (math.pi * (2.0 * math.sin(0.5 * self.eps) ** 2) ** 2)   # 1 − cos ε = 2 sin²(ε/2)

    def phi(self, g, si, sj, dim):
        return np.ones_like(g)

    def b(self, cos_theta, si, sj, dim):
        return np.where(cos_theta >= math.cos(self.eps) - 1e-15, self.level(dim), 0.0)

    def describe(self):
        return f"Grazing(eps={self.eps!r},Lambda={self._lam!r})"


def grazing_family(eps: float, momentum_transfer: float | None = None, *, coefficient=None) -> GrazingKernel:
    """Maxwell-type kernels concentrating on grazing collisions (PHYSICS.md §5).

    b_ε(cosθ) = c_ε for θ ≤ ε, 0 beyond, with c_ε fixed by the momentum transfer

        Λ = ∫_{S^{d−1}} (1 − cosθ) b_ε(cosθ) dσ:
        2D: Λ = 2 c_ε (ε − sin ε),       3D: Λ = π c_ε (1 − cos ε)².

    As ε → 0 the operator tends to a Landau operator. The BKW relaxation rate of Maxwell molecules,
    λ = ¼ ∫ b sin²θ dσ, tends to Λ/2, and Landau's is 2(d−1)C (PHYSICS.md §7); so the default
    Λ = 1/4 (2D), 1/3 (3D) gives as limit the Landau operator with C = 1/16 (2D), 1/24 (3D), whose
    BKW solution is that of PHYSICS.md §7. The sphere quadrature built by
    :class:`~dgkinetic.collisions.boltzmann.Boltzmann` puts its nodes in [0, ε] only.

    Parameters
    ----------
    eps
        Largest deflection angle, 0 < ε ≤ π.
    momentum_transfer
        Λ > 0 (default above, per dimension).
    coefficient
        Optional C_ij multiplying the kernel (e.g. per-pair strengths).
    """
    return GrazingKernel(eps, momentum_transfer, coefficient)
