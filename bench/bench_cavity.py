"""Lid-driven cavity at Kn = 1 (2D × 3V hard-sphere argon): time to steady state on 1 and 2 ranks, memory
per rank, and a projection to a finer grid on many ranks.

The case is ``demos/cavity/cavity.py`` at its defaults (8 × 8 DG0 space nodes, 4 × Q2 velocity cells per
direction at ±4.5, 13 Carleman directions, explicit RK3 at the stable step, stopped when the
macroscopic fields change by less than 1e-3 per unit time). Every run is a fresh process (under
``mpiexec -n R``); printed per rank count: the wall time to the steady state (set-up included: mesh,
operator tables, compiled kernels; interpreter start and imports not), CPU seconds per rank, the
steps, the lid stress (which must equal the serial one), peak resident memory per rank (Firedrake's own
≈ 300 MiB included) and the split of the space nodes and of the time per step over the ranks.

Projection (measured per-node costs × node counts). One RK3 step costs 3 collision evaluations per
space node (the spectral operator works row by row: its cost per node does not depend on the mesh)
plus the transport, whose cost per (space node × velocity node) is measured in the same run. A mesh
``refine`` times finer per direction has refine² as many space nodes and needs refine times as many
steps (the transport CFL limit; at Kn = 1 the collisions do not limit the step). On P ranks with the
nodes shared evenly and the measured 2-rank parallel efficiency E₂ kept (an assumption: the work is
per node, the communication a halo of one cell row per rank boundary):

    T(refine, P) ≈ T₁ · refine³ / (P · E₂).

    python bench/bench_cavity.py                 # 1 and 2 ranks, projection to 10× finer on 100 ranks
    python bench/bench_cavity.py --refine 10 --projected-ranks 100
"""
import argparse
import json
import os
import resource
import time

from fresh_process import run_case

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "demos", "cavity", "cavity.py")


def case(output: str) -> dict:
    """The Kn = 1 cavity in this process (all ranks of COMM_WORLD); returns rank 0's summary."""
    import importlib.util
    from dgkinetic.cli import start_petsc
    start_petsc([])
    from mpi4py import MPI
    spec = importlib.util.spec_from_file_location("cavity_demo", DEMO)
    cavity = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cavity)
    comm = MPI.COMM_WORLD
    cpu, wall = time.process_time(), time.perf_counter()
    p = cavity.parameters({"knudsen": [1.0], "output": output})
    r = cavity.run(p, 1.0)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    solver = r["solver"]
    per_rank = comm.gather({"nodes": int(solver.n), "cpu": cpu, "solve_wall": solver.stats["wall_time"],
                            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, root=0)
    return {"wall": comm.allreduce(wall, op=MPI.MAX), "steps": int(r["steps"]), "time": r["time"],
            "converged": bool(r["converged"]), "lid_stress": float(r["lid_stress"]), "ranks": per_rank,
            "velocity_nodes": int(solver.size)}


def in_fresh_process(ranks: int, output: str) -> dict:
    """:func:`case` in a new process (under mpiexec for ``ranks`` > 1)."""
    return run_case(__file__, output, ranks)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--refine", type=float, default=10.0, help="projection: mesh refinement per direction")
    parser.add_argument("--projected-ranks", type=int, default=100)
    args = parser.parse_args()
    if args.case:
        r = case(args.case)
        from mpi4py import MPI
        if MPI.COMM_WORLD.rank == 0:
            print("RESULT " + json.dumps(r), flush=True)
        return
    import tempfile
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for R in args.ranks:
            results[R] = r = in_fresh_process(R, os.path.join(tmp, f"r{R}"))
            split = ", ".join(f"rank {k}: {q['nodes']} nodes, {q['cpu']:.0f} s CPU, {q['solve_wall']:.0f} s stepping, "
                              f"{q['rss_mib']:.0f} MiB" for k, q in enumerate(r["ranks"]))
            print(f"{R} rank(s): steady at t = {r['time']:g} after {r['steps']} steps "
                  f"({'converged' if r['converged'] else 'NOT converged'}), {r['wall']:.1f} s wall; "
                  f"lid P_xy = {r['lid_stress']:.6f}; {split}", flush=True)
    if 1 in results:
        one = results[1]
        for R, r in results.items():
            if R > 1:
                speedup = one["wall"] / r["wall"]
                same = abs(r["lid_stress"] - one["lid_stress"]) / abs(one["lid_stress"])
                print(f"speed-up on {R} ranks: {speedup:.2f} (efficiency {speedup / R:.2f}); lid stress "
                      f"{same:.1e} from the serial one")
        R2 = next((R for R in results if R > 1), None)
        efficiency = one["wall"] / results[R2]["wall"] / R2 if R2 else 1.0
        n = one["ranks"][0]["nodes"]
        per_step = one["ranks"][0]["solve_wall"] / max(one["steps"], 1)
        f, P = args.refine, args.projected_ranks
        projected = one["wall"] * f ** 3 / (P * efficiency)
        print(f"projection: {f:g}× finer per direction = {n * f * f:.0f} space nodes × {one['velocity_nodes']} "
              f"velocity nodes, {f:g}× the steps ({one['steps'] * f:.0f}), on {P} ranks ({n * f * f / P:.0f} "
              f"nodes per rank; measured {per_step * 1e3:.0f} ms per step for {n} nodes on one rank, "
              f"efficiency {efficiency:.2f} kept): about {projected / 60:.0f} min to the steady state, "
              f"memory per rank about that of one rank here ({one['ranks'][0]['rss_mib']:.0f} MiB)")


if __name__ == "__main__":
    main()
