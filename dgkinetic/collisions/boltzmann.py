"""Multi-species cut-off Boltzmann collision operator in structure-preserving (GENERIC) form.

The operator is *defined* through its dissipative bracket (PHYSICS.md §2, DESIGN.md "Operators"):

    ⟨Q_h(F), φ⟩ = −M_h(F)[η_h, φ],   M_h(F)[ξ, η] = ¼ Σ_{ij} Σ_t c_t Λ_t ∇̄ξ_t ∇̄η_t,

a discrete version of  M(F)[ξ, η] = ¼ Σ_ij ∫ B_ij Λ_ij ∇̄^{ij}ξ ∇̄^{ij}η dσ dv* dv  (PHYSICS.md §2).
A discrete collision t = (k, l, s) of the pair (i, j) has v = v^i_k, v* = v^j_l, σ = σ_s (sphere rule
in the frame of g = v − v*, :mod:`~dgkinetic.collisions.sphere`), mass-weighted post-collision
velocities (PHYSICS.md §1)

    V = (m_i v + m_j v*)/(m_i + m_j),   v' = V + m_j/(m_i+m_j) |g| σ,   v*' = V − m_i/(m_i+m_j) |g| σ,

and weight c_t = W_k W_l ω_s B_ij(|g|, cosθ_s). Test functions are evaluated at the *exact*
post-collision velocities through the velocity basis, ∇̄φ_t = φ_i(v') + φ_j(v*') − φ_i(v) − φ_j(v*),
and so are the entropy variables: η_i(v') = (E' η_i), f_i(v') = f(η_i(v')) (positive by construction).
Λ_t is the logarithmic mean of s_t = f_i'f_j*'τ_iτ_j* and t_t = f_if_j*τ_i'τ_j*'. Because s/t = e^{∇̄η},
Λ_t ∇̄η_t = s_t − t_t exactly, and the weak form is the gain-minus-loss sum

    ⟨Q_h, φ_k⟩ = −¼ Σ_{ij} Σ_t c_t (s_t − t_t) ∇̄φ_k,t.

Consequences, all exact up to round-off and independent of the resolution:

- collision invariants (1_i, m_i v, m_i|v|²/2) are polynomials of degree ≤ 2, reproduced by the
  basis when the degree p ≥ 2, so ∇̄ψ_t = 0 for every t and Σ_k ψ_k ⟨Q_h, φ_k⟩ = 0;
- the entropy changes at −M_h[η_h, η_h] = −Σ c_t Λ_t (∇̄η_t)² ≤ 0 (c_t ≥ 0, Λ_t > 0);
- states with η_i affine in the invariants (common b, c) have ∇̄η ≡ 0: they are fixed points.

Which collisions are kept
-------------------------
A collision whose v' leaves species i's box or whose v*' leaves species j's box is dropped (c_t = 0).
This keeps every property above (it only removes non-negative terms from the bracket); it
truncates the collision integral near the box edge, where f is tiny for a well-chosen box.
Trivial collisions (g = 0, or b = 0) are dropped too: they contribute nothing.

Each unordered pair is stored once: the ordered pairs (i, j) and (j, i) contribute identically
(swap v ↔ v*, σ ↔ −σ), and within one species the collision (l, k) is the mirror of (k, l). So
only k < l (same species) or all (k, l) (i < j) are stored, with c_t = ½ W_k W_l ω_s B, which
absorbs the ¼ and the factor 2 of the symmetry.

Cost and storage
----------------
Per kept collision a pair stores k, l and c, plus either the sparse interpolation rows of v' and v*'
(``storage="matrix"``: column indices and tensor-product Lagrange values, fastest) or only the cell
and reference coordinates of v', v*' (``"compact"``: the rows are rebuilt chunk by chunk at every
evaluation, ~4–8× less memory). Either way an evaluation applies the rows to all state rows at once
(sparse × dense) and scatters back with their transposes: no Python loop over nodes, rows or
collisions. The cost is O(n_v² M (p+1)^d) per row. The tables depend only on the grids, the masses,
the kernel and the sphere rule and are cached on disk (see :class:`Boltzmann`).

Accuracy and limits (measured in tests/test_boltzmann.py and bench/bench_boltzmann.py)
-------------------------------------------------------------------------------
- Tested against smooth functions (moments), the consistency error converges fast (order ≥ p+1).
  *Nodal* values converge slowly (≈ first order): the nodal value is the weak form tested with a
  discontinuous DG basis function at post-collision velocities, a lattice sum over (v, v*) of an
  integrand that jumps where v' crosses a cell boundary. More sphere nodes do not reduce this error.
  :class:`~dgkinetic.collisions.collocation.CollocationBoltzmann` collocates gain − loss over the
  same collisions instead (high-order nodal values, conservation restored, no bracket).
- Explicit time stepping fails in the far tails: there the weak gain, tested with Lagrange basis
  functions that change sign, need not be positive, so a nodal value of ~1e-16 can be driven
  negative. Step implicitly (Newton in the entropy variable works; see the tests).
- :meth:`Boltzmann.gain`, :meth:`~Boltzmann.loss` and :meth:`~Boltzmann.collision_frequency` are a
  pointwise (strong) quadrature over the same collisions, for diagnostics only; the structure-
  preserving :meth:`~Boltzmann.weak_form` is the operator.
"""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from dgkinetic.collisions.base import CollisionOperator
from dgkinetic.collisions.kernels import CollisionKernel
from dgkinetic.collisions.sphere import SphereQuadrature, directions, sphere_quadrature
from dgkinetic.errors import InputError, NonPhysicalStateError
from dgkinetic.mixture import Mixture
from dgkinetic.statistics import from_entropy_variable
from dgkinetic.velocity import VelocityGrid, lagrange_basis

__all__ = ["Boltzmann", "default_cache_dir", "log_mean_ratio"]

logger = logging.getLogger("dgkinetic.collisions.boltzmann")

#: bump when the cached arrays change meaning
CACHE_FORMAT = 1

#: the arrays of one cached pair table
_TABLE_ARRAYS = ("k", "l", "c", "base_p", "ref_p", "base_s", "ref_s", "coincident")

#: default sphere rule sizes: 2D nodes on the circle, 3D Gauss–Legendre nodes in cosθ (× 2n azimuths)
DEFAULT_SPHERE = {2: 16, 3: 4}


def default_cache_dir() -> Path:
    """``$DGKINETIC_CACHE`` or ``~/.cache/dgkinetic/collision``."""
    env = os.environ.get("DGKINETIC_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "dgkinetic" / "collision"


def log_mean_ratio(d: np.ndarray) -> np.ndarray:
    """(e^d − 1)/d, i.e. Λ(e^d, 1), stably (series near d = 0; 1 at d = 0)."""
    d = np.asarray(d, dtype=float)
    small = np.abs(d) < 1e-5
    safe = np.where(small, 1.0, d)
    with np.errstate(over="ignore"):
        out = np.expm1(np.minimum(safe, 700.0)) / safe
    # 1 + d/2 + d²/6 has relative error d³/24 < 1e-16 here
    return np.where(small, 1.0 + d * (0.5 + d / 6.0), out)


# ====================================================================================== interpolation
class _GridInterpolation:
    """Cell location and tensor-product Lagrange rows of one velocity grid (what basis_at does,
    split so that only cell index and reference coordinates need storing)."""

    def __init__(self, grid: VelocityGrid):
        self.grid = grid
        self.dim = grid.dim
        self.n = grid.degree + 1
        self.ref_nodes = grid.ref_nodes
        self.step = grid.degree if grid.continuous else grid.degree + 1   # 1D index of a cell's node 0
        self.strides = grid.n1 ** np.arange(grid.dim - 1, -1, -1)         # C order, as grid.nodes
        local = np.stack(np.meshgrid(*[np.arange(self.n)] * grid.dim, indexing="ij"), axis=-1)
        self.offsets = (local.reshape(-1, grid.dim) @ self.strides).astype(np.int64)   # (n^d,)

    @property
    def width(self) -> int:
        return self.n ** self.dim

    def locate(self, points: np.ndarray):
        """First node of the enclosing cell (flat index) and reference coordinates in [−1, 1]^d."""
        base = np.zeros(points.shape[0], dtype=np.int64)
        ref = np.empty_like(points)
        for a in range(self.dim):
            c, s = self.grid._locate_1d(points[:, a], a)
            base += c * self.step * self.strides[a]
            ref[:, a] = s
        return base, ref

    def lagrange(self, s: np.ndarray) -> np.ndarray:
        """1D Lagrange basis of the reference nodes at s (any shape) → shape s.shape + (n,)."""
        return lagrange_basis(self.ref_nodes, s)

    def rows(self, base: np.ndarray, ref: np.ndarray, block: int = 1 << 15):
        """Column indices (int32) and values, each (C, n^d), of the interpolation rows at the
        points given by cell ``base`` and reference coordinates ``ref``; built in cache-sized blocks."""
        C = len(base)
        idx = np.empty((C, self.width), dtype=np.int32)
        val = np.empty((C, self.width))
        for a0 in range(0, C, block):
            a1 = min(C, a0 + block)
            L = self.lagrange(ref[a0:a1])                               # (c, d, n)
            v = L[:, 0]
            for a in range(1, self.dim):
                v = (v[:, :, None] * L[:, a, None, :]).reshape(a1 - a0, -1)
            val[a0:a1] = v
            np.add(base[a0:a1, None], self.offsets[None, :], out=idx[a0:a1], casting="unsafe")
        return idx, val

    def descriptor(self) -> str:
        g = self.grid
        return (f"grid(dim={g.dim},cells={g.cells},degree={g.degree},extent={g.extent!r},"
                f"scale={g.scale!r},centre={g.centre.tolist()!r},continuous={g.continuous})")


# ====================================================================================== tables
@dataclass
class _PairTable:
    """The kept discrete collisions of one unordered species pair (columns are global).

    Always holds k, l, c. ``compact`` storage keeps the cell of v', v*' (first node) and the
    reference coordinates and rebuilds the interpolation rows per evaluation; ``matrix`` storage
    keeps the rows themselves (column indices and values, (C, (p+1)^d) each), built once.
    """

    i: int
    j: int
    alpha_i: int
    alpha_j: int
    kl: np.ndarray           # (C, 2) columns of v (species i) and v* (species j)
    coincident: np.ndarray   # (n, 2) columns with v = v* (g = 0): no collision, but counted by ν
    c: np.ndarray            # (C,) ½ W_k W_l ω_s B_ij
    interp_i: _GridInterpolation
    interp_j: _GridInterpolation
    base_p: np.ndarray | None = None     # compact: column of node 0 of the cell holding v'
    ref_p: np.ndarray | None = None      # compact: (C, d) reference coordinates of v'
    base_s: np.ndarray | None = None     # compact: same for v*'
    ref_s: np.ndarray | None = None
    rows_p: tuple | None = None          # matrix: (indices, values) of E' rows
    rows_s: tuple | None = None          # matrix: (indices, values) of E*' rows

    @property
    def size(self) -> int:
        return len(self.c)

    @property
    def classical(self) -> bool:
        return self.alpha_i == 0 and self.alpha_j == 0

    def to_matrix(self) -> None:
        """Build and keep the interpolation rows; drop the compact data."""
        self.rows_p = self.interp_i.rows(self.base_p, self.ref_p)
        self.rows_s = self.interp_j.rows(self.base_s, self.ref_s)
        self.base_p = self.ref_p = self.base_s = self.ref_s = None

    def rows(self, a: int, b: int):
        """(idx_p, val_p, idx_s, val_s) of the collisions a..b (views in matrix storage)."""
        if self.rows_p is not None:
            return (self.rows_p[0][a:b], self.rows_p[1][a:b], self.rows_s[0][a:b], self.rows_s[1][a:b])
        ip, vp = self.interp_i.rows(self.base_p[a:b], self.ref_p[a:b])
        is_, vs = self.interp_j.rows(self.base_s[a:b], self.ref_s[a:b])
        return ip, vp, is_, vs

    def nbytes(self) -> int:
        arrays = [self.kl, self.c, self.base_p, self.ref_p, self.base_s, self.ref_s]
        arrays += list(self.rows_p or ()) + list(self.rows_s or ())
        return sum(a.nbytes for a in arrays if a is not None)


def _fixed_width_csr(idx: np.ndarray, val: np.ndarray, ncols: int) -> sp.csr_matrix:
    """CSR matrix from equal-length rows, without copying contiguous inputs (duplicate columns are
    allowed: products sum them)."""
    C, w = idx.shape
    dtype = np.int32 if C * w < 2 ** 31 and ncols < 2 ** 31 else np.int64
    indptr = np.arange(0, C * w + 1, w, dtype=dtype)
    # int32 inputs of the right dtype are taken as they are (no scan of their contents)
    return sp.csr_matrix((val.reshape(-1), idx.reshape(-1).astype(dtype, copy=False), indptr),
                         shape=(C, ncols))


class _Chunk:
    """Sparse rows of a contiguous range a..b of one pair's collisions."""

    def __init__(self, table: _PairTable, a: int, b: int, size: int):
        self.kl = table.kl[a:b]
        self.k, self.l = self.kl[:, 0], self.kl[:, 1]
        self.c = table.c[a:b]
        self.size = size
        self.idx_p, self.val_p, self.idx_s, self.val_s = table.rows(a, b)
        self.Ep = _fixed_width_csr(self.idx_p, self.val_p, size)      # η ↦ η_i(v')
        self.Es = _fixed_width_csr(self.idx_s, self.val_s, size)      # η ↦ η_j(v*')
        self.Ikl = _fixed_width_csr(self.kl, np.ones(self.kl.shape), size)

    def __len__(self):
        return len(self.c)

    def grad(self, YT: np.ndarray) -> np.ndarray:
        """∇̄Y_t = Y_i(v') + Y_j(v*') − Y_i(v) − Y_j(v*) for nodal columns YT (size, R) → (C, R)."""
        return self.Ep @ YT + self.Es @ YT - YT[self.k] - YT[self.l]

    def grad_transpose(self, Z: np.ndarray) -> np.ndarray:
        """Σ_t Z_t ∇̄φ_t for every node: the adjoint of :meth:`grad`, (C, R) → (size, R)."""
        return self.Ep.T @ Z + self.Es.T @ Z - self.Ikl.T @ Z

    def matrix(self) -> sp.csr_matrix:
        """The rows ∇̄φ_t as one CSR matrix A (C, size): E' + E*' − I_k − I_l."""
        idx = np.concatenate([self.idx_p, self.idx_s, self.kl], axis=1)
        val = np.concatenate([self.val_p, self.val_s, -np.ones(self.kl.shape)], axis=1)
        return _fixed_width_csr(idx, val, self.size)


# ====================================================================================== operator
class Boltzmann(CollisionOperator):
    """The structure-preserving multi-species Boltzmann collision operator (see module docstring).

    Parameters
    ----------
    mixture
        Species and their velocity grids; every grid needs degree ≥ 2 (so the invariants
        1, v, |v|² lie in the test space and conservation is exact).
    kernel
        A :class:`~dgkinetic.collisions.kernels.CollisionKernel`.
    sphere
        The rule on S^{d−1}: a :class:`SphereQuadrature`, or an int n passed to
        :func:`~dgkinetic.collisions.sphere.sphere_quadrature` (with the kernel's support and, in 2D,
        a Gauss rule when b has a kink at θ = 0). Default 16 nodes (2D), 4 × 8 (3D).
    cache
        Keep the precomputed tables on disk (one ``.npz`` per species pair, keyed by a hash of
        grids, masses, kernel and sphere rule). User kernels without a ``key`` are never cached.
    cache_dir
        Directory for the cache; default :func:`default_cache_dir`.
    storage
        ``"matrix"``: keep the sparse interpolation rows of v', v*' (fastest evaluation, about
        2 (p+1)^d · 12 bytes per collision); ``"compact"``: keep cell and reference coordinates
        (2 (4 + 8d) bytes per collision) and rebuild the rows chunk by chunk at every evaluation;
        ``"auto"`` (default): ``"matrix"`` if it fits in ``memory_limit`` bytes.
    memory_limit
        Bytes allowed for matrix storage under ``"auto"`` (default 1 GiB).
    chunk_bytes
        Approximate memory for one chunk of collisions during evaluation (bounds temporaries).

    Raises
    ------
    InputError
        For a velocity degree < 2, an incompatible kernel or sphere rule.

    Notes
    -----
    All evaluation methods take a block of rows X (n_rows, mixture.size) of *positive* nodal values
    (below 1 for Fermi species): the entropy variable log(f/τ) must exist at every node.
    """

    def __init__(self, mixture: Mixture, kernel: CollisionKernel,
                 sphere: SphereQuadrature | int | None = None, *, cache: bool = True,
                 cache_dir: str | os.PathLike | None = None, storage: str = "auto",
                 memory_limit: int = 2 ** 30, chunk_bytes: int = 48 * 2 ** 20,
                 tail_floor: float = 0.0):
        super().__init__(mixture)
        if not (0.0 <= float(tail_floor) < 1e-3):
            raise InputError(f"Boltzmann: tail_floor must be in [0, 1e-3), got {tail_floor}")
        self.tail_floor = float(tail_floor)
        self._frozen = None
        if not isinstance(kernel, CollisionKernel):
            raise InputError(f"Boltzmann: kernel must be a CollisionKernel, got {type(kernel).__name__}")
        dim = mixture.dim
        for s, g in zip(mixture.species, mixture.grids):
            if g.degree < 2:
                raise InputError(f"Boltzmann: species '{s.name}' has velocity degree {g.degree}; exact "
                                 "conservation needs degree ≥ 2 (|v|² must lie in the test space)")
        kernel.check(mixture.species, dim)
        self.kernel = kernel
        if sphere is None:
            sphere = DEFAULT_SPHERE[dim]
        if isinstance(sphere, SphereQuadrature):
            if sphere.dim != dim:
                raise InputError(f"Boltzmann: sphere rule is {sphere.dim}D but the velocity space is {dim}D")
            self.sphere = sphere
        else:
            kind = "gauss" if (dim == 2 and kernel.angular_kink(dim)) else None
            self.sphere = sphere_quadrature(dim, sphere, kind=kind, theta_max=kernel.theta_max)
        self.chunk_bytes = int(chunk_bytes)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.use_cache = bool(cache)
        self._interp = [_GridInterpolation(g) for g in mixture.grids]
        if storage not in ("auto", "matrix", "compact"):
            raise InputError(f"Boltzmann: storage must be 'auto', 'matrix' or 'compact', got {storage!r}")
        self.cache_hits = 0
        t0 = time.perf_counter()
        self.tables = [self._pair_table(i, j) for i in range(len(mixture))
                       for j in range(i, len(mixture))]
        matrix_bytes = sum(t.size * 12 * (t.interp_i.width + t.interp_j.width) for t in self.tables)
        if storage == "matrix" or (storage == "auto" and matrix_bytes <= memory_limit):
            for t in self.tables:
                t.to_matrix()
            self.storage = "matrix"
        else:
            self.storage = "compact"
        self.precompute_seconds = time.perf_counter() - t0
        self._cells = [(g.cell_nodes[:, 0], g.cell_nodes) for g in mixture.grids]

    # ---------------------------------------------------------------------------- precomputation
    @property
    def n_collisions(self) -> int:
        """Number of kept discrete collisions (all pairs)."""
        return sum(t.size for t in self.tables)

    @property
    def nbytes(self) -> int:
        """Bytes held by the precomputed tables."""
        return sum(t.nbytes() for t in self.tables)

    def _cache_key(self, i: int, j: int) -> str | None:
        kk = self.kernel.key(i, j, self.mixture.species, self.mixture.dim)
        if kk is None:
            return None
        h = hashlib.sha256()
        for part in (f"boltzmann-v{CACHE_FORMAT}", self._interp[i].descriptor(),
                     self._interp[j].descriptor(), repr(self.mixture.species[i].mass),
                     repr(self.mixture.species[j].mass), kk, f"same={i == j}"):
            h.update(part.encode())
            h.update(b"\0")
        h.update(self.sphere.key())
        return h.hexdigest()[:32]

    def _pair_table(self, i: int, j: int) -> _PairTable:
        mix = self.mixture
        key = self._cache_key(i, j) if self.use_cache else None
        arrays = None
        path = self.cache_dir / f"boltzmann-{key}.npz" if key else None
        if path is not None and path.exists():
            try:
                with np.load(path) as z:
                    arrays = {name: z[name] for name in z.files}
                if str(arrays.pop("key")) != key or set(arrays) != set(_TABLE_ARRAYS):
                    arrays = None
                else:
                    self.cache_hits += 1
            except Exception as err:                 # unreadable file: recompute and overwrite
                logger.warning("ignoring unreadable collision cache %s (%s)", path, err)
                arrays = None
        if arrays is None:
            arrays = self._compute_pair(i, j)
            if path is not None:
                self._save(path, key, arrays)
        # Cached indices are local to each species' grid: offset them into the state row here.
        oi, oj = mix.offsets[i], mix.offsets[j]
        kl = np.stack([arrays["k"] + np.int32(oi), arrays["l"] + np.int32(oj)], axis=1)
        coincident = arrays["coincident"] + np.array([oi, oj], dtype=np.int32)
        return _PairTable(
            i=i, j=j, alpha_i=mix.species[i].alpha, alpha_j=mix.species[j].alpha, kl=kl,
            coincident=coincident,
            c=arrays["c"], interp_i=self._interp[i], interp_j=self._interp[j],
            base_p=arrays["base_p"] + np.int32(oi), ref_p=arrays["ref_p"],
            base_s=arrays["base_s"] + np.int32(oj), ref_s=arrays["ref_s"])

    def _save(self, path: Path, key: str, arrays: dict) -> None:
        """Write atomically: a killed run leaves at most a stray temp file, never a partial cache."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    np.savez(fh, key=np.array(key), **arrays)
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        except OSError as err:
            logger.warning("could not write collision cache %s (%s); continuing without it", path, err)

    def _compute_pair(self, i: int, j: int) -> dict:
        """Enumerate, weight and locate the discrete collisions of the pair (i, j), i ≤ j."""
        mix, rule = self.mixture, self.sphere
        gi, gj = mix.grids[i], mix.grids[j]
        mi, mj = mix.species[i].mass, mix.species[j].mass
        mu_i, mu_j = mj / (mi + mj), mi / (mi + mj)            # v' = V + mu_i|g|σ, v*' = V − mu_j|g|σ
        ni, nj, M, d = gi.size, gj.size, rule.size, mix.dim
        # Bound the (pairs × M × d) temporaries to ~ chunk_bytes.
        rows_per_block = max(1, int(self.chunk_bytes // (8 * 12 * M * d * nj)))
        out = {name: [] for name in _TABLE_ARRAYS[:-1]}
        # Pairs with v = v* (g = 0) collide trivially (no effect on Q); the gain/loss diagnostics
        # still count them, so they are listed: the diagonal of a species, coincident nodes else.
        coincident = [np.stack([np.arange(ni), np.arange(ni)], axis=1)] if i == j else []
        tol = 1e-13 * min(gi.scale, gj.scale)
        for k0 in range(0, ni, rows_per_block):
            kk, ll = np.meshgrid(np.arange(k0, min(ni, k0 + rows_per_block)), np.arange(nj),
                                 indexing="ij")
            kk, ll = kk.ravel(), ll.ravel()
            if i == j:                                       # (l, k) is the mirror of (k, l)
                keep = kk < ll
                kk, ll = kk[keep], ll[keep]
            v, vs = gi.nodes[kk], gj.nodes[ll]
            g = v - vs
            gn = np.linalg.norm(g, axis=1)
            keep = gn > tol                                  # g = 0: v' = v, v*' = v*, nothing happens
            if i != j and not np.all(keep):
                coincident.append(np.stack([kk[~keep], ll[~keep]], axis=1))
            kk, ll, v, vs, g, gn = kk[keep], ll[keep], v[keep], vs[keep], g[keep], gn[keep]
            if kk.size == 0:
                continue
            sigma = directions(g / gn[:, None], rule)                          # (P, M, d)
            V = (mi * v + mj * vs) / (mi + mj)
            vp = V[:, None, :] + (mu_i * gn)[:, None, None] * sigma             # PHYSICS.md §1
            vsp = V[:, None, :] - (mu_j * gn)[:, None, None] * sigma
            B = self.kernel(gn[:, None], rule.cos_theta[None, :], i, j, mix.species, d)   # (P, M)
            c = 0.5 * (gi.weights[kk] * gj.weights[ll])[:, None] * rule.weights[None, :] * B
            vp, vsp = vp.reshape(-1, d), vsp.reshape(-1, d)
            keep = (c.ravel() > 0) & gi.contains(vp) & gj.contains(vsp)
            kt = np.repeat(kk, M)[keep]
            lt = np.repeat(ll, M)[keep]
            bp, rp = self._interp[i].locate(vp[keep])
            bs, rs = self._interp[j].locate(vsp[keep])
            for name, arr in (("k", kt.astype(np.int32)), ("l", lt.astype(np.int32)),
                              ("c", c.ravel()[keep]), ("base_p", bp.astype(np.int32)), ("ref_p", rp),
                              ("base_s", bs.astype(np.int32)), ("ref_s", rs)):
                out[name].append(arr)
        empty = {"k": np.zeros(0, np.int32), "l": np.zeros(0, np.int32), "c": np.zeros(0),
                 "base_p": np.zeros(0, np.int32), "ref_p": np.zeros((0, d)),
                 "base_s": np.zeros(0, np.int32), "ref_s": np.zeros((0, d))}
        arrays = {name: (np.concatenate(parts) if parts else empty[name]) for name, parts in out.items()}
        coincident = np.concatenate(coincident) if coincident else np.zeros((0, 2))
        arrays["coincident"] = coincident.astype(np.int32)
        return arrays

    # ---------------------------------------------------------------------------- chunks
    def _chunk_length(self, n_rows: int, per_collision_extra: int = 0) -> int:
        # ~14 (C, n_rows) float temporaries + the sparse rows of the chunk
        w = max(iv.width for iv in self._interp)
        per = 8 * 14 * n_rows + 2 * 16 * (2 * w + 2) + per_collision_extra
        return max(256, int(self.chunk_bytes // per))

    def _chunks(self, length: int):
        size = self.mixture.size
        for table in self.tables:
            for a in range(0, table.size, length):
                yield table, _Chunk(table, a, min(table.size, a + length), size)

    # ---------------------------------------------------------------------------- pointwise algebra
    def _entropy_variable(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            eta = self.mixture.entropy_variable(X)
        if not np.all(np.isfinite(eta)):
            bad = np.argwhere(~np.isfinite(eta))[0]
            raise NonPhysicalStateError(
                f"Boltzmann: the entropy variable log(f/τ) does not exist at row {bad[0]}, column "
                f"{bad[1]} (f = {X[tuple(bad)]!r}); the state must be positive (and < 1 for Fermi)")
        return eta

    # ---------------------------------------------------------------------------- far tails
    def _activity(self, etaT: np.ndarray):
        """Per species: (node active (size_i, R), cell active indexed by its first node (size_i, R)).

        With ``tail_floor`` > 0 a collision is kept only where v, v* have f ≥ tail_floor·max f and
        v', v*' lie in cells whose every node does: the far tails, where f is many orders of
        magnitude below its values elsewhere in the cell, then drop out of the collision sum.
        Dropping collisions keeps M symmetric, positive and blind to the invariants, so
        conservation and the H-theorem stay exact (the same holds for any fixed choice).
        """
        if self._frozen is not None and self._frozen[0][0].shape[1] == etaT.shape[1]:
            return self._frozen
        out = []
        for (first, nodes), sl in zip(self._cells, self.mixture.slices()):
            e = etaT[sl]                                            # (size_i, R)
            cut = e.max(axis=0, keepdims=True) + np.log(self.tail_floor)
            node = e >= cut
            cell = np.zeros_like(node)
            cell[first] = np.all(node[nodes], axis=1)
            out.append((node, cell))
        return out

    def freeze_tails(self, X: np.ndarray | None) -> None:
        """Fix the kept collisions of :attr:`tail_floor` from the state X (None releases them)."""
        self._frozen = None
        if X is None or self.tail_floor <= 0:
            return
        X2 = np.atleast_2d(np.maximum(X, 1e-300))
        self._frozen = self._activity(np.ascontiguousarray(self.mixture.entropy_variable(X2).T))

    def _mask(self, etaT, table: _PairTable, ch: _Chunk):
        """(C, R) boolean: which collisions of the chunk are kept for each row (None: all)."""
        if self.tail_floor <= 0:
            return None
        act = self._activity(etaT)
        oi, oj = self.mixture.offsets[table.i], self.mixture.offsets[table.j]
        (node_i, cell_i), (node_j, cell_j) = act[table.i], act[table.j]
        return (node_i[ch.k - oi] & node_j[ch.l - oj]
                & cell_i[ch.idx_p[:, 0] - oi] & cell_j[ch.idx_s[:, 0] - oj])

    def _collision_values(self, etaT: np.ndarray, table: _PairTable, ch: _Chunk):
        """Per collision and row (each (C, R)): s − t, t, ∇̄η and the values
        (f, τ at v', v*', v, v*) the Jacobian needs (PHYSICS.md §2)."""
        hk, hl = etaT[ch.k], etaT[ch.l]
        ep, es = ch.Ep @ etaT, ch.Es @ etaT                   # η_i(v'), η_j(v*') from the basis
        mask = self._mask(etaT, table, ch)
        if mask is not None:                                  # dropped collisions: ∇̄η = 0, then t = 0
            ep, es = np.where(mask, ep, hk), np.where(mask, es, hl)
        d = ep + es - hk - hl                                 # ∇̄η = log(s/t)
        ai, aj = table.alpha_i, table.alpha_j
        f = {"p": from_entropy_variable(ep, ai), "s": from_entropy_variable(es, aj),
             "k": from_entropy_variable(hk, ai), "l": from_entropy_variable(hl, aj)}
        if table.classical:
            tau = {q: 1.0 for q in "pskl"}
            t = f["k"] * f["l"]                               # t = f f*
        else:
            tau = {"p": 1.0 + ai * f["p"], "s": 1.0 + aj * f["s"],
                   "k": 1.0 + ai * f["k"], "l": 1.0 + aj * f["l"]}
            # s, t share P = τ τ* τ' τ*' (f = e^η τ): t = f f* τ' τ*' = P e^{η+η*}, s = t e^{∇̄η}
            t = f["k"] * f["l"] * tau["p"] * tau["s"]
        with np.errstate(over="ignore"):
            st = t * np.expm1(np.minimum(d, 700.0))           # s − t without cancellation
        big = d > 700.0
        if np.any(big):                                       # t underflowed where e^{∇̄η} overflows
            st[big] = (f["p"] * f["s"] * (tau["k"] * tau["l"] * np.ones_like(d)))[big] - t[big]
        if mask is not None:
            t = np.where(mask, t, 0.0)
        return st, t, d, f, tau

    # ---------------------------------------------------------------------------- interface
    def weak_form(self, X: np.ndarray) -> np.ndarray:
        """⟨Q_h(F), φ_k⟩ = −¼ Σ_ij Σ_t c_t (s_t − t_t) ∇̄φ_k,t (PHYSICS.md §2, Q = −M dH) for every
        node k; X of shape (n_rows, size) or (size,), result shaped like X."""
        X2 = np.atleast_2d(X)
        etaT = np.ascontiguousarray(self._entropy_variable(X2).T)          # (size, R)
        out = np.zeros_like(etaT)
        for table, ch in self._chunks(self._chunk_length(etaT.shape[1])):
            st = self._collision_values(etaT, table, ch)[0]
            out -= ch.grad_transpose(ch.c[:, None] * st)
        return out.T.reshape(np.shape(X))

    def dissipative_bracket(self, X: np.ndarray, Xi: np.ndarray, Eta: np.ndarray,
                            linearised: bool = False) -> np.ndarray:
        """M_h(F)[ξ, η] = ¼ Σ_ij Σ_t c_t Λ_t ∇̄ξ_t ∇̄η_t per row (PHYSICS.md §2), shape (n_rows,).

        Λ_t = Λ(s_t, t_t) = t_t (e^{∇̄η_t} − 1)/∇̄η_t, the logarithmic mean, evaluated stably;
        ``linearised``: Λ ≡ 1 over every collision (independent of X).
        """
        X2 = np.atleast_2d(X)
        XiT = np.ascontiguousarray(np.atleast_2d(Xi).T, dtype=float)
        EtaT = np.ascontiguousarray(np.atleast_2d(Eta).T, dtype=float)
        etaT = None if linearised else np.ascontiguousarray(self._entropy_variable(X2).T)
        out = np.zeros(X2.shape[0])
        for table, ch in self._chunks(self._chunk_length(X2.shape[0])):
            if linearised:
                lam = 1.0
            else:
                _, t, d, _, _ = self._collision_values(etaT, table, ch)
                lam = t * log_mean_ratio(d)
            out += np.einsum("cr,cr->r", ch.c[:, None] * lam * ch.grad(XiT), ch.grad(EtaT))
        return out if np.ndim(X) > 1 else out[0]

    def bracket_matrix(self, x: np.ndarray, linearised: bool = False) -> np.ndarray:
        """Dense M_h(F) (size × size) of one state row x: ξᵀ M η = M_h(F)[ξ, η]. Small problems only.

        ``linearised``: Λ ≡ 1 (independent of x)."""
        x = np.asarray(x, dtype=float).reshape(1, -1)
        etaT = None if linearised else np.ascontiguousarray(self._entropy_variable(x).T)
        size = self.mixture.size
        M = np.zeros((size, size))
        for table, ch in self._chunks(self._chunk_length(1)):
            if linearised:
                lam = np.ones(len(ch))
            else:
                _, t, d, _, _ = self._collision_values(etaT, table, ch)
                lam = (t * log_mean_ratio(d))[:, 0]
            A = ch.matrix()
            M += (A.T @ sp.diags(ch.c * lam) @ A).toarray()
        return M

    def jacobian(self, X: np.ndarray) -> np.ndarray:
        """Exact d rhs/dX, rhs = weak_form / W: shape (n_rows, size, size) (or (size, size)).

        weak = S (c ⊙ (s − t)) with S = −Aᵀ, A the rows ∇̄φ_t (:meth:`_scatter`). Differentiating
        s − t with respect to the entropy variables at the four velocities of each collision
        (η' = E'η, η*' = E*'η, η_k, η_l) gives dweak/dη = S diag(c) B with
        B = [D' E' + D*' E*' + D I_k + D* I_l]; the chain rule dη/df = 1/(f τ) finishes.
        (Bose values clipped at condensation are treated as unclipped.)

        Cost ~ n_collisions · (2(p+1)^d + 2)² per row (a sparse-sparse product per chunk and row:
        every iteration of the loop over rows does ≥ 10⁵ operations in compiled code, so the loop
        itself costs nothing). Meant for implicit steps of modest grids.
        """
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        eta = self._entropy_variable(X2)
        etaT = np.ascontiguousarray(eta.T)
        R, size = X2.shape
        J = np.zeros((R, size, size))
        for table, ch in self._chunks(self._chunk_length(R)):
            st, t, _, f, tau = self._collision_values(etaT, table, ch)
            ai, aj = table.alpha_i, table.alpha_j
            s = st + t
            # ∂(s − t)/∂η at v', v*', v, v*: s = P e^{η'+η*'}, t = P e^{η+η*}, d log τ/dη = α f
            cD = [ch.c[:, None] * Dq for Dq in
                  (s * tau["p"] - t * ai * f["p"], s * tau["s"] - t * aj * f["s"],
                   s * ai * f["k"] - t * tau["k"], s * aj * f["l"] - t * tau["l"])]
            S = self._scatter(ch)
            idx = np.concatenate([ch.idx_p, ch.idx_s, ch.kl], axis=1)
            for r in range(R):
                val = np.concatenate([cD[0][:, r, None] * ch.val_p, cD[1][:, r, None] * ch.val_s,
                                      cD[2][:, r, None], cD[3][:, r, None]], axis=1)
                J[r] += (S @ _fixed_width_csr(idx, val, size)).toarray()
        J /= (X2 * (1.0 + self.mixture.alphas * X2))[:, None, :]        # dη/df = 1/(f τ)
        J /= self.mixture.weights[None, :, None]
        return J if np.ndim(X) > 1 else J[0]

    @staticmethod
    def _scatter(ch: _Chunk) -> sp.csr_matrix:
        """S (size × C) with weak_form = S (c ⊙ (s − t)) over the chunk: here −Aᵀ, A the rows ∇̄φ_t."""
        return -ch.matrix().T.tocsr()

    # ---------------------------------------------------------------------------- diagnostics
    def limited_work(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """What :attr:`tail_floor` drops, per row of X:
        (Σ_{t dropped} c_t f_i(v) f_j(v*), Σ_t c_t f_i(v) f_j(v*)), t over every collision of the tables.

        c_t f_i(v) f_j(v*) is the rate of the discrete collision t (its loss term t_t without the
        quantum factors τ'τ*'), so the ratio (:meth:`limited_fraction`) is the share of the collision
        rate that the floor drops: collisions with v or v* in the far tail, and bulk pairs whose v' or
        v*' lands in a dropped tail cell. Only nodal values enter: what a dropped collision would have
        gained is not used, since the entropy variable interpolated in a far-tail cell (nodes many
        decades apart) can overshoot by tens of decades — the reason the floor drops such cells. The
        kept set is the one :meth:`weak_form` uses at X (the frozen one, if any). None (no mechanism)
        when ``tail_floor`` is 0. Cost: one pass over the collisions, without evaluating them.
        """
        if self.tail_floor <= 0:
            return None
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        etaT = np.ascontiguousarray(self._entropy_variable(X2).T)
        XT = np.ascontiguousarray(X2.T)
        limited, total = np.zeros(X2.shape[0]), np.zeros(X2.shape[0])
        for table, ch in self._chunks(self._chunk_length(X2.shape[0])):
            rate = ch.c[:, None] * XT[ch.k] * XT[ch.l]
            limited += np.sum(np.where(self._mask(etaT, table, ch), 0.0, rate), axis=0)
            total += np.sum(rate, axis=0)
        return limited, total

    def _strong_parts(self, X: np.ndarray):
        """Nodal gain, loss and collision frequency of the kept collision set (see :meth:`gain`)."""
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        etaT = np.ascontiguousarray(self._entropy_variable(X2).T)
        XT = np.ascontiguousarray(X2.T)
        size, R = etaT.shape
        gain, loss, nu = (np.zeros((size, R)) for _ in range(3))
        for table, ch in self._chunks(self._chunk_length(R)):
            st, t, _, _, _ = self._collision_values(etaT, table, ch)
            # 2 c_t / W_m = W_partner ω_s B: collision t seen from either of its two pre-collision
            # nodes (the mirrored collision (l, k) is stored as (k, l), module docstring).
            two_c = 2.0 * ch.c[:, None]
            gain += ch.Ikl.T @ (two_c * (st + t))
            loss += ch.Ikl.T @ (two_c * t)
            Ik = _fixed_width_csr(ch.kl[:, :1], np.ones((len(ch), 1)), size)
            Il = _fixed_width_csr(ch.kl[:, 1:], np.ones((len(ch), 1)), size)
            nu += Ik.T @ (two_c * XT[ch.l]) + Il.T @ (two_c * XT[ch.k])
        # g = 0 terms (v' = v* ' = v = v*: gain = loss), where B_ij(0, ·) is finite (not γ < 0)
        mix, rule = self.mixture, self.sphere
        W = mix.weights
        for table in self.tables:
            with np.errstate(divide="ignore", invalid="ignore"):
                b0 = rule.weights @ self.kernel(0.0, rule.cos_theta, table.i, table.j, mix.species, mix.dim)
            if not np.isfinite(b0) or table.coincident.size == 0:
                continue
            k, l = table.coincident[:, 0], table.coincident[:, 1]
            fk, fl = XT[k], XT[l]
            t = fk * fl * (1.0 + table.alpha_i * fk) * (1.0 + table.alpha_j * fl)   # f f* τ' τ*'
            w = (W[k] * W[l] * b0)[:, None]
            ends = (k, l) if table.i != table.j else (k,)
            for node, partner in zip(ends, (fl, fk)):
                np.add.at(gain, node, w * t)
                np.add.at(loss, node, w * t)
                np.add.at(nu, node, w * partner)
        shape = np.shape(X)
        return tuple((a / W[:, None]).T.reshape(shape) for a in (gain, loss, nu))

    def gain(self, X: np.ndarray) -> np.ndarray:
        """Nodal gain term Q⁺_i(v_k) = Σ_j Σ_l Σ_s W_l ω_s B_ij f_i'f_j*'τ_iτ_j* (diagnostic).

        A strong (pointwise) quadrature over the same kept collisions as the weak form, with the
        off-node values f(v') = f(η_h(v')). It is not structure preserving: ``gain − loss``
        differs from :meth:`rhs` (the default, conservative form) by the quadrature error.
        """
        return self._strong_parts(X)[0]

    def loss(self, X: np.ndarray) -> np.ndarray:
        """Nodal loss term Q⁻_i(v_k) = Σ_j Σ_l Σ_s W_l ω_s B_ij f_if_j*τ_i'τ_j*' (diagnostic, see
        :meth:`gain`); for classical statistics it equals f_i ν_i."""
        return self._strong_parts(X)[1]

    def collision_frequency(self, X: np.ndarray) -> np.ndarray:
        """ν_i(v_k) = Σ_j Σ_l Σ_s W_l ω_s B_ij(|v_k − v_l|, cosθ_s) f_j(v_l) over the kept collisions
        (collisions leaving the box are not counted, as in the weak form; partners with v_l = v_k
        count when B(0, ·) is finite); shaped like X."""
        return self._strong_parts(X)[2]
