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
    """n Gauss–Legendre points and weights on [-1, 1] (exact for polynomials of degree ≤ 2n − 1).

    Parameters
    ----------
    n : int
        Number of points.

    Returns
    -------
    x, w : ndarray, shape (n,)
        Points (increasing) and weights.
    """
    return legendre.leggauss(n)


def gauss_lobatto(n: int) -> tuple[np.ndarray, np.ndarray]:
    """n ≥ 2 Gauss–Lobatto–Legendre points and weights on [-1, 1] (exact for degree ≤ 2n − 3).

    Parameters
    ----------
    n : int
        Number of points, the end points ±1 included.

    Returns
    -------
    x, w : ndarray, shape (n,)
        Points (increasing) and weights.
    """
    if n < 2:
        raise InputError("Gauss–Lobatto nodes need degree ≥ 1")
    p = n - 1
    interior = legendre.Legendre.basis(p).deriv().roots()
    x = np.concatenate([[-1.0], np.sort(interior.real), [1.0]])
    w = 2.0 / (p * (p + 1) * legendre.legval(x, [0] * p + [1]) ** 2)
    return x, w


def lagrange_basis(nodes: np.ndarray, s: np.ndarray, derivative: bool = False) -> np.ndarray:
    """Lagrange basis L_a(s) = Π_{b≠a}(s − x_b)/Π_{b≠a}(x_a − x_b) of ``nodes`` at points ``s``.

    The product form reproduces 1, s, s² to round-off (which exact conservation needs), unlike
    monomial coefficients, whose Vandermonde conditioning grows with the degree; the values are
    built from prefix and suffix products of s − x_b.

    Parameters
    ----------
    nodes
        Distinct nodes x_a, shape (m,).
    s
        Evaluation points, any shape.
    derivative
        Return the first derivatives L_a'(s) instead of the values.

    Returns
    -------
    ndarray, shape s.shape + (m,)
    """
    nodes = np.asarray(nodes, dtype=float)
    s = np.asarray(s, dtype=float)
    m = len(nodes)
    gaps = nodes[:, None] - nodes[None, :]
    np.fill_diagonal(gaps, 1.0)
    denom = np.prod(gaps, axis=1)                              # Π_{b≠a}(x_a − x_b)
    diff = s[..., None] - nodes                                # s.shape + (m,)
    # m = p + 1 ≤ 9 basis functions: these loops run over them, never over points
    if not derivative:
        out = np.empty_like(diff)
        acc = np.ones(s.shape)
        for a in range(m):
            out[..., a] = acc
            acc = acc * diff[..., a]
        acc = np.ones(s.shape)
        for a in range(m - 1, -1, -1):
            out[..., a] *= acc
            acc = acc * diff[..., a]
        return out / denom
    ders = np.zeros_like(diff)
    for a in range(m):
        others = [b for b in range(m) if b != a]
        for c in others:
            ders[..., a] += np.prod(diff[..., [b for b in others if b != c]], axis=-1)
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
        rule = gauss_lobatto if continuous else gauss_legendre
        self.ref_nodes, self._ref_weights = rule(self.degree + 1)
        self.cell_width, self.lower, self.axis_cells = self._box()
        self.nodes_1d, self.weights_1d, self.shape, self.nodes, self.weights = self._build_nodes()

    #: velocity dimension of the physics (3 for the axisymmetric half-plane) and the axes whose
    #: momentum is a collision invariant
    axisymmetric = False
    axis_names = ("x", "y", "z")

    @property
    def physical_dim(self) -> int:
        return self.dim

    @property
    def momentum_axes(self) -> tuple:
        return tuple(range(self.dim))

    def _axis_nodes(self, axis: int):
        """1D nodes (from the box's lower corner) and weights along ``axis``."""
        n, cells, h = self.degree + 1, self.axis_cells[axis], self.cell_width
        offsets = np.arange(cells)[:, None] * h
        local = 0.5 * (self.ref_nodes + 1.0)[None, :] * h
        wl = 0.5 * h * np.broadcast_to(self._ref_weights, (cells, n))
        if not self.continuous:
            return (offsets + local).ravel(), wl.ravel()
        x = np.concatenate([(offsets + local)[:, :-1].ravel(), [cells * h]])
        w = np.zeros(cells * self.degree + 1)
        np.add.at(w, self._local_to_global_1d(axis).ravel(), wl.ravel())
        return x, w

    def _box(self) -> tuple[float, np.ndarray, tuple]:
        """Cell width, lower corner and number of cells per axis of the box (from dim, cells,
        extent, scale and centre)."""
        return 2.0 * self.extent * self.scale / self.cells, self.centre - self.extent * self.scale, \
            (self.cells,) * self.dim

    def _build_nodes(self) -> tuple[list, list, tuple, np.ndarray, np.ndarray]:
        """The grid's nodes and weights from its box (:meth:`_axis_nodes` per axis).

        Returns
        -------
        nodes_1d, weights_1d : list of ndarray
            Nodes and weights along each axis.
        shape : tuple of int
            Nodes per axis.
        nodes : ndarray, shape (n_v, d)
            The tensor-product nodes, index order C ('ij').
        weights : ndarray, shape (n_v,)
            Their quadrature weights.
        """
        axes = [self._axis_nodes(a) for a in range(self.dim)]
        nodes_1d = [self.lower[a] + x for a, (x, _) in enumerate(axes)]
        weights_1d = [w for _, w in axes]
        shape = tuple(len(x) for x in nodes_1d)
        grids = np.meshgrid(*nodes_1d, indexing="ij")
        nodes = np.stack([g.ravel() for g in grids], axis=1)
        wgrid = np.ones(shape)
        for a, w in enumerate(weights_1d):
            axis_shape = [1] * self.dim
            axis_shape[a] = len(w)
            wgrid = wgrid * w.reshape(axis_shape)
        return nodes_1d, weights_1d, shape, nodes, wgrid.ravel()

    # ------------------------------------------------------------------ sizes and layout
    @property
    def n1(self) -> int:
        """Nodes along the first axis (all axes, for a Cartesian grid)."""
        return self.shape[0]

    @property
    def size(self) -> int:
        """Number of velocity nodes n_v."""
        return int(np.prod(self.shape))

    @property
    def upper(self) -> np.ndarray:
        return self.lower + self.cell_width * np.array(self.axis_cells)

    def _local_to_global_1d(self, axis: int = 0) -> np.ndarray:
        """(cells, p+1) array of 1D node indices of each cell's local nodes along ``axis``."""
        n = self.degree + 1
        c = np.arange(self.axis_cells[axis])[:, None]
        a = np.arange(n)[None, :]
        return c * self.degree + a if self.continuous else c * n + a

    def __repr__(self):
        kind = "GLL" if self.continuous else "Gauss"
        return (f"VelocityGrid(dim={self.dim}, cells={self.cells}, degree={self.degree}, {kind}, "
                f"box=[{self.lower.round(3).tolist()}, {self.upper.round(3).tolist()}])")

    @cached_property
    def cell_nodes(self) -> np.ndarray:
        """Flat node indices of every cell, shape (n_cells, (p+1)^d), cells in C order."""
        per_cell = self._local_to_global_1d(0)
        for a in range(1, self.dim):
            l2g = self._local_to_global_1d(a)
            per_cell = (per_cell[:, None, :, None] * self.shape[a] + l2g[None, :, None, :]).reshape(
                per_cell.shape[0] * l2g.shape[0], -1)
        return per_cell

    def cell_of(self, points: np.ndarray) -> np.ndarray:
        """Index of the cell holding each point (nearest cell outside the box).

        Parameters
        ----------
        points : ndarray, shape (n, d)

        Returns
        -------
        ndarray of int, shape (n,)
            Flat cell index, in C order over the axes.
        """
        cell = np.zeros(points.shape[0], dtype=np.int64)
        for a in range(self.dim):
            c, _ = self._locate_1d(points[:, a], a)
            cell = cell * self.axis_cells[a] + c
        return cell

    # ------------------------------------------------------------------ evaluation off the nodes
    def contains(self, points: np.ndarray) -> np.ndarray:
        """Which points lie inside the closed box (to a tolerance of 1e-12 cell widths).

        Parameters
        ----------
        points : ndarray, shape (n, d)

        Returns
        -------
        ndarray of bool, shape (n,)
        """
        points = np.asarray(points)
        tol = 1e-12 * self.cell_width
        return np.all((points >= self.lower - tol) & (points <= self.upper + tol), axis=1)

    def _locate_1d(self, x: np.ndarray, axis: int):
        """Cell index and reference coordinate in [-1, 1] of 1D coordinates x along ``axis``."""
        t = (x - self.lower[axis]) / self.cell_width
        c = np.clip(np.floor(t).astype(np.int64), 0, self.axis_cells[axis] - 1)
        return c, 2.0 * (t - c) - 1.0

    def _lagrange_1d(self, axis: int, cells: np.ndarray, s: np.ndarray, derivative: bool) -> np.ndarray:
        """Cell-local Lagrange basis along ``axis`` at reference coordinates s of the given cells."""
        return lagrange_basis(self.ref_nodes, s, derivative=derivative)

    def basis_at(self, points: np.ndarray, derivative: int | None = None) -> sp.csr_matrix:
        """Sparse matrix E (n_points, n_v) with (E f)_q = f_h(points_q) for nodal values f.

        Points outside the box are evaluated with the polynomial of the nearest cell; use
        :meth:`contains` to exclude them.

        Parameters
        ----------
        points : ndarray, shape (n_points, d)
        derivative : int, optional
            An axis a: the rows give ∂f_h/∂v_a instead.

        Returns
        -------
        scipy.sparse.csr_matrix, shape (n_points, n_v)
        """
        points = np.asarray(points, dtype=float).reshape(-1, self.dim)
        npts, n = points.shape[0], self.degree + 1
        vals, idx = [], []
        for a in range(self.dim):
            c, s = self._locate_1d(points[:, a], a)
            v = self._lagrange_1d(a, c, s, derivative == a)
            if derivative == a:
                v = v * (2.0 / self.cell_width)
            vals.append(v)
            idx.append(self._local_to_global_1d(a)[c])         # (npts, n)
        # Tensor product over directions: (npts, n^d) values and flat global indices.
        val = vals[0]
        gid = idx[0]
        for a in range(1, self.dim):
            val = (val[:, :, None] * vals[a][:, None, :]).reshape(npts, -1)
            gid = (gid[:, :, None] * self.shape[a] + idx[a][:, None, :]).reshape(npts, -1)
        rows = np.repeat(np.arange(npts), n ** self.dim)
        E = sp.csr_matrix((val.ravel(), (rows, gid.ravel())), shape=(npts, self.size))
        E.sum_duplicates()
        return E

    # ------------------------------------------------------------------ cell quadrature (H¹ forms)
    def cell_quadrature(self, points_per_direction: int | None = None):
        """Gauss quadrature inside every cell, for forms that need gradients (Landau).

        Parameters
        ----------
        points_per_direction : int, optional
            Gauss points per cell and direction; default degree + 1.

        Returns
        -------
        points : ndarray (N_q, d)
        weights : ndarray (N_q,)
            Quadrature weights times the density of the velocity measure (:meth:`measure`).
        values : csr_matrix (N_q, n_v)
            Nodal values → values at the quadrature points.
        gradients : list of d csr_matrix (N_q, n_v)
            Nodal values → ∂/∂v_a at the quadrature points (cell-wise, so well defined).
        """
        q = points_per_direction or self.degree + 1
        rq, rw = gauss_legendre(q)
        x1, w1 = [], []
        for a in range(self.dim):
            offs = np.arange(self.axis_cells[a])[:, None] * self.cell_width
            x1.append(self.lower[a] + (offs + 0.5 * (rq + 1.0)[None, :] * self.cell_width).ravel())
            w1.append(np.tile(0.5 * self.cell_width * rw, self.axis_cells[a]))
        # Quadrature points grouped by cell along each axis keeps "nearest cell" unambiguous.
        grids = np.meshgrid(*x1, indexing="ij")
        pts = np.stack([g.ravel() for g in grids], axis=1)
        wg = np.ones([len(w) for w in w1])
        for a in range(self.dim):
            shape = [1] * self.dim
            shape[a] = len(w1[a])
            wg = wg * w1[a].reshape(shape)
        values = self.basis_at(pts)
        gradients = [self.basis_at(pts, derivative=a) for a in range(self.dim)]
        return pts, wg.ravel() * self.measure(pts), values, gradients

    def measure(self, points: np.ndarray) -> np.ndarray:
        """Density of the velocity measure at points (1 for a Cartesian grid).

        Parameters
        ----------
        points : ndarray, shape (n, d)

        Returns
        -------
        ndarray, shape (n,)
        """
        return np.ones(len(points))

    # ------------------------------------------------------------------ symmetries
    def reflection(self, axis: int) -> np.ndarray:
        """Permutation P with nodes[P[k]] = nodes[k] reflected in v_axis ↦ −v_axis.

        Specular walls use it; it exists only when the grid is symmetric about v_axis = 0.

        Parameters
        ----------
        axis : int
            The velocity axis reflected.

        Returns
        -------
        ndarray of int, shape (n_v,)
            P; an :class:`~dgkinetic.errors.InputError` if the grid is not centred at 0 along
            ``axis``.
        """
        if abs(self.centre[axis]) > 1e-14 * self.scale:
            raise InputError(f"a specular/diffuse wall with normal along axis {axis} needs the velocity "
                             f"grid centred at 0 in that direction (centre is {self.centre[axis]})")
        idx = np.arange(self.size).reshape(self.shape)
        return np.flip(idx, axis=axis).ravel()

    @cached_property
    def volume(self) -> float:
        return float(np.sum(self.weights))
