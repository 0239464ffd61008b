"""1D3V hard-sphere argon Couette flow: CPU time of a steady state against the DSMC figures of issue 14.

Walls diffuse at T_w, moving at ∓U_w/2 (U_w = 0.35 √(kT_w/m), Mach 0.27, and U_w = 0.039, Mach 0.03);
Kn = λ/L with λ = 1/(√2 π d² n). The steady state is solved directly (dgkinetic.steady: Newton–Krylov,
transport-sweep and moment preconditioner) with the spectral hard-sphere operator (its self-pair gain
in Carleman's form). Every case runs in a fresh process, timed from after the imports: CPU seconds
include the set-up (Firedrake's assembly and kernel loading, the spectral tables, the preconditioner)
and exclude interpreter start and imports. Printed per case: P_xy/P_xy^FM, its distance to the
project's converged value, CPU seconds, kinetic sweeps (evaluations of transport + collisions), Newton
steps, the final residual relative to the initial one, peak resident memory (Firedrake's own ≈ 300 MiB
included).

Grids. ``cheapest``: per Knudsen number, the cheapest run found within 1% of the converged value
(searched by hand over space cells, Carleman directions and the Newton tolerance on the default velocity
grid; tests/test_steady.py holds the solver to the residual 1e-6 target separately); ``default``: 4³ Q3
velocity cells at ±4.5 thermal speeds, 2 × P2 space, 19 directions, residual 1e-6; ``refined`` and
``refined+``: the converged values (``--refine`` recomputes them; otherwise the values of the last such
run, :data:`CONVERGED`, are used and said so).

    python bench/bench_flows.py                 # cheapest and default runs, Kn 1, 0.1, 0.01, both Mach
    python bench/bench_flows.py --refine        # also the refined grids (about 25 min): the converged values
    python bench/bench_flows.py --ranks 0       # skip the 2-rank speed-up

Reference (issue 14): the DSMC code users would otherwise run reaches P_xy to 1% (statistical) in
0.7 s CPU at Kn 1 and 16.5 s at Kn 0.1 on one core of this class of machine, at Mach 0.27.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

import numpy as np

from dgkinetic.cli import start_petsc
from fresh_process import run_case

start_petsc([])                       # PETSc gets no options from this script's own command line
import firedrake as fd  # noqa: E402
from mpi4py import MPI  # noqa: E402
from dgkinetic.reference.channel_flow import rate_for_knudsen  # noqa: E402
from dgkinetic.collisions.kernels import HardSpheres  # noqa: E402
from dgkinetic.collisions.spectral import SpectralBoltzmann  # noqa: E402
from dgkinetic.mixture import Mixture  # noqa: E402
from dgkinetic.phase_space import PhaseSpace  # noqa: E402
from dgkinetic.solver import KineticProblem  # noqa: E402
from dgkinetic.species import Species  # noqa: E402
from dgkinetic.steady import SteadySolver  # noqa: E402
from dgkinetic.velocity import VelocityGrid  # noqa: E402
from dgkinetic.walls import Diffuse  # noqa: E402

DSMC_CPU = {1.0: 0.7, 0.1: 16.5}
DEFAULT = dict(vcells=4, vdegree=3, extent=4.5, cells=2, degree=2, directions=9, rtol=1e-6)
GRIDS = {"default": DEFAULT,
         "refined": dict(vcells=6, vdegree=3, extent=5.0, cells=12, degree=2, directions=11, rtol=1e-6),
         "refined+": dict(vcells=8, vdegree=3, extent=5.5, cells=16, degree=2, directions=13, rtol=1e-6)}
CHEAPEST = {1.0: dict(DEFAULT, cells=1, directions=5, rtol=1e-2),
            0.1: dict(DEFAULT, directions=7, rtol=1e-2),
            0.01: dict(DEFAULT, cells=1, directions=7, rtol=1e-3)}
#: P_xy/P_FM on the ``refined+`` grid, from ``--refine`` (2026-12-03; the ``refined`` grid was within
#: 0.02% of it in every case); (Kn, Mach) -> value
CONVERGED = {(1.0, 0.27): 0.628930, (1.0, 0.03): 0.628554, (0.1, 0.27): 0.163487, (0.1, 0.03): 0.163203,
             (0.01, 0.27): 0.019543, (0.01, 0.03): 0.019515}


def couette(knudsen: float, mach: float, grid: dict, comm=None) -> dict:
    """One steady Couette flow; with ``comm`` the collision work is shared by its ranks."""
    start, wall = time.process_time(), time.perf_counter()
    wall_speed = mach * math.sqrt(5.0 / 3.0)
    g = VelocityGrid(3, grid["vcells"], grid["vdegree"], extent=grid["extent"])
    mix = Mixture([Species("Ar", 1.0)], [g])
    phase = PhaseSpace(fd.IntervalMesh(grid["cells"], 1.0, comm=MPI.COMM_SELF), mix, degree=grid["degree"])
    f0 = phase.local_equilibrium([1.0], [np.zeros(3)], [1.0])
    op = SpectralBoltzmann(mix, HardSpheres(), direction_degree=grid["directions"])
    walls = {1: Diffuse(1.0, (0.0, -wall_speed / 2)), 2: Diffuse(1.0, (0.0, wall_speed / 2))}
    problem = KineticProblem(phase, f0, walls=walls,
                             collisions=[(op, rate_for_knudsen(knudsen, 1.0, 1.0, 1.0, 3))])
    solver = SteadySolver(problem, {"snes_rtol": grid["rtol"]}, comm=comm)
    solver.solve()
    cpu, wall = time.process_time() - start, time.perf_counter() - wall
    tr = solver.transport
    vn, fhat = tr.boundary_state(solver.rows)
    pxy = (vn * fhat * mix.weights * tr.boundary.normals[:, :1]) @ (mix.masses * mix.velocities[:, 1])
    fm = -wall_speed / math.sqrt(2 * math.pi)
    return {"ratio": float(np.mean(pxy)) / fm, "cpu": cpu, "wall": wall, "solve_wall": solver.stats["wall_time"],
            "sweeps": solver.stats["sweeps"],
            "newton": solver.stats["newton_iterations"], "residual": solver.stats["residual"],
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def in_fresh_process(knudsen: float, mach: float, grid: dict, ranks: int = 1) -> dict:
    """:func:`couette` in a new process (``ranks`` > 1: under mpiexec, the collisions shared)."""
    case = json.dumps({"knudsen": knudsen, "mach": mach, "grid": grid, "shared": ranks > 1})
    return run_case(__file__, case, ranks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--knudsen", type=float, nargs="+", default=[1.0, 0.1, 0.01])
    parser.add_argument("--mach", type=float, nargs="+", default=[0.27, 0.03])
    parser.add_argument("--refine", action="store_true", help="also run the refined grids (converged values)")
    parser.add_argument("--ranks", type=int, default=2,
                        help="the speed-up of Kn = 0.1, Mach 0.27 on this many ranks (0: skip)")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--fft-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fft_probe:
        fft_probe()
        return
    if args.case:                         # one case in this process (the parent times nothing itself)
        c = json.loads(args.case)
        r = couette(c["knudsen"], c["mach"], c["grid"], comm=MPI.COMM_WORLD if c["shared"] else None)
        if MPI.COMM_WORLD.rank == 0:
            print("RESULT " + json.dumps(r), flush=True)
        return
    converged, source = dict(CONVERGED), "recorded (--refine on 2026-12-03)"
    runs = [("cheapest", None), ("default", DEFAULT)]
    if args.refine:
        runs += [("refined", GRIDS["refined"]), ("refined+", GRIDS["refined+"])]
        source = "this run's refined+ grid"
    print(f"{'grid':9s} {'Kn':>5s} {'Mach':>5s} {'Pxy/PFM':>9s} {'off conv.':>9s} {'CPU s':>7s} {'sweeps':>6s} "
          f"{'Newton':>6s} {'residual':>8s} {'peak MiB':>8s} {'DSMC s':>7s}")
    results = {}
    for kn in args.knudsen:
        for mach in args.mach:
            for name, grid in runs:
                r = in_fresh_process(kn, mach, grid or CHEAPEST[kn])
                results[name, kn, mach] = r
                if name == "refined+":
                    converged[kn, mach] = r["ratio"]
            for name, _ in runs:
                r = results[name, kn, mach]
                ref = converged.get((kn, mach))
                off = f"{r['ratio'] / ref - 1:+.2%}" if ref else "-"
                dsmc = DSMC_CPU.get(kn) if mach == 0.27 else None
                print(f"{name:9s} {kn:5.2g} {mach:5.2f} {r['ratio']:9.5f} {off:>9s} {r['cpu']:7.2f} {r['sweeps']:6d} "
                      f"{r['newton']:6d} {r['residual']:8.1e} {r['rss_mib']:8.0f} {dsmc if dsmc else '-':>7}",
                      flush=True)
    print(f"converged values: {source}")
    if args.refine:
        for kn in args.knudsen:
            for mach in args.mach:
                a, b = results["refined", kn, mach]["ratio"], results["refined+", kn, mach]["ratio"]
                print(f"Kn {kn:g} Mach {mach:g}: refined {a:.6f}, refined+ {b:.6f} ({abs(a / b - 1):.2%} apart)")
    if args.ranks > 1:
        one, many = fft_throughput(1), fft_throughput(args.ranks)
        print(f"the machine: the collisions' inverse FFTs run {one / many:.2f}× slower per process when "
              f"{args.ranks} processes run them at once (the speed-up's bound: {args.ranks * many / one:.2f})")
        for name, grid in (("cheapest", CHEAPEST[0.1]), ("default", DEFAULT)):
            one = in_fresh_process(0.1, 0.27, grid)
            many = in_fresh_process(0.1, 0.27, grid, ranks=args.ranks)
            print(f"Kn 0.1, Mach 0.27, {name} grid: wall {one['wall']:.2f} s on 1 rank, {many['wall']:.2f} s on "
                  f"{args.ranks}: speed-up {one['wall'] / many['wall']:.2f}, of the solve alone (after the set-up, "
                  f"which every rank repeats) {one['solve_wall'] / many['solve_wall']:.2f} (P_xy/P_FM "
                  f"{one['ratio']:.10f} and {many['ratio']:.10f}; peak {many['rss_mib']:.0f} MiB per rank)", flush=True)


def fft_probe(repeats: int = 40) -> None:
    """Time the inverse FFTs of one Carleman batch of the default grid (19 directions × 3 rows, N = 22)."""
    import scipy.fft
    rng = np.random.default_rng(1)
    x = rng.random((19, 3, 22, 22, 12)) + 1j * rng.random((19, 3, 22, 22, 12))
    MPI.COMM_WORLD.Barrier()
    start = time.perf_counter()
    for _ in range(repeats):
        scipy.fft.irfftn(x, s=(22, 22, 22), axes=(-3, -2, -1))
    seconds = MPI.COMM_WORLD.allreduce(time.perf_counter() - start, op=MPI.MAX)
    if MPI.COMM_WORLD.rank == 0:
        print(f"FFT {seconds:.6f}", flush=True)


def fft_throughput(ranks: int) -> float:
    """Seconds of :func:`fft_probe` with ``ranks`` processes at once (the slowest)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--fft-probe"]
    if ranks > 1:
        cmd = ["mpiexec", "-n", str(ranks)] + cmd
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          env=dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1"))
    line = next((t for t in proc.stdout.splitlines() if t.startswith("FFT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"the FFT probe failed: {proc.stderr.strip().splitlines()[-1:]}")
    return float(line.split()[1])


if __name__ == "__main__":
    main()
