"""Landau interaction-sum benchmark: the O(N_q²) field computation against a plain GEMM.

The fields D_ij(q) = Σ_r w_r F_j(r) U(q − r) and K_ij(q) = Σ_r U(q − r)(w F_j b_j)(r) of
:mod:`dgkinetic.collisions.landau` are d(d+1)/2 matrix products per species pair, batched over the
state rows. For a 2V and a 3V grid and 64 rows this prints the achieved GFLOP/s of that computation
(``method="direct"``, kernel cached) next to the GFLOP/s of one numpy GEMM of the same shape
measured in the same run, and their ratio (target: close to 1 — the sums *are* GEMMs; the gap is the
bookkeeping around them). It also prints the time of the exact moment evaluation that Maxwell
molecules allow, for scale.

Run: ``python bench/bench_landau_kernel.py`` (≈ 10 s).
"""
from __future__ import annotations

import math
import time

import numpy as np

from dgkinetic import Mixture, Species, VelocityGrid, equilibrium
from dgkinetic.collisions.landau import Landau


def best_time(fn, repeats: int) -> float:
    fn()                                            # warm-up (kernel cache, BLAS threads)
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def case(dim: int, cells: int, degree: int = 2, rows: int = 64, repeats: int = 5) -> dict:
    species = Species("a")
    grid = VelocityGrid(dim, cells, degree, extent=5.0, continuous=True)
    mix = Mixture([species], [grid])
    rng = np.random.default_rng(0)
    X = equilibrium(grid, species, 1.0, 0.0, 1.0, check=False)[None]
    X = X * (1 + 0.2 * rng.random((rows, grid.size)))
    op = Landau(mix, -3.0 if dim == 3 else -2.0, method="direct")
    at = op._at_points(mix.entropy_variable(X))
    Fw = [a[0] for a in at]
    Sb = [a[0][:, None, :] * a[1] for a in at]
    nq = op._sq[0].nq
    t_fields = best_time(lambda: op._fields(Fw, Sb), repeats)
    # d(d+1)/2 GEMMs of ((d+1)·rows × N_q) @ (N_q × N_q): 2 m n k flops each
    m = (dim + 1) * rows
    flops = op._nab * 2.0 * m * nq * nq
    A = rng.random((m, nq))
    B = rng.random((nq, nq))
    t_gemm = best_time(lambda: A @ B.T, repeats)
    t_weak = best_time(lambda: op.weak_form(X), repeats)
    mom = Landau(mix, "maxwell", method="moments")
    t_mom = best_time(lambda: mom.weak_form(X), repeats)
    return {"dim": dim, "nodes": grid.size, "quad_points": nq, "rows": rows,
            "fields_gflops": flops / t_fields / 1e9, "gemm_gflops": 2.0 * m * nq * nq / t_gemm / 1e9,
            "t_fields": t_fields, "t_weak_form": t_weak, "t_moments": t_mom}


def main() -> None:
    print("Landau field computation (direct O(N_q^2) sums) vs numpy GEMM of the same shape, same run")
    print(f"{'case':>4} {'nodes':>6} {'N_q':>6} {'rows':>5} {'fields GF/s':>12} {'GEMM GF/s':>10} "
          f"{'ratio':>6} {'weak_form s':>12} {'s/row':>9} {'moments s':>10}")
    for dim, cells in ((2, 8), (3, 4)):
        r = case(dim, cells)
        print(f"{r['dim']}V {r['nodes']:>8} {r['quad_points']:>6} {r['rows']:>5} {r['fields_gflops']:>12.2f} "
              f"{r['gemm_gflops']:>10.2f} {r['fields_gflops'] / r['gemm_gflops']:>6.2f} "
              f"{r['t_weak_form']:>12.4f} {r['t_weak_form'] / r['rows']:>9.2e} {r['t_moments']:>10.4f}")


if __name__ == "__main__":
    main()
