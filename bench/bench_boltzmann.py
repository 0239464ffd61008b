"""Benchmark of the structure-preserving Boltzmann operator on the homogeneous BKW problem.

For each velocity resolution it reports
- precomputation: wall time, number of kept collisions, bytes of the stored tables (and storage mode);
- one evaluation of the operator: time per call, per velocity node and per collision, for 1 row and
  for a block of rows, and the ratio to one dense GEMM of the same row count (R × n_v)·(n_v × n_v)
  measured in the same run (a dense linear operator on the same block — the yardstick for
  "how many dense mat-mults is one collision evaluation");
- accuracy: the nodal consistency error |rhs(f_BKW) − ∂t f_BKW|∞ / |∂t f_BKW|∞ at t₀, and the
  relative L∞ error of a run from t₀ to t_ref;
- the wall time (precomputation + run) of the cheapest resolution reaching 1e-2 and 1e-3 relative
  L∞ error at t_ref ("not reached" when none does);

for both forms of the operator, measured side by side:
- ``weak``: :class:`~dgkinetic.collisions.boltzmann.Boltzmann`, the structure-preserving form (exact
  H-theorem), stepped implicitly (SDIRK2, Newton in the entropy variable: explicit steps fail in its
  far tails). Its nodal values converge at first order;
- ``collocation``: :class:`~dgkinetic.collisions.collocation.CollocationBoltzmann`, nodal
  collocation of gain − loss over the same collisions with conservation restored (no bracket),
  stepped explicitly (SSP-RK3, positive for Δt ν ≤ 1). Its nodal values converge at high order.
- ``spectral``: :class:`~dgkinetic.collisions.spectral.SpectralBoltzmann`, the fast spectral
  variant (O(M_ρ M_σ N^d log N) per evaluation, isotropic scattering only), conservation restored,
  stepped explicitly like the collocation form. Its "store" column gives the number of modes N per
  direction, and it has no collision list (ns/coll "-"). The /GEMV, /GEMM yardsticks are skipped
  ("nan") above 6000 nodes, where the dense matrix would take GBs.

Run:  python bench/bench_boltzmann.py [--full] [--dim 2|3]
Timings depend on the machine and its load; set OPENBLAS_NUM_THREADS=1 on a shared machine (the
small dense solves otherwise spend their time in thread synchronisation).
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy.linalg import lu_factor, lu_solve

from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.reference.bkw import bkw_distribution, bkw_time_derivative
from dgkinetic.collisions.boltzmann import Boltzmann
from dgkinetic.collisions.collocation import CollocationBoltzmann
from dgkinetic.collisions.kernels import MaxwellMolecules
from dgkinetic.collisions.spectral import SpectralBoltzmann
from dgkinetic.collisions.sphere import sphere_quadrature

GAMMA = 1.0 - 1.0 / math.sqrt(2.0)


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def implicit_solve(op, Z, Y, h, jac, tol=1e-10, max_iter=40):
    """Y − h rhs(Y) = Z by Newton in η = log f. The Jacobian (jac = [J, lu, h]) is kept between
    iterations, stages and steps and refreshed only when the residual stops falling tenfold."""
    eta = np.log(Y)
    last = np.inf
    for _ in range(max_iter):
        G = Y - Z - h * op.rhs(Y)
        res = np.abs(G).max() / np.abs(Z).max()
        if res <= tol:
            return Y
        if jac[0] is None or res > 0.1 * last or jac[2] != h:
            jac[0] = op.jacobian(Y)
            jac[1] = lu_factor(np.eye(op.mixture.size) - h * jac[0][0])
            jac[2] = h
            jac[3] += 1
        last = res
        d = lu_solve(jac[1], -G[0]) / Y[0]
        d *= min(1.0, 3.0 / np.abs(d).max())
        eta = eta + d
        Y = np.exp(eta)
    raise RuntimeError("Newton did not converge")


def sdirk2_run(op, X, t0, t1, dt):
    """L-stable SDIRK2 (Alexander); returns the state at t1 and the number of Jacobians built."""
    jac = [None, None, None, 0]
    t = t0
    while t < t1 - 1e-12:
        Y1 = implicit_solve(op, X, X.copy(), GAMMA * dt, jac)
        k1 = (Y1 - X) / (GAMMA * dt)
        X = implicit_solve(op, X + (1 - GAMMA) * dt * k1, Y1, GAMMA * dt, jac)
        t += dt
    return X, jac[3]


def ssprk3_run(op, X, t0, t1, dt):
    """Explicit SSP-RK3 (Shu–Osher): convex combinations of forward Euler steps, each positive for
    Δt ν ≤ 1 with the collocated gain ≥ 0 and loss f ν."""
    steps = int(round((t1 - t0) / dt))
    for _ in range(steps):
        Y = X + dt * op.rhs(X)
        Y = 0.75 * X + 0.25 * (Y + dt * op.rhs(Y))
        X = X / 3 + 2 / 3 * (Y + dt * op.rhs(Y))
    return X, 0


def make_operator(form, mix, sphere):
    if form == "spectral":                   # sphere: degree of the σ rule; modes set by the grid
        return SpectralBoltzmann(mix, MaxwellMolecules(), radial_points=12, sphere_degree=sphere)
    cls = Boltzmann if form == "weak" else CollocationBoltzmann
    return cls(mix, MaxwellMolecules(), sphere, cache=False, memory_limit=6 * 2 ** 30)


#: above this many nodes the dense (n_v × n_v) yardstick matrix is not built (GBs)
DENSE_LIMIT = 6000


def case(dim, cells, degree, sphere, extent, t0, t_ref, dt, rows_block, run, form="weak"):
    grid = VelocityGrid(dim, cells, degree, extent=extent)
    mix = Mixture([Species("a")], [grid])
    t = time.perf_counter()
    op = make_operator(form, mix, sphere)
    t_pre = time.perf_counter() - t
    f0 = bkw_distribution(grid.nodes, t0, dim)[None]
    n_v = grid.size
    t_eval1 = best_of(lambda: op.weak_form(f0))
    noise = np.random.default_rng(0).random((rows_block, n_v))
    block = np.repeat(f0, rows_block, axis=0) * (1 + 0.01 * noise)
    t_evalR = best_of(lambda: op.weak_form(block), repeat=2)
    ratio1 = ratioR = float("nan")
    if n_v <= DENSE_LIMIT:
        dense = np.random.default_rng(1).random((n_v, n_v))
        ratio1 = t_eval1 / best_of(lambda: f0 @ dense, repeat=5)
        ratioR = t_evalR / best_of(lambda: block @ dense, repeat=5)
    exact = bkw_time_derivative(grid.nodes, t0, dim)
    consistency = np.abs(op.rhs(f0)[0] - exact).max() / np.abs(exact).max()
    spectral = form == "spectral"
    out = dict(form=form, dim=dim, cells=cells, degree=degree, n_v=n_v,
               sphere=len(op.omega) if spectral else op.sphere.size,
               collisions=0 if spectral else op.n_collisions, bytes=op.nbytes,
               storage=f"N={op.periodic.N}" if spectral else op.storage, t_pre=t_pre,
               t_eval1=t_eval1, t_evalR=t_evalR, R=rows_block, ratio1=ratio1, ratioR=ratioR,
               consistency=consistency)
    if run:
        t = time.perf_counter()
        try:
            stepper = sdirk2_run if form == "weak" else ssprk3_run
            X, out["jacobians"] = stepper(op, f0, t0, t_ref, dt)
        except (RuntimeError, FloatingPointError, ArithmeticError) as err:
            out["failed"] = str(err)
            return out
        out["t_run"] = time.perf_counter() - t
        ex = bkw_distribution(grid.nodes, t_ref, dim)
        out["error"] = np.abs(X[0] - ex).max() / ex.max()
    return out


def space_run_1d3v(cells: int = 8, vcells: int = 3, steps: int = 5) -> dict:
    """1D3V hard spheres between diffuse walls at T = 1 and 1.5 (Kn ≈ 0.1): wall time per explicit
    RK3 step (3 transport + collision evaluations at every space node), after a warm-up step."""
    import firedrake as fd
    from dgkinetic.collisions.kernels import HardSpheres
    from dgkinetic.phase_space import PhaseSpace
    from dgkinetic.solver import KineticProblem, KineticSolver
    from dgkinetic.walls import Diffuse
    s = Species("argon", diameter=1.0)
    grid = VelocityGrid(3, vcells, 2, extent=4.5)
    mix = Mixture([s], [grid])
    phase = PhaseSpace(fd.IntervalMesh(cells, 1.0), mix, degree=1)
    t0 = time.perf_counter()
    op = Boltzmann(mix, HardSpheres(), sphere_quadrature(3, 3, kind="lebedev"), tail_floor=1e-6)
    f = phase.local_equilibrium([1.0], [np.zeros(3)], [1.2])
    problem = KineticProblem(phase, f, walls={1: Diffuse(temperature=1.0), 2: Diffuse(temperature=1.5)},
                             collisions=[(op, 10.0)])
    dt = 0.2 * (1.0 / (2 * cells)) / (3 * 4.5)          # well inside the transport CFL limit
    solver = KineticSolver(problem, solver_parameters={"ts_type": "rk", "ts_rk_type": "3bs", "ts_adapt_type": "none"})
    solver.solve(dt, dt)
    setup = time.perf_counter() - t0
    t1 = time.perf_counter()
    solver.solve(dt * (1 + steps), dt, t0=solver.time)
    per_step = (time.perf_counter() - t1) / steps
    return {"space_nodes": phase.n_owned, "n_v": grid.size, "collisions_per_node": op.n_collisions,
            "setup_s": setup, "step_s": per_step}


def per_collision(r) -> str:
    """ns per discrete collision ('-' for the spectral form, which has no collision list)."""
    return f"{1e9 * r['t_eval1'] / r['collisions']:.1f}" if r["collisions"] else "-"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, choices=(2, 3), default=None, help="only this dimension")
    parser.add_argument("--full", action="store_true", help="finer resolutions (minutes, GBs)")
    args = parser.parse_args(argv)
    plans = []
    if args.dim in (None, 2):
        # t₀ = 2 (f_BKW > 0 with smooth log f), t_ref = 4 (K from 0.70 to 0.80)
        res = [(4, 2), (6, 2), (8, 2), (4, 3), (6, 3)] + ([(12, 2), (8, 3)] if args.full else [])
        for cells, p in res:
            plans.append(dict(dim=2, cells=cells, degree=p, sphere=8, extent=5.0, t0=2.0, t_ref=4.0,
                              dt=0.5, rows_block=64, run=cells * (p + 1) <= (36 if args.full else 24)))
        res = [(6, 2), (8, 2), (12, 2), (6, 3), (8, 3), (10, 3)] + ([(16, 2), (12, 3)] if args.full else [])
        for cells, p in res:
            plans.append(dict(dim=2, cells=cells, degree=p, sphere=8, extent=5.0, t0=2.0, t_ref=4.0,
                              dt=0.125, rows_block=64, run=True, form="collocation"))
        for cells in [4, 6, 8] + ([12] if args.full else []):
            plans.append(dict(dim=2, cells=cells, degree=3, sphere=8, extent=5.0, t0=2.0, t_ref=4.0,
                              dt=0.125, rows_block=64, run=True, form="spectral"))
    if args.dim in (None, 3):
        # t₀ = 8 (f_BKW ≥ 0 for t ≥ 5.5), t_ref = 10; 2 × 4 directions integrate the
        # quadratic σ-dependence of f'f*' for BKW exactly
        rule = sphere_quadrature(3, 2, n_azimuth=4)
        res = [(2, 2), (3, 2)] + ([(4, 2)] if args.full else [])
        for cells, p in res:
            plans.append(dict(dim=3, cells=cells, degree=p, sphere=rule, extent=4.0, t0=8.0, t_ref=10.0,
                              dt=0.5, rows_block=8, run=cells <= 2))
        for cells, p in [(2, 2), (3, 2), (2, 3)] + ([(4, 2), (2, 4)] if args.full else []):
            plans.append(dict(dim=3, cells=cells, degree=p, sphere=rule, extent=4.0, t0=8.0, t_ref=10.0,
                              dt=0.125, rows_block=8, run=True, form="collocation"))
        # the spectral form's box is wider (its cost does not grow with the box); Lebedev degree 5
        for cells in [3, 4, 6] + ([8] if args.full else []):
            plans.append(dict(dim=3, cells=cells, degree=3, sphere=5, extent=4.5, t0=8.0, t_ref=10.0,
                              dt=0.125, rows_block=8, run=True, form="spectral"))
    results = []
    if args.dim in (None, 3):
        r = space_run_1d3v()
        print(f"1D3V hard spheres, diffuse walls: {r['space_nodes']} space nodes x {r['n_v']} velocity nodes, "
              f"{r['collisions_per_node']} collisions per node: set-up {r['setup_s']:.2f} s, "
              f"{r['step_s']:.3f} s per explicit RK3 step ({r['step_s'] / (3 * r['space_nodes']) * 1e3:.2f} ms per "
              "collision evaluation per space node)\n", flush=True)
    hdr = (f"{'form':>11} {'d':>1} {'cells':>5} {'p':>1} {'n_v':>6} {'M':>3} {'collisions':>11} {'MB':>7} {'store':>7} "
           f"{'pre s':>7} {'eval s':>8} {'us/node':>8} {'ns/coll':>7} {'/GEMV':>7} {'eval R s':>8} "
           f"{'/GEMM':>7} {'consist':>8} {'run s':>7} {'err@t_ref':>9}")
    print(hdr)
    for plan in plans:
        r = case(**plan)
        results.append(r)
        if "t_run" in r:
            run = f"{r['t_run']:7.2f} {r['error']:9.2e}"
        else:
            run = f"{'-':>7} {'failed' if 'failed' in r else '-':>9}"
        print(f"{r['form']:>11} {r['dim']:>1} {r['cells']:>5} {r['degree']:>1} {r['n_v']:>6} {r['sphere']:>3} "
              f"{r['collisions']:>11} {r['bytes'] / 1e6:7.1f} {r['storage']:>7} {r['t_pre']:7.2f} "
              f"{r['t_eval1']:8.4f} {1e6 * r['t_eval1'] / r['n_v']:8.2f} "
              f"{per_collision(r):>7} {r['ratio1']:7.0f} {r['t_evalR']:8.3f} "
              f"{r['ratioR']:7.0f} {r['consistency']:8.2e} {run}", flush=True)
    print("\nrows per block R = 64 (2V), 8 (3V); /GEMV, /GEMM: evaluation time over one dense "
          "(R × n_v)(n_v × n_v) product of the same rows, measured in this run.")
    for dim, form in sorted({(r["dim"], r["form"]) for r in results}):
        mine = [r for r in results if r["dim"] == dim and r["form"] == form]
        done = [r for r in mine if "t_run" in r]
        for r in mine:
            if "failed" in r:
                print(f"{dim}V {form} cells={r['cells']} p={r['degree']}: run failed ({r['failed']})")
        for target in (1e-2, 1e-3):
            ok = [r for r in done if r["error"] <= target]
            if ok:
                best = min(ok, key=lambda r: r["t_pre"] + r["t_run"])
                print(f"{dim}V {form}: relative L∞ error {target:g} at t_ref reached by cells={best['cells']}, "
                      f"p={best['degree']} (n_v={best['n_v']}) in {best['t_pre'] + best['t_run']:.2f} s "
                      f"(precompute {best['t_pre']:.2f} s + run {best['t_run']:.2f} s)")
            else:
                print(f"{dim}V {form}: relative L∞ error {target:g} at t_ref not reached by the resolutions run "
                      f"(best {min((r['error'] for r in done), default=float('nan')):.2e})")


if __name__ == "__main__":
    main()
