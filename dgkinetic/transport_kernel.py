"""The volume and interior-facet part of the DG upwind transport as one compiled loop (PyOP2).

On meshes whose facets are normal to a coordinate axis (intervals, axis-aligned quadrilaterals)
the upwind flux (v·n)⁺ f⁺ + (v·n)⁻ f⁻ on a facet of axis a is v_a times a *fixed* combination of
the two traces once the sign of v_a is known. So for every sign pattern g of the velocity's space
components and every direction a, volume and facet terms fold into one sparse space operator,

    rhs[r, k] = Σ_a v_{k,a} Σ_j A_{g(k),a}[r, j] X[j, k],

with the same few neighbours j for every velocity node k. The loop over space nodes r is a PyOP2
``par_loop`` (halo exchanges included); its kernel streams each neighbour's row of velocity values
once per direction, in place (the state goes in as a PyOP2 Global sharing the Function's memory, halos
exchanged first, so nothing is packed), and the result is written once — what the bandwidth
benchmark measures (bench/bench_transport.py). Boundary facets stay in numpy (they hold
the wall conditions and are few). Not applicable to other meshes: :meth:`FusedTransport.build`
returns None and the sparse-matrix path is used.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
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
        if nrm.shape[0] == 0:
            return None
        axis = np.argmax(np.abs(nrm), axis=1)
        main = np.abs(nrm[np.arange(len(nrm)), axis])
        if not (np.allclose(main, 1.0, atol=1e-12) and np.allclose(np.sum(np.abs(nrm), axis=1), 1.0, atol=1e-12)):
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
        # one neighbour list per space node (the union of the operators' patterns), padded with itself
        union = sum(abs(A) for A in ops).tocsr()
        union.sort_indices()
        width = int(np.max(np.diff(union.indptr)))
        idx = np.tile(np.arange(n_own)[:, None], (1, width)).astype(np.int32)
        coef = np.zeros((n_own, len(ops), width))
        rows = np.repeat(np.arange(n_own), np.diff(union.indptr))
        slot = np.arange(union.nnz) - union.indptr[rows]
        idx[rows, slot] = union.indices
        for o, A in enumerate(ops):
            coef[rows, o, slot] = np.asarray(A[rows, union.indices]).ravel()
        comm = phase.mesh.comm
        self._comm = comm
        rowset = op2.Set(n_own, comm=comm)
        self._neighbours = op2.Dat(op2.DataSet(rowset, width), data=idx, dtype=np.int32)
        self._states = {}
        self._outputs = {}
        self._coef = op2.Dat(op2.DataSet(rowset, len(ops) * width), data=coef.reshape(n_own, -1))
        runs = _runs(groups)
        self._runs = op2.Global(runs.size, data=runs.ravel(), dtype=np.int32, comm=comm)
        self._vel = op2.Global(dx * size, data=np.ascontiguousarray(vel.T).ravel(), comm=comm)
        self.out = op2.Dat(op2.DataSet(rowset, size), dtype=np.float64)
        self._rowset = rowset
        self._kernel = op2.Kernel(self._code(size, dx, width, len(runs)), "dgk_transport_rows")
        self.width = width

    @staticmethod
    def _code(S: int, DX: int, W: int, NR: int) -> str:
        # every velocity node lies in exactly one run: direction 0 assigns, the others add. The
        # neighbours with a non-zero coefficient are listed first and the loop over velocity nodes is
        # written out for each possible count m, so that it is a plain vectorisable stream.
        cases = []
        for m in range(1, W + 1):
            acc = " + ".join(f"c[{j}] * row[{j}][k]" for j in range(m))
            cases.append(f"""        case {m}:
          if (a == 0) for (int k = s; k < e; k++) out[k] = va[k] * ({acc});
          else for (int k = s; k < e; k++) out[k] += va[k] * ({acc});
          break;""")
        body = "\n".join(cases)
        return f"""
static void dgk_transport_rows(double *restrict out, const int *restrict nb, const double *restrict C,
                               const int *restrict runs, const double *restrict vel, const double *restrict X)
{{
  for (int r = 0; r < {NR}; r++) {{
    const int s = runs[3 * r], e = runs[3 * r + 1], g = runs[3 * r + 2];
    for (int a = 0; a < {DX}; a++) {{
      const double *restrict va = vel + a * {S};
      const double *restrict row[{W}];
      double c[{W}];
      int m = 0;
      for (int j = 0; j < {W}; j++) {{
        const double cj = C[(g * {DX} + a) * {W} + j];
        if (cj != 0.0) {{ c[m] = cj; row[m] = X + (long) nb[j] * {S}; m++; }}
      }}
      switch (m) {{
        case 0:
          if (a == 0) for (int k = s; k < e; k++) out[k] = 0.0;
          break;
{body}
      }}
    }}
  }}
}}
"""

    @staticmethod
    def _wrapped(cache: dict, array: np.ndarray, make):
        """The PyOP2 object sharing ``array``'s memory, made once per buffer (keyed by its address and
        shape: every fresh view of the same buffer reuses it; the cache holds the last buffer only)."""
        key = (array.__array_interface__["data"][0], array.shape)
        held = cache.get(key)
        if held is None:
            held = (array, make(array))                  # the array is kept alive with its wrapper
            cache.clear()
            cache[key] = held
        return held[1]

    def _state(self, dat):
        """The state with up-to-date halos, handed to the kernel in place (a PyOP2 Global sharing
        the Dat's memory: the kernel indexes neighbour rows itself, nothing is packed)."""
        X = dat.data_ro_with_halos.reshape(-1)           # halo exchange if needed
        return self._wrapped(self._states, X, lambda a: op2.Global(a.size, data=a, comm=self._comm))

    def _target(self, out):
        """A PyOP2 Dat writing straight into the caller's array (owned rows, C-contiguous float64)."""
        if out is None:
            return self.out
        if not (out.flags.c_contiguous and out.dtype == np.float64 and out.shape == self.out.data_ro.shape):
            raise ValueError("transport output must be a C-contiguous float64 array of the owned rows")
        return self._wrapped(self._outputs, out, lambda a: op2.Dat(op2.DataSet(self._rowset, self.size), data=a))

    def apply(self, dat, out: np.ndarray | None = None) -> np.ndarray:
        """Volume + interior transport of the state ``dat`` (a Firedrake Dat) into ``out`` (owned rows)."""
        target = self._target(out)
        op2.par_loop(self._kernel, self._rowset, target(op2.WRITE), self._neighbours(op2.READ),
                     self._coef(op2.READ), self._runs(op2.READ), self._vel(op2.READ), self._state(dat)(op2.READ))
        return target.data_ro if out is None else out
