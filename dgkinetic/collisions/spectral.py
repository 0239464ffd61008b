"""A fast spectral variant of the Boltzmann operator for isotropic scattering (explicit option).

The structure-preserving :class:`~dgkinetic.collisions.boltzmann.Boltzmann` and its collocated
sibling cost O(n_v² M) per evaluation: every pair of nodes meets on every sphere direction. In 3V
that sum caps the resolution (≈ 10 nodes per direction on this class of machine). This variant
evaluates the same continuous operator in O(M_ρ M_σ N^d log N) on an auxiliary periodic grid of N^d
points, following the fast spectral method of Gamba, Haack, Hauck and Hu (SIAM J. Sci. Comput. 39
(2017) B658) written in physical space:

with q = v − v* = ρ q̂ and the mass fractions μ_i = m_i/(m_i + m_j), the pair (i, j) gain is

    G_ij(v) = C_ij b ∫_0^R ρ^{d−1} Φ(ρ) ∫_{S} P_ρ(v − μ_j ρ q̂) dq̂ dρ,
    P_ρ(w)  = ∫_{S} f_i(w + μ_j ρ σ) f_j(w − μ_i ρ σ) dσ,

(w is the centre-of-mass velocity). Each shifted f is one inverse FFT (a phase e^{i k·s} on its
Fourier coefficients), the sphere average over q̂ is the Fourier multiplier S(μ_j ρ |k|), S(x) =
4π sin x / x (3D) or 2π J₀(x) (2D), and the loss f_i ν_ij is a convolution of f_j with the kernel
over the ball |q| ≤ R, one more multiplier. ρ is integrated by Gauss–Legendre on [0, R], σ by a
Lebedev (3D) or equispaced (2D) rule. Only isotropic scattering (b constant) separates this way:
Maxwell molecules, 3D hard spheres and VHS with α = 1; other kernels raise :class:`InputError`.

The state stays on the species' velocity grids (nodal values); every evaluation

1. takes the exact Fourier coefficients of each species' piecewise polynomial, integrated cell by
   cell (separable 1D matrices; zero outside the velocity box),
2. computes gain and collision frequency spectrally on the periodic grid,
3. interpolates them trigonometrically back to the nodes (separable 1D matrices), where
   Q_i(v_k) = G_i(v_k) − ν_i(v_k) f_i(v_k),
4. restores conservation with the same f-weighted projection as
   :class:`~dgkinetic.collisions.collocation.CollocationBoltzmann`.

The periodic box must hold the velocity boxes with room for the images of the convolutions: its
half-width defaults to ``(extent + R + extent)/2`` with R = 2·extent (in each grid's units), so that
no periodic image reaches a node. N (``modes``) sets the accuracy: the error falls spectrally once
N resolves the thermal width (tests/test_spectral.py, bench/bench_boltzmann.py).

The positive parts of gain and frequency are used (:meth:`SpectralBoltzmann.rhs`), so explicit
steps keep f ≥ 0 in the far tails, below the spectral error floor.

What it does not have: a dissipative bracket or Jacobian (explicit stepping only), quantum
statistics, anisotropic scattering. Its error has an absolute floor spread over the whole box, so
moments weighted towards the tails (the BKW fourth moment's rate) are less accurate than nodal
values near the peak. Species share one periodic grid, so very different thermal speeds
(electrons and ions) need the other forms.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.fft
from scipy.special import j0

from dgkinetic.collisions.base import CollisionOperator, WithoutBracket
from dgkinetic.collisions.collocation import restore_conservation
from dgkinetic.collisions.kernels import CollisionKernel
from dgkinetic.collisions.sphere import sphere_quadrature
from dgkinetic.errors import InputError
from dgkinetic.mixture import Mixture
from dgkinetic.velocity import gauss_legendre, lagrange_basis

__all__ = ["SpectralBoltzmann"]

#: Lebedev degrees scipy provides, smallest first (σ rule in 3D)
_LEBEDEV = (3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 35, 41, 47, 53, 59, 65)


def _angular_transform(dim: int, x: np.ndarray) -> np.ndarray:
    """∫_{S^{d−1}} e^{−i x ê·k̂} dê as a function of x ≥ 0: 4π sin x/x (3D), 2π J₀(x) (2D)."""
    return 4.0 * math.pi * np.sinc(x / math.pi) if dim == 3 else 2.0 * math.pi * j0(x)


def _sigma_rule(dim: int, degree: int):
    """Antipodally symmetric rule on S^{d−1}: (points (M, d), weights summing to |S^{d−1}|) —
    2·degree equispaced angles (2D) or the Lebedev rule of the smallest degree ≥ ``degree`` (3D)."""
    if dim == 2:
        rule = sphere_quadrature(2, 2 * max(int(degree), 2), kind="equispaced")
    else:
        deg = next((d for d in _LEBEDEV if d >= degree), None)
        if deg is None:
            raise InputError(f"spectral Boltzmann: sphere degree must be ≤ {_LEBEDEV[-1]}, got {degree}")
        rule = sphere_quadrature(3, deg, kind="lebedev")
    return rule.points, rule.weights


def _antipodes(points: np.ndarray) -> np.ndarray:
    """Index of −σ for every σ of an antipodally symmetric rule."""
    d = np.linalg.norm(points[:, None, :] + points[None, :, :], axis=-1)
    idx = np.argmin(d, axis=1)
    if not np.allclose(d[np.arange(len(points)), idx], 0.0, atol=1e-12):
        raise InputError("spectral Boltzmann: the σ rule must be antipodally symmetric")
    return idx


class _PeriodicGrid:
    """The auxiliary grid: N points per direction on [c − L, c + L), wave numbers k = π n / L."""

    def __init__(self, dim: int, modes: int, half_width: float, centre: np.ndarray):
        self.dim, self.N, self.L = dim, int(modes), float(half_width)
        self.centre = np.asarray(centre, float)
        self.h = 2.0 * self.L / self.N
        self.x = [self.centre[a] - self.L + self.h * np.arange(self.N) for a in range(dim)]
        n = np.fft.fftfreq(self.N, 1.0 / self.N)
        if self.N % 2 == 0:
            n[self.N // 2] = 0.0                                            # Nyquist: dropped below
        self.k_full = math.pi / self.L * n                                  # (N,) for the full axes
        self.k_half = self.k_full[: self.N // 2 + 1]                        # rfft last axis
        ks = [self.k_full] * (dim - 1) + [self.k_half]
        grids = np.meshgrid(*ks, indexing="ij")
        self.kabs = np.sqrt(sum(g * g for g in grids))
        # modes kept: the Nyquist planes of an even N carry no consistent real phase shift
        keep = np.ones(self.kabs.shape, dtype=bool)
        if self.N % 2 == 0:
            for a in range(dim):
                sl = [slice(None)] * dim
                sl[a] = self.N // 2
                keep[tuple(sl)] = False
        self.keep = keep
        self.shape = (self.N,) * dim
        self.axes = tuple(range(-dim, 0))

    def phase(self, shifts: np.ndarray) -> np.ndarray:
        """e^{i k·s} on the rfft layout for shifts s of shape (M, d): (M, N, ..., N//2+1)."""
        out = None
        for a in range(self.dim):
            k = self.k_half if a == self.dim - 1 else self.k_full
            e = np.exp(1j * shifts[:, a, None] * k[None, :])
            shape = [shifts.shape[0]] + [1] * self.dim
            shape[1 + a] = len(k)
            e = e.reshape(shape)
            out = e if out is None else out * e
        return out * self.keep

    def from_nodes(self, grid) -> list[np.ndarray]:
        """Per axis, the (modes, n_a) matrix giving the Fourier coefficients of the grid's piecewise
        polynomial, ∫ f e^{−ik(x − x₀)} dx / h (the rfft convention of the periodic grid: the L²
        projection onto the modes), integrated exactly cell by cell. The last axis keeps the rfft
        half. (Sampling the piecewise polynomial at the periodic points instead is only second-order
        accurate, as it has jumps at the cell faces; a quadrature on the nodes alone aliases the
        high modes.)"""
        kmax = math.pi / self.h
        n = grid.degree + 1
        q = n + int(math.ceil(kmax * grid.cell_width)) + 8
        rq, wq = gauss_legendre(q)
        basis = lagrange_basis(grid.ref_nodes, rq)                              # (q, p+1)
        mats = []
        for a in range(self.dim):
            k = self.k_half if a == self.dim - 1 else self.k_full
            l2g = grid._local_to_global_1d(a)                                    # (cells, p+1)
            lo = grid.lower[a] + grid.cell_width * np.arange(l2g.shape[0])
            xq = lo[:, None] + 0.5 * grid.cell_width * (rq + 1.0)[None, :] - self.x[a][0]   # (cells, q)
            ph = np.exp(-1j * k[:, None, None] * xq[None]) * (0.5 * grid.cell_width * wq / self.h)
            D = np.zeros((len(k), grid.shape[a]), dtype=complex)
            local = np.einsum("kcq,qa->kca", ph, basis)                          # (modes, cells, p+1)
            np.add.at(D, (slice(None), l2g.ravel()), local.reshape(len(k), -1))
            mats.append(D)
        return mats

    def to_nodes(self, grid) -> list[np.ndarray]:
        """Per axis, the (n_a, N) complex matrix of trigonometric interpolation at the grid's 1D
        nodes from full-FFT coefficients (1/N each) — the last axis folded onto the rfft half."""
        mats = []
        for a in range(self.dim):
            x = grid.nodes_1d[a] - self.x[a][0]
            T = np.exp(1j * x[:, None] * self.k_full[None, :]) / self.N
            if self.N % 2 == 0:
                T[:, self.N // 2] = 0.0
            if a == self.dim - 1:                # Re Σ over the full axis = Re Σ over the half, ×2 off 0
                T = T[:, : self.N // 2 + 1].copy()
                T[:, 1:] *= 2.0                  # (the Nyquist column of an even N is 0 already)
            mats.append(T)
        return mats


def _tensor_apply(mats: list[np.ndarray], X: np.ndarray) -> np.ndarray:
    """Apply one matrix per trailing axis of X (shape (rows, n_0, ..., n_{d−1}))."""
    for a, M in enumerate(mats):
        X = np.moveaxis(np.tensordot(X, M, axes=([1 + a], [1])), -1, 1 + a)
    return X


class SpectralBoltzmann(WithoutBracket, CollisionOperator):
    """Fast spectral Boltzmann operator, isotropic scattering, classical species (module docstring).

    Parameters
    ----------
    mixture
        Classical species; their grids should cover similar thermal speeds (one periodic grid).
    kernel
        A kernel with isotropic b (Maxwell molecules, 3D hard spheres, VHS with α = 1).
    modes
        N, points (= Fourier modes) per direction of the periodic grid. Default: the smallest even
        N whose largest wave number reaches k_h = 2(p+1)/h, the finest resolution of the species'
        grids (cell width h, degree p). More modes than the grids resolve do not help: the extra
        modes carry the jumps of the piecewise polynomials at the cell faces (measured in
        tests/test_spectral.py).
    radial_points
        Gauss–Legendre points in ρ on [0, R].
    sphere_degree
        Degree of the σ rule: Lebedev (3D), 2·degree equispaced angles (2D).
    cutoff
        R, the largest relative speed kept; default twice the largest velocity-box half-width.
    half_width
        L of the periodic box; default (w + R + w)/2 with w the largest velocity-box half-width.
    workers
        Threads for scipy.fft (default 1).
    """

    #: no Jacobian: time steppers must treat it explicitly (dgkinetic.solver checks)
    explicit_only = True
    #: largest number of values in the stack of shifted copies of f (per chunk of rows)
    CHUNK_ELEMENTS = 2 ** 23

    def __init__(self, mixture: Mixture, kernel: CollisionKernel, *, modes: int | None = None,
                 radial_points: int = 16, sphere_degree: int = 7, cutoff: float | None = None,
                 half_width: float | None = None, workers: int = 1):
        super().__init__(mixture)
        dim = mixture.dim
        if mixture.grids[0].axisymmetric:
            raise InputError("spectral Boltzmann: axisymmetric grids are not supported; use form \"weak\"")
        for s in mixture.species:
            if s.alpha != 0:
                raise InputError(f"spectral Boltzmann: species {s.name!r} is a quantum species; the spectral "
                                 "form is classical only (use form \"weak\" or \"collocation\")")
        grids = mixture.grids
        widths = [0.5 * float(np.max(g.upper - g.lower)) for g in grids]
        w = max(widths)
        self.cutoff = 2.0 * w if cutoff is None else float(cutoff)
        L = 0.5 * (2 * w + self.cutoff) if half_width is None else float(half_width)
        for what, value in (("cutoff", self.cutoff), ("half_width", L)):
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"spectral Boltzmann: {what} must be positive and finite, got {value}")
        if modes is None:
            k_h = max(2.0 * (g.degree + 1) / g.cell_width for g in grids)
            modes = max(8, 2 * math.ceil(L * k_h / math.pi))            # π N / (2L) ≥ k_h
        for name, value, low in (("modes", modes, 8), ("radial_points", radial_points, 1),
                                 ("sphere_degree", sphere_degree, 1), ("workers", workers, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise InputError(f"spectral Boltzmann: {name} must be an integer ≥ {low}, got {value}")
        kernel.check(mixture.species, dim)
        probe = np.linspace(-1.0, 1.0, 7)
        self.b0 = np.zeros((len(mixture), len(mixture)))
        for i, si in enumerate(mixture.species):
            for j, sj in enumerate(mixture.species):
                b = np.asarray(kernel.b(probe, si, sj, dim), float) * kernel.coefficient(i, j, dim)
                if not np.allclose(b, b[0], rtol=1e-12, atol=0.0):
                    raise InputError(f"spectral Boltzmann: the kernel's scattering is not isotropic in {dim}D "
                                     "(b depends on θ); use form \"weak\" or \"collocation\"")
                self.b0[i, j] = b[0]
        self.kernel = kernel
        centre = np.mean([0.5 * (g.lower + g.upper) for g in grids], axis=0)
        for g in grids:
            if np.any(g.lower < centre - L) or np.any(g.upper > centre + L):
                raise InputError(f"spectral Boltzmann: half_width {L} does not cover the velocity box of every species")
        self.periodic = P = _PeriodicGrid(dim, modes, L, centre)
        self.workers = int(workers)
        self.to_fourier = [P.from_nodes(g) for g in grids]
        self.to_nodes = [P.to_nodes(g) for g in grids]
        self.sigma, self.omega = _sigma_rule(dim, sphere_degree)
        self.antipode = _antipodes(self.sigma)
        r, wr = gauss_legendre(int(radial_points))
        self.rho = 0.5 * self.cutoff * (r + 1.0)
        wrho = 0.5 * self.cutoff * wr * self.rho ** (dim - 1)
        self.masses = np.array([s.mass for s in mixture.species], float)
        # The loss multiplier ν̂_ij(k) = |S| C b ∫_0^R ρ^{d−1} Φ(ρ) S(ρ|k|) dρ oscillates up to ρ|k| = R k_max
        # (the gain's ρ integrand does not: its Fourier content decays with f's), so it gets a fine
        # rule of its own, once.
        r_fine, w_fine = gauss_legendre(8 * int(modes) + 32)
        rho_fine = 0.5 * self.cutoff * (r_fine + 1.0)
        w_fine = 0.5 * self.cutoff * w_fine * rho_fine ** (dim - 1)
        S_fine = _angular_transform(dim, rho_fine[:, None] * P.kabs.ravel()[None, :])
        area = 2.0 * math.pi if dim == 2 else 4.0 * math.pi
        # gain multipliers per pair and radial node: C b w_ρ ρ^{d−1} Φ(ρ) S(μ_j ρ |k|)
        self.radial = np.zeros((len(mixture), len(mixture), len(self.rho)))
        self.loss_multiplier, self.gain_multiplier = [], []
        for i, si in enumerate(mixture.species):
            loss, gain = [], []
            for j, sj in enumerate(mixture.species):
                self.radial[i, j] = self.b0[i, j] * wrho * np.asarray(kernel.phi(self.rho, si, sj, dim), float)
                wf = self.b0[i, j] * w_fine * np.asarray(kernel.phi(rho_fine, si, sj, dim), float)
                loss.append(area * (wf @ S_fine).reshape(P.kabs.shape) * P.keep)
                mu_j = self.masses[j] / (self.masses[i] + self.masses[j])
                S = _angular_transform(dim, mu_j * self.rho[:, None] * P.kabs.ravel()[None, :])
                gain.append((self.radial[i, j][:, None] * S).reshape((-1,) + P.kabs.shape))
            self.loss_multiplier.append(loss)
            self.gain_multiplier.append(gain)

    @property
    def nbytes(self) -> int:
        """Bytes of everything precomputed (transfer matrices, loss multipliers, wave numbers)."""
        arrays = [m for mats in self.to_fourier + self.to_nodes for m in mats]
        arrays += [m for row in self.loss_multiplier + self.gain_multiplier for m in row]
        arrays += [self.periodic.kabs, self.radial]
        return int(sum(a.nbytes for a in arrays))

    # ------------------------------------------------------------------ transfers
    def _fourier(self, X2: np.ndarray) -> list[np.ndarray]:
        """rfft-layout coefficients of every species' f: list of (rows, N, …, N//2+1) complex."""
        return [_tensor_apply(D, Xi.reshape((Xi.shape[0],) + g.shape)) * self.periodic.keep
                for Xi, g, D in zip(self.mixture.split(X2), self.mixture.grids, self.to_fourier)]

    def _at_nodes(self, i: int, Fhat: np.ndarray) -> np.ndarray:
        """Values at species i's nodes of the real function with rfft coefficients Fhat: (rows, n_v)."""
        return _tensor_apply(self.to_nodes[i], Fhat).real.reshape(Fhat.shape[0], -1)

    def _shifted(self, Fhat: np.ndarray, shifts: np.ndarray) -> np.ndarray:
        """f(w + s) on the periodic grid for every shift s (M, d): (M, rows, N, …, N)."""
        ph = self.periodic.phase(shifts)                                      # (M, N, …, N//2+1)
        return scipy.fft.irfftn(ph[:, None] * Fhat[None], s=self.periodic.shape, axes=self.periodic.axes,
                                workers=self.workers)

    # ------------------------------------------------------------------ the operator
    def gain_and_frequency(self, X: np.ndarray):
        """Gain G_i and collision frequency ν_i at every species' nodes, before any projection:
        two arrays shaped like X (rows, size). Rows go in chunks that keep the M_σ shifted copies
        of f within ``CHUNK_ELEMENTS`` numbers."""
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        per_row = len(self.omega) * self.periodic.N ** self.mixture.dim
        chunk = max(1, self.CHUNK_ELEMENTS // per_row)
        gain, freq = np.empty_like(X2), np.empty_like(X2)
        for start in range(0, X2.shape[0], chunk):
            sl = slice(start, start + chunk)
            self._gain_and_frequency(X2[sl], gain[sl], freq[sl])
        return gain.reshape(np.shape(X)), freq.reshape(np.shape(X))

    def _gain_and_frequency(self, X2: np.ndarray, gain: np.ndarray, freq: np.ndarray) -> None:
        mix, P = self.mixture, self.periodic
        Fhat = self._fourier(X2)
        m = self.masses
        for i in range(len(mix)):
            Ghat = np.zeros_like(Fhat[i])
            Nhat = np.zeros_like(Fhat[i])
            for j in range(len(mix)):
                mu_i, mu_j = m[i] / (m[i] + m[j]), m[j] / (m[i] + m[j])
                Nhat += self.loss_multiplier[i][j] * Fhat[j]
                for q, rho in enumerate(self.rho):
                    if self.radial[i, j, q] == 0.0:
                        continue
                    A = self._shifted(Fhat[i], mu_j * rho * self.sigma)
                    B = A[self.antipode] if i == j else self._shifted(Fhat[j], -mu_i * rho * self.sigma)
                    Pw = np.tensordot(self.omega, A * B, axes=1)                  # (rows, N, …, N)
                    Ghat += self.gain_multiplier[i][j][q] * scipy.fft.rfftn(Pw, axes=P.axes, workers=self.workers)
            sl = mix.slices()[i]
            gain[:, sl] = self._at_nodes(i, Ghat)
            freq[:, sl] = self._at_nodes(i, Nhat)

    def rhs(self, X: np.ndarray) -> np.ndarray:
        """Q_i(v_k) = G⁺ − ν⁺ f with conservation restored. The gain and the frequency are ≥ 0
        exactly; their spectral values carry an absolute error floor (≈ 1e-5 of the peak on coarse
        grids) that makes them slightly negative in the far tails, where f is ≪ that floor, and
        explicit steps would then drive f negative. Their positive parts are used, so forward Euler
        keeps f ≥ 0 for Δt (ν + q) ≤ 1 (q the projection's small local correction)."""
        X2 = np.atleast_2d(np.asarray(X, dtype=float))
        G, nu = self.gain_and_frequency(X2)
        rates = np.maximum(G, 0.0) - np.maximum(nu, 0.0) * X2
        return restore_conservation(self.mixture, X2, rates)[0].reshape(np.shape(X))

    def jacobian(self, X: np.ndarray) -> np.ndarray:
        raise InputError("SpectralBoltzmann has no Jacobian: step it explicitly (or use form \"weak\" or "
                         "\"collocation\" for implicit stepping)")
