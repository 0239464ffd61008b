"""1D3V hard-sphere argon Couette flow: CPU time of a steady state against the DSMC figures of issue 14.

Walls diffuse at T_w, moving at ∓U_w/2 (U_w = 0.35 √(kT_w/m), Mach 0.27, and U_w = 0.039, Mach 0.03);
Kn = λ/L with λ = 1/(√2 π d² n). The steady state is solved directly (dgkinetic.steady: Newton–Krylov,
transport-sweep and moment preconditioner) with the spectral hard-sphere operator. Printed per case:
P_xy/P_xy^FM, CPU seconds on this process (set-up and precomputation included, imports not), kinetic
sweeps (evaluations of transport + collisions), Newton steps, peak resident memory.

    python bench/bench_flows.py                 # the default grid, Kn 1, 0.1, 0.01, both Mach numbers
    python bench/bench_flows.py --refine        # also the refined grid: the project's converged value

Reference (issue 14): the DSMC code users would otherwise run reaches P_xy to 1% (statistical) in
0.7 s CPU at Kn 1 and 16.5 s at Kn 0.1 on one core of this class of machine, at Mach 0.27.
"""
import argparse
import math
import resource
import time

import numpy as np

from dgkinetic.cli import start_petsc

start_petsc([])                       # PETSc gets no options from this script's own command line
import firedrake as fd  # noqa: E402
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
GRIDS = {"default": dict(vcells=4, vdegree=3, extent=4.5, cells=2, degree=2, radial=8, sphere=5),
         "refined": dict(vcells=6, vdegree=3, extent=5.0, cells=12, degree=2, radial=12, sphere=7)}


def couette(knudsen: float, wall_speed: float, grid: dict, comm=None) -> dict:
    """One steady Couette flow; with ``comm`` the collision work is shared by its ranks."""
    from mpi4py import MPI
    start, wall = time.process_time(), time.perf_counter()
    g = VelocityGrid(3, grid["vcells"], grid["vdegree"], extent=grid["extent"])
    mix = Mixture([Species("Ar", 1.0)], [g])
    phase = PhaseSpace(fd.IntervalMesh(grid["cells"], 1.0, comm=MPI.COMM_SELF), mix, degree=grid["degree"])
    f0 = phase.local_equilibrium([1.0], [np.zeros(3)], [1.0])
    op = SpectralBoltzmann(mix, HardSpheres(), radial_points=grid["radial"], sphere_degree=grid["sphere"])
    walls = {1: Diffuse(1.0, (0.0, -wall_speed / 2)), 2: Diffuse(1.0, (0.0, wall_speed / 2))}
    problem = KineticProblem(phase, f0, walls=walls,
                             collisions=[(op, rate_for_knudsen(knudsen, 1.0, 1.0, 1.0, 3))])
    solver = SteadySolver(problem, comm=comm)
    solver.solve()
    cpu, wall = time.process_time() - start, time.perf_counter() - wall
    tr = solver.transport
    vn, fhat = tr.boundary_state(solver.rows)
    pxy = (vn * fhat * mix.weights * tr.boundary.normals[:, :1]) @ (mix.masses * mix.velocities[:, 1])
    fm = -wall_speed / math.sqrt(2 * math.pi)
    return {"ratio": float(np.mean(pxy)) / fm, "cpu": cpu, "wall": wall, "sweeps": solver.stats["sweeps"],
            "newton": solver.stats["newton_iterations"],
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--knudsen", type=float, nargs="+", default=[1.0, 0.1, 0.01])
    parser.add_argument("--mach", type=float, nargs="+", default=[0.27, 0.03])
    parser.add_argument("--refine", action="store_true", help="also run the refined grid")
    parser.add_argument("--ranks", type=int, default=2,
                        help="the speed-up of Kn = 0.1, Mach 0.27 on this many ranks (0: skip)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:                        # one run under mpiexec: the collisions shared by the ranks
        from mpi4py import MPI
        r = couette(0.1, 0.27 * math.sqrt(5.0 / 3.0), GRIDS["default"], comm=MPI.COMM_WORLD)
        if MPI.COMM_WORLD.rank == 0:
            print(f"WALL {r['wall']:.6f} RATIO {r['ratio']:.12f} RSS {r['rss_mib']:.0f}", flush=True)
        return
    if args.ranks > 1:
        parallel_speedup(args.ranks)
    grids = ["default"] + (["refined"] if args.refine else [])
    print(f"{'grid':8s} {'Kn':>5s} {'Mach':>5s} {'Pxy/PFM':>9s} {'CPU s':>7s} {'sweeps':>6s} {'Newton':>6s} "
          f"{'peak MiB':>8s} {'DSMC s':>7s}")
    results = {}
    for name in grids:
        for kn in args.knudsen:
            for mach in args.mach:
                r = couette(kn, mach * math.sqrt(5.0 / 3.0), GRIDS[name])
                results[name, kn, mach] = r
                dsmc = DSMC_CPU.get(kn) if mach == 0.27 else None
                print(f"{name:8s} {kn:5.2g} {mach:5.2f} {r['ratio']:9.5f} {r['cpu']:7.1f} {r['sweeps']:6d} "
                      f"{r['newton']:6d} {r['rss_mib']:8.0f} {dsmc if dsmc else '-':>7}", flush=True)
    if args.refine:
        for kn in args.knudsen:
            for mach in args.mach:
                a, b = results["default", kn, mach]["ratio"], results["refined", kn, mach]["ratio"]
                print(f"Kn {kn:g} Mach {mach:g}: default grid {abs(a / b - 1):.2%} from the refined grid")


def parallel_speedup(ranks: int) -> None:
    """Wall time of Kn = 0.1, Mach 0.27 on one rank and on ``ranks`` (mpiexec), the same result."""
    import os
    import subprocess
    import sys
    serial = couette(0.1, 0.27 * math.sqrt(5.0 / 3.0), GRIDS["default"])
    env = dict(os.environ, OMPI_MCA_rmaps_base_oversubscribe="1")
    proc = subprocess.run(["mpiexec", "-n", str(ranks), sys.executable, os.path.abspath(__file__), "--child"],
                          capture_output=True, text=True, env=env)
    line = next((t for t in proc.stdout.splitlines() if t.startswith("WALL")), None)
    if proc.returncode != 0 or line is None:
        print(f"{ranks} ranks: the run failed: {proc.stderr.strip().splitlines()[-1:]}")
        return
    fields = line.split()
    wall, ratio, rss = float(fields[1]), float(fields[3]), float(fields[5])
    print(f"Kn 0.1, Mach 0.27: wall {serial['wall']:.1f} s on 1 rank, {wall:.1f} s on {ranks}: speed-up "
          f"{serial['wall'] / wall:.2f} (P_xy/P_FM {serial['ratio']:.10f} and {ratio:.10f}; peak {rss:.0f} MiB "
          f"per rank)", flush=True)


if __name__ == "__main__":
    main()
