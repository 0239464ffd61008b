"""Velocity space of one species: a box of tensor-product cells with nodal collocation.

Every node v_k carries a quadrature weight W_k, so a velocity moment is the exact weighted sum
Σ_k W_k ψ(v_k) f_k and the transport decouples into one advection per node (DESIGN.md).
Two node families, both collocated with their own quadrature:

- ``continuous=False``: Gauss–Legendre nodes inside each cell (discontinuous elements, exact
  mass matrix for degree ≤ 2·(p+1)−1 integrands);
- ``continuous=True``: Gauss–Lobatto–Legendre nodes shared between cells (continuous spectral
  elements, H¹-conforming, lumped mass) — what the Landau form needs.

The grid is replicated on every rank and every array here is small; nothing loops over nodes.
"""
from __future__ import annotations

import math
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from numpy.polynomial import legendre

from dgkinetic.errors import InputError

__all__ = ["VelocityGrid", "gauss_legendre", "gauss_lobatto", "lagrange_basis"]


def gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n Gauss–Legendre points and weights on [-1, 1]."""
    return legendre.leggauss(n)


def gauss_lobatto(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n ≥ 2 Gauss–Lobatto–Legendre points and weights on [-1, 1]."""
    if n < 2:
        raise InputError("Gauss–Lobatto nodes need degree ≥ 1")
    p = n - 1
    interior = legendre.Legendre.basis(p).deriv().roots()
    x = np.concatenate([[-1.0], np.sort(interior.real), [1.0]])
    w = 2.0 / (p * (p + 1) * legendre.legval(x, [0] * p + [1]) ** 2)
    return x, w


def lagrange_basis(nodes: np.ndarray, s: np.ndarray, derivative: bool = False) -> np.ndarray:
    """Lagrange basis of ``nodes`` (shape (m,)) at points ``s`` (shape (n,)); returns (n, m).

    With ``derivative=True`` the first derivatives are returned instead.
    """
    s = np.asarray(s, dtype=float)[:, None]
    diff = s - nodes[None, :]                                  # (n, m)
    denom = np.array([np.prod([nodes[a] - nodes[b] for b in range(len(nodes)) if b != a])
                      for a in range(len(nodes))])
    m = len(nodes)
    if not derivative:
        vals = np.empty((s.shape[0], m))
        for a in range(m):
            vals[:, a] = np.prod(np.delete(diff, a, axis=1), axis=1)
        return vals / denom
    ders = np.zeros((s.shape[0], m))
    for a in range(m):
        others = [b for b in range(m) if b != a]
        for c in others:
            ders[:, a] += np.prod(diff[:, [b for b in others if b != c]], axis=1)
    return ders / denom


class VelocityGrid:
    """Tensor-product velocity grid [c − L s, c + L s]^d of one species.

    Parameters
    ----------
    dim
        Velocity dimension d ∈ {2, 3}.
    cells
        Number of cells per direction.
    degree
        Polynomial degree p ≥ 1 in each direction (p + 1 nodes per cell and direction).
    extent
        Half-width L of the box in units of ``scale``.
    scale
        Thermal speed s = sqrt(T_ref / m_i) of the species; the box scales with it.
    centre
        Reference drift c (length d); default zero.
    continuous
        Gauss–Lobatto nodes shared between cells (True) or Gauss nodes per cell (False).

    Attributes
    ----------
    nodes : ndarray, shape (n_v, d)
        Velocity nodes v_k, index order C ('ij') over the d directions.
    weights : ndarray, shape (n_v,)
        Quadrature weights W_k (units of velocity^d).
    """

    def __init__(self, dim: int, cells: int, degree: int, extent: float = 5.0, scale: float = 1.0,
                 centre=None, continuous: bool = False):
        if dim not in (2, 3):
            raise InputError(f"velocity dimension must be 2 or 3, got {dim}")
        if int(cells) != cells or cells < 1:
            raise InputError(f"velocity cells per direction must be a positive integer, got {cells}")
        if int(degree) != degree or degree < 1 or degree > 8:
            raise InputError(f"velocity degree must be an integer in [1, 8], got {degree}")
        for what, value in (("extent", extent), ("scale", scale)):
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"velocity {what} must be positive and finite, got {value}")
        self.dim = int(dim)
        self.cells = int(cells)
        self.degree = int(degree)
        self.extent = float(extent)
        self.scale = float(scale)
        self.centre = np.zeros(dim) if centre is None else np.asarray(centre, dtype=float).reshape(dim)
        self.continuous = bool(continuous)
        n = self.degree + 1
        self.ref_nodes, ref_w = gauss_lobatto(n) if continuous else gauss_legendre(n)
        self.cell_width = 2.0 * self.extent * self.scale / self.cells
        self.lower = self.centre - self.extent * self.scale
        # 1D nodes and weights per direction (same reference for every direction, shifted per centre).
        offsets = np.arange(self.cells)[:, None] * self.cell_width
        local = 0.5 * (self.ref_nodes + 1.0)[None, :] * self.cell_width
        wl = 0.5 * self.cell_width * np.broadcast_to(ref_w, (self.cells, n))
        if continuous:
            x = (offsets + local)[:, :-1].ravel()
            x = np.concatenate([x, [self.cells * self.cell_width]])
            w = np.zeros(self.cells * self.degree + 1)
            idx = self._local_to_global_1d()
            np.add.at(w, idx.ravel(), wl.ravel())
        else:
            x = (offsets + local).ravel()
            w = wl.ravel()
        self.nodes_1d = [self.lower[a] + x for a in range(dim)]
        self.weights_1d = w
        grids = np.meshgrid(*self.nodes_1d, indexing="ij")
        self.nodes = np.stack([g.ravel() for g in grids], axis=1)
        wgrid = np.ones([len(w)] * dim)
        for a in range(dim):
            shape = [1] * dim
            shape[a] = len(w)
            wgrid = wgrid * w.reshape(shape)
        self.weights = wgrid.ravel()

    # ------------------------------------------------------------------ sizes and layout
    @property
    def n1(self) -> int:
        """Nodes per direction."""
        return len(self.weights_1d)

    @property
    def size(self) -> int:
        """Number of velocity nodes n_v."""
        return self.n1 ** self.dim

    @property
    def upper(self) -> np.ndarray:
        return self.lower + 2.0 * self.extent * self.scale

    def _local_to_global_1d(self) -> np.ndarray:
        """(cells, p+1) array of 1D node indices of each cell's local nodes."""
        n = self.degree + 1
        c = np.arange(self.cells)[:, None]
        a = np.arange(n)[None, :]
        return c * self.degree + a if self.continuous else c * n + a

    def __repr__(self):
        kind = "GLL" if self.continuous else "Gauss"
        return (f"VelocityGrid(dim={self.dim}, cells={self.cells}, degree={self.degree}, {kind}, "
                f"box=[{self.lower.round(3).tolist()}, {self.upper.round(3).tolist()}])")

    @cached_property
    def cell_nodes(self) -> np.ndarray:
        """Flat node indices of every cell, shape (cells^d, (p+1)^d), cells in C order."""
        l2g = self._local_to_global_1d()
        per_cell = l2g
        for _ in range(1, self.dim):
            per_cell = (per_cell[:, None, :, None] * self.n1 + l2g[None, :, None, :]).reshape(
                per_cell.shape[0] * self.cells, -1)
        return per_cell

    def cell_of(self, points: np.ndarray) -> np.ndarray:
        """Index of the cell holding each point (nearest cell outside the box), shape (n,)."""
        cell = np.zeros(points.shape[0], dtype=np.int64)
        for a in range(self.dim):
            c, _ = self._locate_1d(points[:, a], a)
            cell = cell * self.cells + c
        return cell

    # ------------------------------------------------------------------ evaluation off the nodes
    def contains(self, points: np.ndarray) -> np.ndarray:
        """Boolean mask of the points (shape (n, d)) inside the closed box."""
        points = np.asarray(points)
        tol = 1e-12 * self.cell_width
        return np.all((points >= self.lower - tol) & (points <= self.upper + tol), axis=1)

    def _locate_1d(self, x: np.ndarray, axis: int):
        """Cell index and reference coordinate in [-1, 1] of 1D coordinates x along ``axis``."""
        t = (x - self.lower[axis]) / self.cell_width
        c = np.clip(np.floor(t).astype(np.int64), 0, self.cells - 1)
        return c, 2.0 * (t - c) - 1.0

    def basis_at(self, points: np.ndarray, derivative: int | None = None) -> sp.csr_matrix:
        """Sparse matrix E (n_points, n_v) with (E f)_q = f_h(points_q) for nodal values f.

        Points outside the box are evaluated with the polynomial of the nearest cell; use
        :meth:`contains` to exclude them. With ``derivative=a`` the rows give ∂f_h/∂v_a.
        """
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        npts, n = points.shape[0], self.degree + 1
        l2g = self._local_to_global_1d()
        vals, idx = [], []
        for a in range(self.dim):
            c, s = self._locate_1d(points[:, a], a)
            v = lagrange_basis(self.ref_nodes, s, derivative=(derivative == a))
            if derivative == a:
                v = v * (2.0 / self.cell_width)
            vals.append(v)
            idx.append(l2g[c])                                 # (npts, n)
        # Tensor product over directions: (npts, n^d) values and flat global indices.
        val = vals[0]
        gid = idx[0]
        for a in range(1, self.dim):
            val = (val[:, :, None] * vals[a][:, None, :]).reshape(npts, -1)
            gid = (gid[:, :, None] * self.n1 + idx[a][:, None, :]).reshape(npts, -1)
        rows = np.repeat(np.arange(npts), n ** self.dim)
        E = sp.csr_matrix((val.ravel(), (rows, gid.ravel())), shape=(npts, self.size))
        E.sum_duplicates()
        return E

    # ------------------------------------------------------------------ cell quadrature (H¹ forms)
    def cell_quadrature(self, points_per_direction: int | None = None):
        """Gauss quadrature inside every cell, for forms that need gradients (Landau).

        Returns
        -------
        points : ndarray (N_q, d)
        weights : ndarray (N_q,)
        values : csr_matrix (N_q, n_v)
            Nodal values → values at the quadrature points.
        gradients : list of d csr_matrix (N_q, n_v)
            Nodal values → ∂/∂v_a at the quadrature points (cell-wise, so well defined).
        """
        q = points_per_direction or self.degree + 1
        rq, rw = gauss_legendre(q)
        offs = np.arange(self.cells)[:, None] * self.cell_width
        x1 = (offs + 0.5 * (rq + 1.0)[None, :] * self.cell_width).ravel()
        w1 = np.tile(0.5 * self.cell_width * rw, self.cells)
        # Quadrature points grouped by cell along each axis keeps "nearest cell" unambiguous.
        grids = np.meshgrid(*[self.lower[a] + x1 for a in range(self.dim)], indexing="ij")
        pts = np.stack([g.ravel() for g in grids], axis=1)
        wg = np.ones([len(w1)] * self.dim)
        for a in range(self.dim):
            shape = [1] * self.dim
            shape[a] = len(w1)
            wg = wg * w1.reshape(shape)
        values = self.basis_at(pts)
        gradients = [self.basis_at(pts, derivative=a) for a in range(self.dim)]
        return pts, wg.ravel(), values, gradients

    # ------------------------------------------------------------------ symmetries
    def reflection(self, axis: int) -> np.ndarray:
        """Permutation P with nodes[P[k]] = nodes[k] reflected in v_axis ↦ −v_axis.

        Specular walls use it; it exists only when the grid is symmetric about v_axis = 0.
        """
        if abs(self.centre[axis]) > 1e-14 * self.scale:
            raise InputError(f"a specular/diffuse wall with normal along axis {axis} needs the velocity "
                             f"grid centred at 0 in that direction (centre is {self.centre[axis]})")
        n1 = self.n1
        idx = np.arange(self.size).reshape([n1] * self.dim)
        return np.flip(idx, axis=axis).ravel()

    @cached_property
    def volume(self) -> float:
        return float(np.sum(self.weights))
