"""dgkinetic's axisymmetric Landau operator beside PETSc's own (dmplexlandau tutorial ex1), same problem.

Electrons and deuterons (m_D/m_e = 3670.94, Z = 1), Coulomb with one lnΛ for every pair (ν = 1 in both
codes' units), axisymmetric 3V on a (v_perp, v_par) half-plane of 4 × 8 Q3 cells and radius 5 thermal
speeds per species (325 unknowns and 512 Gauss points per species in both codes), the bi-Maxwellian
initial state of ex1 (T_perp = 1.3 T_par, electron drift 0.5 v_0, deuteron drift balancing its
momentum), interpolated at the nodes, backward Euler with Δt = 0.1 for 10 steps, Newton converged to
1e-14. See PETSC_LANDAU_NOTES.md for how the problem and the units were matched.

Prints per code: CPU time per step (wall time × the process's CPU share, as the machine may be
shared), Newton iterations per step, the conservation errors over the run, and the electron parallel
momentum after the run (the same physics in both: it must agree to the discretisation error); then
the ratio dgkinetic / PETSc (target ≤ 1.0), for Newton with the exact Jacobian at every iteration and
with one Jacobian per step.

    python bench/bench_landau_petsc.py [--steps 10] [--dt 0.1]
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import petsc_landau                      # beside this script (the script's directory is on sys.path)

MASS_RATIO = 3670.9399       # 2 m_p / m_e as PETSc's ex1 sets it (PETSC_LANDAU_NOTES.md)
ANISOTROPY = 1.3             # T_perp / T_par of ex1's initial bi-Maxwellians
SHIFT = 0.5                  # electron drift in v_0


def bi_maxwellian(grid, mass, drift):
    """ex1's state in dgkinetic units (m_e = T = v_0 = 1), interpolated at the nodes."""
    vp, vz = grid.nodes[:, 0], grid.nodes[:, 1]
    return (mass / (2 * np.pi)) ** 1.5 / ANISOTROPY * np.exp(
        -mass * vp ** 2 / (2 * ANISOTROPY) - mass * (vz - drift) ** 2 / 2)


#: dgkinetic's solver settings compared: Newton with the exact Jacobian at every iteration, and with one
#: Jacobian per time step (``snes_lag_jacobian``; still converged to the same tolerance)
VARIANTS = {"dgkinetic": {}, "dgk lagged J": {"snes_lag_jacobian": 100}}


def run_dgkinetic(steps: int, dt: float, extra: dict) -> dict:
    from dgkinetic import Mixture, Species
    from dgkinetic.axisymmetric import AxisymmetricGrid
    from dgkinetic.collisions.landau import Landau
    from dgkinetic.homogeneous import run_homogeneous
    species = [Species("e", 1.0, charge=-1), Species("D", MASS_RATIO, charge=1)]
    grids = [AxisymmetricGrid(4, 3, extent=5.0, scale=s.thermal_speed(1.0)) for s in species]
    mix = Mixture(species, grids)
    t0 = time.perf_counter()
    op = Landau(mix, "coulomb")            # ν_ij = Z_i² Z_j² lnΛ with lnΛ = 1: PETSc's ν = 1
    X0 = np.concatenate([bi_maxwellian(grids[0], 1.0, SHIFT), bi_maxwellian(grids[1], MASS_RATIO, -SHIFT / MASS_RATIO)])
    op.weak_form(X0[None])                 # kernel tables (the set-up, as PETSc's "Landau Create")
    setup = time.perf_counter() - t0
    params = {"ts_type": "beuler", "ts_adapt_type": "none", "snes_mf_operator": False, "ksp_type": "preonly",
              "snes_rtol": 1e-12, "snes_atol": 1e-15, "snes_stol": 1e-14, "snes_max_it": 100,
              "ts_max_snes_failures": 0, **extra}
    t1, c1 = time.perf_counter(), time.process_time()
    t, rows, solver = run_homogeneous(mix, [(op, 1.0)], X0, steps * dt, dt, params)
    wall, cpu = time.perf_counter() - t1, time.process_time() - c1
    inv = mix.conserved(rows)                              # number_e, number_D, momentum_par, energy
    mom_scale = sum(abs(s.mass * (Xi @ (g.weights * g.nodes[:, 1]))) for s, g, Xi in
                    zip(species, grids, mix.split(rows[0])))
    e = rows[-1][mix.slices()[0]]
    return {"setup_s": setup, "time_per_step_cpu_s": wall / steps * min(1.0, cpu / wall),
            "time_per_step_wall_s": wall / steps,
            "newton_per_step": solver.stats["nonlinear_iterations"] / max(1, solver.stats["steps"]),
            "density_rel": [abs(inv[-1, i] - inv[0, i]) / inv[0, i] for i in range(2)],
            "momentum_rel": abs(inv[-1, 2] - inv[0, 2]) / mom_scale,
            "energy_rel": abs(inv[-1, 3] - inv[0, 3]) / inv[0, 3],
            "electron_momentum_end": float(e @ (grids[0].weights * grids[0].nodes[:, 1])),
            "quadrature_points": [sq.nq for sq in op._sq], "unknowns": [g.size for g in grids]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--dt", type=float, default=0.1)
    args = ap.parse_args()
    try:
        petsc_landau.build()
        ref = petsc_landau.run(petsc_landau.default_options(steps=args.steps, dt=args.dt), steps=args.steps, dt=args.dt)
    except petsc_landau.PetscLandauError as exc:
        sys.exit(f"bench_landau_petsc: {exc}")
    runs = {name: run_dgkinetic(args.steps, args.dt, extra) for name, extra in VARIANTS.items()}
    ours = runs["dgkinetic"]
    c = ref["conservation"]
    print(f"problem: e + D (m ratio {MASS_RATIO}), Coulomb, axisymmetric Q3 4x8, beuler dt={args.dt}, "
          f"{args.steps} steps")
    print(f"{'':12s} {'CPU s/step':>11s} {'Newton/step':>12s} {'dn_e':>9s} {'dn_D':>9s} {'dP':>9s} {'dE':>9s} "
          f"{'P_e(end)':>9s}")
    print(f"{'PETSc ex1':12s} {ref['time_per_step_cpu_est_s']:11.4f} {ref['snes_iterations_per_step']:12.1f} "
          f"{abs(c['density_rel'][0]):9.1e} {abs(c['density_rel'][1]):9.1e} {abs(c['momentum_rel']):9.1e} "
          f"{abs(c['energy_rel']):9.1e} {ref['moments'][-1]['momentum_nd'][0]:9.5f}")
    for name, r in runs.items():
        print(f"{name:12s} {r['time_per_step_cpu_s']:11.4f} {r['newton_per_step']:12.1f} "
              f"{r['density_rel'][0]:9.1e} {r['density_rel'][1]:9.1e} {r['momentum_rel']:9.1e} "
              f"{r['energy_rel']:9.1e} {r['electron_momentum_end']:9.5f}")
    print(f"quadrature points per species: PETSc {ref.get('quad_points_per_species')}, "
          f"dgkinetic {ours['quadrature_points']}; "
          f"set-up: PETSc {ref['setup_s']:.2f} s, dgkinetic {ours['setup_s']:.2f} s")
    for name, r in runs.items():
        print(f"ratio {name} / PETSc (CPU per step): {r['time_per_step_cpu_s'] / ref['time_per_step_cpu_est_s']:.2f} "
              "(target <= 1.0)")


if __name__ == "__main__":
    main()
