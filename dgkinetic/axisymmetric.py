"""Axisymmetric (gyrotropic) velocity space: the (v_perp, v_par) half-plane with measure 2π v_perp.

A distribution that depends on v only through v_perp = |v − (v·b)b| and v_par = v·b (b the symmetry
axis, e.g. the magnetic field) is stored on a 2D grid of the half-plane [0, L s] × [c − L s, c + L s];
every integral over 3D velocity space becomes a half-plane integral with the measure 2π v_perp:

    ∫ ψ(v) f(v) d³v = ∫∫ ψ f 2π v_perp dv_perp dv_par.

The grid's quadrature weights carry that factor, so moments, the entropy and the collision brackets
need nothing else. Cells are square (width L s / cells): ``cells`` along v_perp, 2 ``cells`` along v_par.

On the axis. A continuous (Gauss–Lobatto) grid would put nodes at v_perp = 0, whose lumped weight
∫φ_k 2π v_perp is zero (or negative) — a collocation scheme cannot divide by it. The first cell
along v_perp therefore uses Gauss–Radau–Jacobi nodes for the weight v_perp instead: p interior nodes
(the zeros of the Jacobi polynomial P_p^(1,1)) plus its outer end, shared with the next cell, whose
weights integrate g(v_perp) v_perp exactly for polynomials g of degree ≤ 2p. The basis stays
continuous (H¹) across cells and contains 1, v_par, v_perp², v_par² — the collision invariants of a
gyrotropic state (number, parallel momentum, energy; v_perp "momentum" is not conserved).
"""
from __future__ import annotations

import math
from functools import cached_property

import numpy as np
from scipy.special import roots_jacobi

from dgkinetic.errors import InputError
from dgkinetic.velocity import VelocityGrid, lagrange_basis

__all__ = ["AxisymmetricGrid", "radau_axis_rule"]


def radau_axis_rule(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes s (p free ones and s = 1) and weights ω on [0, 1] with Σ ω g(s) = ∫₀¹ g(s) s ds for deg g ≤ 2p.

    Parameters
    ----------
    p : int
        Number of free nodes (the grid's degree).

    Returns
    -------
    s, w : ndarray, shape (p + 1,)
        Nodes (increasing, the last one 1) and weights.
    """
    x, _ = roots_jacobi(p, 1.0, 1.0)
    s = np.concatenate([np.sort(0.5 * (x + 1.0)), [1.0]])
    # weights from the moments ∫₀¹ s^j s ds = 1/(j + 2), j = 0..p (exactness to 2p follows from the nodes)
    V = np.vander(s, p + 1, increasing=True).T
    w = np.linalg.solve(V, 1.0 / (np.arange(p + 1) + 2.0))
    return s, w


class AxisymmetricGrid(VelocityGrid):
    """Half-plane grid (v_perp, v_par) of one species for gyrotropic distributions (3V physics).

    Parameters
    ----------
    cells
        Cells along v_perp (2·cells along v_par); square cells of width extent·scale/cells.
    degree
        Polynomial degree p ≥ 1 per direction.
    extent
        v_perp ∈ [0, extent·scale], v_par ∈ [centre − extent·scale, centre + extent·scale].
    scale
        Thermal speed of the species.
    centre
        Parallel drift of the box (a number; the box is always centred at v_perp = 0).
    continuous
        Gauss–Lobatto nodes shared between cells (Radau on the axis cell; what Landau needs) or
        Gauss nodes per cell.

    Nodes are stored as (v_perp, v_par) pairs: ``dim`` = 2 for storage, ``physical_dim`` = 3.
    """

    axisymmetric = True
    axis_names = ("perp", "par")

    def __init__(self, cells: int, degree: int, extent: float = 5.0, scale: float = 1.0, centre: float = 0.0,
                 continuous: bool = True):
        centre = float(np.asarray(centre, dtype=float).reshape(-1)[-1])
        if not math.isfinite(centre):
            raise InputError(f"axisymmetric grid centre must be finite, got {centre}")
        super().__init__(2, cells, degree, extent, scale, centre=[0.0, centre], continuous=continuous)

    def _box(self) -> tuple[float, np.ndarray, tuple]:
        """Square cells of width extent·scale/cells; v_perp from 0, v_par about the centre."""
        return self.extent * self.scale / self.cells, np.array([0.0, self.centre[1] - self.extent * self.scale]), \
            (self.cells, 2 * self.cells)

    @cached_property
    def _radau(self):
        """The rule of the axis cell, :func:`radau_axis_rule` of the degree (continuous grids; else None)."""
        return radau_axis_rule(self.degree) if self.continuous else None

    @property
    def physical_dim(self) -> int:
        return 3

    @property
    def momentum_axes(self) -> tuple:
        return (1,)

    def _axis_nodes(self, axis: int):
        x, w = super()._axis_nodes(axis)
        if axis == 1:
            return x, w
        h, p = self.cell_width, self.degree
        if self.continuous:
            s, ws = self._radau
            x = x.copy()
            x[:p + 1] = h * s                                # the axis cell: Radau nodes, outer end shared
            w = w * x                                        # ∫ g v_perp dv_perp, other cells: GLL × v_perp
            w[:p] = h * h * ws[:p]
            w[p] += h * h * ws[p] - 0.5 * h * self._ref_weights[-1] * x[p]
        else:
            w = w * x
        return x, 2.0 * np.pi * w

    def _lagrange_1d(self, axis, cells, s, derivative):
        v = super()._lagrange_1d(axis, cells, s, derivative)
        if axis == 0 and self.continuous:
            first = cells == 0
            if np.any(first):
                v[first] = lagrange_basis(2.0 * self._radau[0] - 1.0, s[first], derivative=derivative)
        return v

    def measure(self, points: np.ndarray) -> np.ndarray:
        """Density 2π v_perp of the velocity measure at points.

        Parameters
        ----------
        points : ndarray, shape (n, 2)
            (v_perp, v_par) pairs.

        Returns
        -------
        ndarray, shape (n,)
        """
        return 2.0 * np.pi * np.asarray(points)[:, 0]

    def reflection(self, axis: int) -> np.ndarray:
        """Permutation of the nodes reflecting v_par ↦ −v_par (axis 1; the grid centred at 0).

        Parameters
        ----------
        axis : int
            1; v_perp (axis 0) has no reflection on this grid.

        Returns
        -------
        ndarray of int, shape (n_v,)
        """
        if axis == 0:
            raise InputError("an axisymmetric velocity grid has no reflection in v_perp (walls need a Cartesian grid)")
        return super().reflection(axis)

    def __repr__(self):
        kind = "GLL/Radau" if self.continuous else "Gauss"
        return (f"AxisymmetricGrid(cells={self.cells}x{2 * self.cells}, degree={self.degree}, {kind}, "
                f"v_perp in [0, {self.upper[0]:.3g}], v_par in [{self.lower[1]:.3g}, {self.upper[1]:.3g}])")
