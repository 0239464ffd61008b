"""The volume and interior-facet part of the DG upwind transport as one compiled loop (PyOP2).

On meshes whose facets are normal to a coordinate axis (intervals, axis-aligned quadrilaterals)
the upwind flux (v·n)⁺ f⁺ + (v·n)⁻ f⁻ on a facet of axis a is v_a times a *fixed* combination of
the two traces once the sign of v_a is known. So for every sign pattern g of the velocity's space
components and every direction a, volume and facet terms fold into one sparse space operator,

    rhs[r, k] = Σ_a v_{k,a} Σ_j A_{g(k),a}[r, j] X[j, k],

with the same few neighbours j for every velocity node k. The loop runs over blocks of consecutive
space nodes (a DG cell's nodes, which share their neighbours) as a PyOP2 ``par_loop`` (halo exchanges
included); its kernel streams each neighbour's row of velocity values once per block and direction,
in place (the state goes in as a PyOP2 Global sharing the Function's memory, halos
exchanged first, so nothing is packed), and the result is written once — what the bandwidth
benchmark measures (bench/bench_transport.py). On 1D meshes with a multiple of 8 velocity nodes the
result goes out through streaming (non-temporal) AVX-512 or AVX stores when the compiler targets
them, which skips reading every output line before writing it; otherwise a plain loop is used.
Boundary facets stay in numpy (they hold the wall conditions and are few). Not applicable to other
meshes: :meth:`FusedTransport.build` returns None and the sparse-matrix path is used.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from mpi4py import MPI
from pyop2 import op2

__all__ = ["FusedTransport"]


def _runs(labels: np.ndarray):
    """Contiguous runs of equal labels: (start, end, label) rows."""
    cut = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [len(labels)]])
    return np.stack([starts, ends, labels[starts]], axis=1).astype(np.int32)


class FusedTransport:
    """Compiled volume + interior-facet transport for axis-aligned meshes (see module docstring)."""

    @classmethod
    def build(cls, transport):
        nrm = transport.interior.normals
        axis = np.argmax(np.abs(nrm), axis=1) if len(nrm) else np.zeros(0, dtype=int)
        main = np.abs(nrm[np.arange(len(nrm)), axis])
        aligned = bool(np.allclose(main, 1.0, atol=1e-12) and np.allclose(np.sum(np.abs(nrm), axis=1), 1.0, atol=1e-12))
        comm = transport.phase.mesh.comm                 # one decision for all ranks (one compiled kernel)
        if not comm.allreduce(aligned, op=MPI.LAND) or comm.allreduce(len(nrm), op=MPI.SUM) == 0:
            return None
        return cls(transport, axis)

    def __init__(self, transport, axis):
        phase = transport.phase
        fi = transport.interior
        vel = transport._vel                                 # (size, d_x)
        size, dx = vel.shape
        self.size = size
        nrm = fi.normals
        n_own = phase.n_owned
        groups = (vel >= 0).astype(np.int64) @ (1 << np.arange(dx))
        ops = []
        for g in range(1 << dx):
            for a in range(dx):
                s = 1.0 if (g >> a) & 1 else -1.0
                on = axis == a
                cp = np.where(on & (s * nrm[:, a] > 0), nrm[:, a], 0.0)
                cm = np.where(on & (s * nrm[:, a] < 0), nrm[:, a], 0.0)
                A = transport.volume[a] - fi.test @ (sp.diags(cp) @ fi.plus + sp.diags(cm) @ fi.minus)
                ops.append(transport.speed * A.tocsr())
        comm = phase.mesh.comm
        B, nb, coef = self._blocks(ops, n_own, comm)
        width = nb.shape[2]
        self._comm = comm
        self.block = B
        blockset = op2.Set(n_own // B, comm=comm)
        self._neighbours = op2.Dat(op2.DataSet(blockset, nb[0].size), data=nb.reshape(n_own // B, -1),
                                   dtype=np.int32)
        self._states = {}
        self._outputs = {}
        self._rows = {}
        self._sent = None
        self.n_owned = n_own
        self._nown = op2.Global(1, data=np.zeros(1, dtype=np.int32), dtype=np.int32, comm=comm)
        self._coef = op2.Dat(op2.DataSet(blockset, coef[0].size), data=coef.reshape(n_own // B, -1))
        runs = _runs(groups)
        self._runs = op2.Global(runs.size, data=runs.ravel(), dtype=np.int32, comm=comm)
        self._vel = op2.Global(dx * size, data=np.ascontiguousarray(vel.T).ravel(), comm=comm)
        self._blockset = blockset
        self.out = op2.Dat(op2.DataSet(blockset, B * size), dtype=np.float64)
        self._kernel = op2.Kernel(self._code(size, dx, B, width, len(runs)), "dgk_transport_rows")
        self.width = width

    @staticmethod
    def _blocks(ops, n_own: int, comm):
        """Group consecutive rows into blocks of B (a DG cell's nodes are consecutive, so a block's
        rows share their neighbours) and list, per block and operator, the neighbours with a non-zero
        coefficient. Each neighbour row is then read once per block instead of once per row: the
        loop reads W/B rows per output instead of W. B is chosen from 4, 2, 1 (dividing the number of
        rows on every rank) by a cost model: W/B row reads plus W/8 fused multiply-adds (8-wide vectors)
        per output.

        Returns B, neighbours (blocks, operators, W) and coefficients (blocks, operators, B, W); padding
        slots point at the block's first row with a zero coefficient."""
        csr = [sp.csr_matrix(A, copy=True) for A in ops]
        for A in csr:
            A.sum_duplicates()
        patterns = [sp.csr_matrix((np.ones(A.nnz), A.indices.copy(), A.indptr.copy()), shape=A.shape) for A in csr]
        # the kernel is compiled once for all ranks: B and W must be the same on every rank
        unusable = np.iinfo(np.int32).max
        options = {}
        for B in (4, 2, 1):
            cols, W = None, unusable
            if n_own % B == 0:
                nblk = n_own // B
                agg = sp.csr_matrix((np.ones(n_own), (np.arange(n_own) // B, np.arange(n_own))),
                                    shape=(nblk, n_own))
                cols = [(agg @ P).tocsr() for P in patterns]
                for U in cols:
                    U.sort_indices()
                W = max([int(np.max(np.diff(U.indptr))) for U in cols if U.shape[0]] + [1])
            options[B] = (cols, comm.allreduce(W, op=MPI.MAX))
        costs = {B: W / B + W / 8 for B, (_, W) in options.items() if W < unusable}
        B = min(costs, key=lambda b: (costs[b], -b))
        cols, W = options[B]
        nblk = n_own // B
        nb = np.tile((np.arange(nblk) * B)[:, None, None], (1, len(ops), W)).astype(np.int32)
        coef = np.zeros((nblk, len(ops), B, W))
        for o, (A, U) in enumerate(zip(csr, cols)):
            blocks = np.repeat(np.arange(nblk), np.diff(U.indptr))
            slot = np.arange(U.nnz) - U.indptr[blocks]
            nb[blocks, o, slot] = U.indices
            for b in range(B):
                coef[blocks, o, b, slot] = np.asarray(A[blocks * B + b, U.indices]).ravel()
        return B, nb, coef

    @staticmethod
    def _code(S: int, DX: int, B: int, W: int, NR: int) -> str:
        # every velocity node lies in exactly one run (one sign pattern g): direction 0 assigns, the
        # others add. Per run and direction, each of the W neighbour rows is read once and feeds the B
        # accumulators of the block's rows: a plain stream over k that the compiler vectorises.
        def scalar(op, start="int k = s"):
            return f"""for ({start}; k < e; k++) {{
          double acc[{B}] = {{0.0}};
          for (int j = 0; j < {W}; j++) {{
            const double xj = x[j][k];
            for (int b = 0; b < {B}; b++) acc[b] += c[b * {W} + j] * xj;
          }}
          for (int b = 0; b < {B}; b++) out[b * {S} + k] {op} va[k] * acc[b];
        }}"""

        def streamed(bits, L, load, zero, fma, mul, store):
            # the result is written once and read only by the next stage: streaming (non-temporal)
            # stores skip the read-for-ownership of every output line (~1/3 of the traffic). They need
            # aligned addresses, so the first and last few nodes of a run go through a scalar loop that
            # does the very same operations (fused multiply-adds in the same order): the result does not
            # depend on where the output happens to sit in memory (restarted runs reproduce bitwise).
            exact = f"""{{
        double acc[{B}] = {{0.0}};
        for (int j = 0; j < {W}; j++)
          for (int b = 0; b < {B}; b++) acc[b] = DGK_FMA(c[b * {W} + j], x[j][k], acc[b]);
        for (int b = 0; b < {B}; b++) out[b * {S} + k] = va[k] * acc[b];
      }}"""
            return f"""
#if defined({bits})
      int k = s;
      for (; k < e && ((uintptr_t) (out + k) & {8 * L - 1}); k++) {exact}
      for (; k + {L} <= e; k += {L}) {{
        __typeof__({zero}) acc[{B}];
        for (int b = 0; b < {B}; b++) acc[b] = {zero};
        for (int j = 0; j < {W}; j++) {{
          const __typeof__({zero}) xj = {load}(x[j] + k);
          for (int b = 0; b < {B}; b++) acc[b] = {fma};
        }}
        const __typeof__({zero}) v = {load}(va + k);
        for (int b = 0; b < {B}; b++) {store}(out + b * {S} + k, {mul});
      }}
      for (; k < e; k++) {exact}
      streamed = 1;
#endif"""
        if DX == 1 and S % 8 == 0:
            first = (streamed("__AVX512F__", 8, "_mm512_loadu_pd", "_mm512_setzero_pd()",
                              f"_mm512_fmadd_pd(_mm512_set1_pd(c[b * {W} + j]), xj, acc[b])",
                              "_mm512_mul_pd(v, acc[b])", "_mm512_stream_pd")
                     + "\n#if !defined(__AVX512F__)"
                     + streamed("__AVX__", 4, "_mm256_loadu_pd", "_mm256_setzero_pd()",
                                f"DGK_FMA256(_mm256_set1_pd(c[b * {W} + j]), xj, acc[b])",
                                "_mm256_mul_pd(v, acc[b])", "_mm256_stream_pd")
                     + "\n#endif\n      if (!streamed) " + scalar("="))
        else:
            first = scalar("=")
        return f"""
#include <stdint.h>
#include <immintrin.h>
#if defined(__FMA__) || defined(__AVX512F__)
#define DGK_FMA(a, b, c) __builtin_fma((a), (b), (c))
#define DGK_FMA256(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#else
#define DGK_FMA(a, b, c) ((a) * (b) + (c))
#define DGK_FMA256(a, b, c) _mm256_add_pd(_mm256_mul_pd((a), (b)), (c))
#endif
static void dgk_transport_rows(double *restrict out, const int *restrict nb, const double *restrict C,
                               const int *restrict runs, const double *restrict vel, const double *restrict X,
                               const double *restrict Xh, const int *restrict nown)
{{
  int streamed = 0;
  for (int r = 0; r < {NR}; r++) {{
    const int s = runs[3 * r], e = runs[3 * r + 1], g = runs[3 * r + 2];
    for (int a = 0; a < {DX}; a++) {{
      const int o = g * {DX} + a;
      const double *restrict va = vel + a * {S};
      const double *restrict c = C + o * {B * W};
      const double *restrict x[{W}];
      for (int j = 0; j < {W}; j++) {{
        const int n = nb[o * {W} + j];                  /* owned rows from X, halo rows from Xh */
        x[j] = (n < nown[0] ? X : Xh) + (long) n * {S};
      }}
      if (a == 0) {{ {first} }}
      else {scalar("+=")}
    }}
  }}
#if defined(__SSE2__)
  if (streamed) _mm_sfence();
#endif
}}
"""

    @staticmethod
    def _wrapped(cache: dict, array: np.ndarray, make, keep: int = 1):
        """The PyOP2 object sharing ``array``'s memory, made once per buffer (keyed by its address and
        shape: every fresh view of the same buffer reuses it; the cache holds the last ``keep``
        buffers: the time stepper's stage vectors come back at every step)."""
        key = (array.__array_interface__["data"][0], array.shape)
        held = cache.get(key)
        if held is None:
            held = (array, make(array))                  # the array is kept alive with its wrapper
            if len(cache) >= keep:
                cache.clear()
            cache[key] = held
        return held[1]

    def _global(self, cache: dict, array: np.ndarray, keep: int = 1):
        a = array.reshape(-1)
        return self._wrapped(cache, a, lambda b: op2.Global(b.size, data=b, comm=self._comm), keep)

    def _state(self, dat):
        """The state with up-to-date halos, handed to the kernel in place (a PyOP2 Global sharing
        the Dat's memory: the kernel indexes neighbour rows itself, nothing is packed)."""
        return self._global(self._states, dat.data_ro_with_halos)    # halo exchange if needed

    def _send_rows(self, dat) -> np.ndarray:
        """The owned rows other ranks hold as halo rows (the roots of the halo star forest)."""
        if self._sent is None:
            halo = dat.dataset.halo
            if self._comm.size == 1 or halo is None:
                self._sent = np.zeros(0, dtype=np.int64)
            else:
                self._sent = np.flatnonzero(halo.sf.computeDegree())
        return self._sent

    def _target(self, out):
        """A PyOP2 Dat writing straight into the caller's array (owned rows, C-contiguous float64)."""
        if out is None:
            return self.out
        if not (out.flags.c_contiguous and out.dtype == np.float64 and out.size == self.out.data_ro.size):
            raise ValueError("transport output must be a C-contiguous float64 array of the owned rows")
        return self._wrapped(self._outputs, out,
                             lambda a: op2.Dat(op2.DataSet(self._blockset, self.block * self.size),
                                               data=a.reshape(-1, self.block * self.size)))

    def _loop(self, target, owned, with_halos, n_owned_rows):
        self._nown.data[0] = n_owned_rows
        op2.par_loop(self._kernel, self._blockset, target(op2.WRITE), self._neighbours(op2.READ),
                     self._coef(op2.READ), self._runs(op2.READ), self._vel(op2.READ), owned(op2.READ),
                     with_halos(op2.READ), self._nown(op2.READ))

    def apply(self, dat, out: np.ndarray | None = None) -> np.ndarray:
        """Volume + interior transport of the state ``dat`` (a Firedrake Dat) into ``out`` (owned rows)."""
        target = self._target(out)
        X = self._state(dat)
        self._loop(target, X, X, np.iinfo(np.int32).max)
        return target.data_ro.reshape(-1, self.size) if out is None else out

    def apply_rows(self, rows: np.ndarray, work, out: np.ndarray) -> np.ndarray:
        """As :meth:`apply` for a state given as its owned rows (e.g. a time stepper's stage vector,
        C-contiguous (n_owned, size)) without copying it: the kernel reads owned rows from ``rows``
        and halo rows from the Dat ``work``, into whose owned part only the rows other ranks need
        are copied before the halo exchange."""
        if not (rows.flags.c_contiguous and rows.dtype == np.float64 and rows.size == self.out.data_ro.size):
            raise ValueError("transport state rows must be a C-contiguous float64 array of the owned rows")
        sent = self._send_rows(work)
        if self._comm.size > 1:
            data = work._data.reshape(-1, self.size)
            data[sent] = rows[sent]
            work.halo_valid = False
            work.global_to_local_begin(op2.READ)
            work.global_to_local_end(op2.READ)
        self._loop(self._target(out), self._global(self._rows, rows, keep=8), self._state(work), self.n_owned)
        return out
