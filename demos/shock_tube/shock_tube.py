"""Sod shock tube in a closed box with specular walls, from free flight to the Euler limit.

A 1D3V gas of hard spheres (one species, the spectral Boltzmann operator; ``--velocity_dim 2`` runs
the former 1D2V gas with Landau collisions) starts at rest with (ρ, T) = (1, 1) left of x = ½ and
(0.125, 0.8) right of it, between specular walls at x = 0 and 1. Kn = λ/L, λ = 1/(√2 π d² n) the
hard-sphere mean free path of the left state (2V: the inverse of the Landau collision rate with
ν = 1). At the final time the density, velocity and temperature profiles of every Knudsen number are
compared with

- the exact Euler Riemann solution for the ideal gas with γ = (d+2)/d (5/3 in 3V, 2 in 2V: d
  velocity dimensions, :func:`dgkinetic.reference.riemann.euler_riemann`), valid before the first
  wave reaches a wall;
- the exact free-molecular solution (Kn = ∞): free flight with specular reflection, by the method
  of images f(x, v, t) = f̃₀(x − v_x t, v), f̃₀ the initial data mirrored about both walls, evaluated
  at the discrete velocities (so that it is the exact solution of the velocity-discrete problem).

Mass and energy stay exact in the specular box; the L1 distance of the density to the Euler
solution decreases with Kn (down to the resolution limit: upwind numerical diffusion in x, and the
velocity grid, whose discrete Maxwellians carry the Euler fluxes to a few per cent).

Numerics. Space is DG of degree 0 by default (first-order upwind, which keeps f ≥ 0); ``--degree 1``
works without collisions (the free-flight comparison then converges at the rate (2p+1)/(2p+2) = 3/4
of upwind DG for a discontinuity). The step is the transport CFL step. In 3V the collisions are
stepped explicitly with it where they are stable at that step (:meth:`KineticSolver.stable_step`),
otherwise implicitly (ARKIMEX, matrix-free Newton–Krylov preconditioned by the loss term), so that
the step never depends on Kn. In 2V the Landau collisions are implicit (ARKIMEX with an assembled
Jacobian) and act on the velocity cells whose values all exceed ``tail_floor`` × the local maximum
(conservation and the H-theorem stay exact; the far tails only stream).

    python demos/shock_tube/shock_tube.py -dgk_ts_monitor            # 3V, Kn = ∞, 0.1, 0.01: about 5 min
    python demos/shock_tube/shock_tube.py --velocity_dim 2 --knudsen inf 0.1 0.01 0.001

Writes output/shock_tube/{shock_tube.h5, shock_tube.png}.
"""
import math
import os

import numpy as np

from dgkinetic.demo_support import output_dir, run_demo
from dgkinetic.reference.riemann import euler_riemann, outer_wave_speeds

DEFAULTS = {"knudsen": [math.inf, 0.1, 0.01], "velocity_dim": 3, "cells": 64, "degree": 0,
            "velocity_cells": 0, "velocity_degree": 0, "extent": 0.0, "t_end": 0.2, "cfl": 1.0,
            "tail_floor": 1e-4, "output": ""}
#: the velocity grid of each velocity dimension (what ``velocity_cells``, ``velocity_degree`` and ``extent``
#: at 0 select): 2V, 6 continuous Q2 cells at ±4.5; 3V, 4 Q2 cells at ±5 (T reaches 1.3 behind the shock
#: with a drift of 0.8). The default Knudsen numbers stop at 0.01: in 3V, below it the collisions are stiff
#: at the transport step and the matrix-free implicit steps cost ~20–30 evaluations each (Kn = 0.001 on 16
#: cells: 10 min of CPU, 34 steps, invariants to 1.4e-14), the explicit ones a step ∝ Kn. (2V Landau: add 0.001.)
PER_DIMENSION = {2: {"velocity_cells": 6, "velocity_degree": 2, "extent": 4.5},
                 3: {"velocity_cells": 4, "velocity_degree": 2, "extent": 5.0}}
LEFT, RIGHT = (1.0, 1.0), (0.125, 0.8)     # (density, temperature); pressure = density × temperature
INTERFACE = 0.5
SAMPLES = 16                               # points per space cell for the L1 norms and the plots
#: 3V collisions are stepped implicitly when their explicit stable step is below the transport step over this
#: (an explicit RK step costs 3 collision evaluations, an implicit ARKIMEX step ~36: measured, 32 cells, Kn 0.1)
IMPLICIT_BELOW = 8


def wall_time(gamma: float) -> float:
    """First time a wave of the Euler solution of the tube reaches a wall."""
    (rl, tl), (rr, tr) = LEFT, RIGHT
    s_left, s_right = outer_wave_speeds((rl, 0.0, rl * tl), (rr, 0.0, rr * tr), gamma)
    return min(INTERFACE / -s_left, (1.0 - INTERFACE) / s_right)


# ---------------------------------------------------------------------- initial state
def initial_state(x, f_left, f_right):
    """Nodal f at positions x (n,): the left or right discrete Maxwellian, shape (n, n_v)."""
    return np.where((x < INTERFACE)[:, None], f_left[None, :], f_right[None, :])


# ---------------------------------------------------------------------- exact free-molecular solution
def free_molecular(x, t, velocities, reflect, f_left, f_right):
    """f(x, v_k, t) of free flight between specular walls at 0 and 1, by the method of images.

    Parameters
    ----------
    x
        Positions, shape (n,).
    velocities
        Velocity nodes, shape (n_v, d); only v_x moves.
    reflect
        Node permutation v_x ↦ −v_x.
    f_left, f_right
        Initial nodal distributions left and right of the interface, shape (n_v,).

    Returns
    -------
    ndarray (n, n_v)
    """
    y = np.mod(x[:, None] - velocities[None, :, 0] * t, 2.0)   # unfolded foot of the characteristic
    mirrored = y > 1.0                                          # an odd number of reflections
    y = np.where(mirrored, 2.0 - y, y)
    fl = np.where(mirrored, f_left[reflect][None, :], f_left[None, :])
    fr = np.where(mirrored, f_right[reflect][None, :], f_right[None, :])
    return np.where(y < INTERFACE, fl, fr)


# ---------------------------------------------------------------------- sampling DG functions
def sampler(phase):
    """(x, E): sample points (SAMPLES per cell, midpoint rule) and the matrix of nodal values → values."""
    import scipy.sparse as sp
    from dgkinetic.velocity import lagrange_basis
    mesh = phase.mesh
    ends = mesh.coordinates.dat.data_ro[mesh.coordinates.cell_node_map().values]       # (cells, 2)
    a, b = ends.min(axis=1), ends.max(axis=1)
    cell_nodes = phase.scalar_space.cell_node_map().values                            # (cells, p+1)
    xn = phase.node_coordinates[:, 0]
    s = (np.arange(SAMPLES) + 0.5) / SAMPLES
    rows, cols, vals, xs = [], [], [], []
    for c in range(len(a)):
        L = lagrange_basis((xn[cell_nodes[c]] - a[c]) / (b[c] - a[c]), s)                # (SAMPLES, p+1)
        r = c * SAMPLES + np.arange(SAMPLES)
        rows.append(np.repeat(r, L.shape[1]))
        cols.append(np.tile(cell_nodes[c], SAMPLES))
        vals.append(L.ravel())
        xs.append(a[c] + s * (b[c] - a[c]))
    E = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(len(a) * SAMPLES, len(xn)))
    x = np.concatenate(xs)
    order = np.argsort(x)
    return x[order], E[order]


def profiles(f, grid, species):
    """Density, x-velocity and temperature of nodal distributions f (n, n_v)."""
    from dgkinetic.moments import mean_velocity, number_density, temperature
    return number_density(f, grid), mean_velocity(f, grid)[:, 0], temperature(f, grid, species)


# ---------------------------------------------------------------------- the runs
def gas(p):
    """(species, velocity grid, mixture) of the run: 3V hard-sphere argon or the 2V Landau gas."""
    from dgkinetic import Mixture, Species, VelocityGrid
    dim = p["velocity_dim"]
    if dim == 3:
        species = Species("Ar", mass=1.0, diameter=1.0)
        grid = VelocityGrid(3, p["velocity_cells"], p["velocity_degree"], extent=p["extent"])
    else:
        species = Species("gas")
        grid = VelocityGrid(2, p["velocity_cells"], p["velocity_degree"], extent=p["extent"], continuous=True)
    return species, grid, Mixture([species], [grid])


def stepping(problem, knudsen, dt, velocity_dim):
    """(solver parameters, step) of one run, ``dt`` the transport CFL step.

    Free flight: explicit RK at ``dt``. 3V: explicit RK at the stable step of transport and collisions
    together (:meth:`KineticSolver.stable_step`, at most ``dt``) unless that is below ``dt`` /
    :data:`IMPLICIT_BELOW`; then the collisions are implicit (ARKIMEX at ``dt``, matrix-free
    Newton–Krylov preconditioned by the loss term: the spectral form has no Jacobian). 2V: Landau
    collisions implicit at ``dt``."""
    from dgkinetic.solver import KineticSolver
    explicit = {"ts_type": "rk", "ts_adapt_type": "none"}
    if not math.isfinite(knudsen):
        return explicit, dt
    if velocity_dim == 3:
        stable = KineticSolver(problem, explicit).stable_step()
        if stable >= dt / IMPLICIT_BELOW:
            return explicit, min(dt, stable)
        return {"ts_type": "arkimex", "ts_adapt_type": "none"}, dt
    # Landau: one collision Jacobian every 4 Newton iterations, kept across stages and steps: it costs ~100
    # collision evaluations, and any Jacobian keeps the invariants exact (they are in its left null space).
    # The step is the transport CFL step, cut only where Newton fails, and grown back.
    return {"ts_type": "arkimex", "snes_lag_jacobian": 4, "snes_lag_jacobian_persists": True,
            "snes_linesearch_type": "bt", "ts_adapt_type": "basic", "ts_adapt_dt_max": dt,
            "ts_rtol": 1e3, "ts_atol": 1e3, "ts_max_snes_failures": -1}, dt


def run(p, knudsen):
    """One shock-tube run; returns the final rows, the phase space and the invariant drift history."""
    import firedrake as fd
    from dgkinetic.collisions.kernels import HardSpheres
    from dgkinetic.collisions.landau import Landau
    from dgkinetic.collisions.spectral import SpectralBoltzmann
    from dgkinetic.diagnostics import Diagnostics
    from dgkinetic.phase_space import PhaseSpace
    from dgkinetic.reference.channel_flow import rate_for_knudsen
    from dgkinetic.solver import KineticProblem, KineticSolver
    from dgkinetic.walls import Specular
    species, grid, mix = gas(p)
    dim = p["velocity_dim"]
    phase = PhaseSpace(fd.IntervalMesh(p["cells"], 1.0), mix, degree=p["degree"])
    f_left, f_right = end_states(grid, species)
    f0 = phase.function("f")
    f0.dat.data[:] = initial_state(phase.node_coordinates[:, 0], f_left, f_right)
    # explicit DG transport: Δt ≤ h/((2p+1) max|v_x|)
    dt = p["cfl"] * (1.0 / p["cells"]) / ((2 * p["degree"] + 1) * p["extent"] * grid.scale)
    collisions = []
    if math.isfinite(knudsen):
        if dim == 3:
            collisions = [(SpectralBoltzmann(mix, HardSpheres()), rate_for_knudsen(knudsen, 1.0, LEFT[0], 1.0, 3))]
        else:
            collisions = [(Landau(mix, tail_floor=p["tail_floor"]), 1.0 / knudsen)]
    problem = KineticProblem(phase, f0, walls={1: Specular(), 2: Specular()}, collisions=collisions)
    diag = Diagnostics(phase)
    history = []
    params, step = stepping(problem, knudsen, dt, dim)
    step = p["t_end"] / math.ceil(p["t_end"] / step * (1 - 1e-12))       # whole steps to t_end
    solver = KineticSolver(problem, solver_parameters=params,
                           monitors=[lambda s, step, t, X: history.append(diag.invariants(X))])
    solver.solve(p["t_end"], step)
    inv = np.array([[h[f"number_{species.name}"], h["energy"]] for h in history])
    drift = np.abs(inv - inv[0]) / np.abs(inv[0])
    return np.array(solver.rows), phase, species, grid, drift, dict(solver.stats, kind=solver.kind)


def end_states(grid, species):
    """Discrete Maxwellians of the left and right states at rest, shape (n_v,) each."""
    from dgkinetic.equilibrium import equilibrium
    zero = np.zeros(grid.dim)
    return (equilibrium(grid, species, LEFT[0], zero, LEFT[1]),
            equilibrium(grid, species, RIGHT[0], zero, RIGHT[1]))


def parameters(overrides: dict) -> dict:
    """The demo's parameters: DEFAULTS, the overrides, then what :data:`PER_DIMENSION` gives for those at 0."""
    from dgkinetic.demo_support import check_parameters
    from dgkinetic.errors import InputError
    p = dict(DEFAULTS, **overrides)
    if p["velocity_dim"] not in PER_DIMENSION:
        raise InputError(f"velocity_dim must be 2 or 3, got {p['velocity_dim']}")
    for key, value in PER_DIMENSION[p["velocity_dim"]].items():
        if not p[key]:
            p[key] = value
    check_parameters(p, "knudsen_or_free_flight")
    return p


def main(**overrides) -> dict:
    from dgkinetic.output import write_arrays
    p = parameters(overrides)
    d = p["velocity_dim"]
    gamma = (d + 2) / d
    t = p["t_end"]
    results = {}
    for kn in p["knudsen"]:
        X, phase, species, grid, drift, stats = run(p, float(kn))
        x, E = sampler(phase)
        results[float(kn)] = {"rows": X, "profiles": profiles(E @ X, grid, species), "drift": drift,
                              "stats": stats}
    f_left, f_right = end_states(grid, species)
    exact_fm = free_molecular(x, t, grid.nodes, grid.reflection(0), f_left, f_right)
    fm_profiles = profiles(exact_fm, grid, species)
    h = 1.0 / len(x)
    fm_error = None
    if math.inf in results:
        f_h = E @ results[math.inf]["rows"]
        fm_error = float(h * np.sum(np.abs(f_h - exact_fm) @ grid.weights) / (h * np.sum(exact_fm @ grid.weights)))
    before_walls = t < wall_time(gamma)
    rho, u, pr = euler_riemann((x - INTERFACE) / t, (LEFT[0], 0.0, LEFT[0] * LEFT[1]),
                               (RIGHT[0], 0.0, RIGHT[0] * RIGHT[1]), gamma)
    euler = (rho, u, pr / rho)
    distance = {kn: float(h * np.sum(np.abs(r["profiles"][0] - rho))) if before_walls else math.nan
                for kn, r in results.items()}

    out = output_dir("shock_tube", p)
    names = ("density", "velocity", "temperature")
    data = {"x": x, **{f"euler/{n}": a for n, a in zip(names, euler)},
            **{f"free_molecular/{n}": a for n, a in zip(names, fm_profiles)}}
    attrs = {"t_end": t, "gamma": gamma, "cells": p["cells"], "velocity_dim": d,
             "velocity_cells": p["velocity_cells"], "velocity_degree": p["velocity_degree"], "extent": p["extent"],
             "free_molecular_L1_error": fm_error if fm_error is not None else math.nan}
    for kn, r in results.items():
        group = f"knudsen_{kn:g}/"
        data.update({group + n: a for n, a in zip(names, r["profiles"])})
        data[group + "invariant_drift"] = r["drift"]
        attrs.update({group + "knudsen": kn, group + "euler_L1_density": distance[kn]})
    write_arrays(os.path.join(out, "shock_tube.h5"), data, attrs)
    label = "1D3V hard spheres" if d == 3 else "1D2V Landau"
    _plot(os.path.join(out, "shock_tube.png"), x, t, results, euler, fm_profiles, before_walls, gamma, label)
    return {"x": x, "knudsen": list(results), "profiles": {k: r["profiles"] for k, r in results.items()},
            "euler": euler, "free_molecular": fm_profiles, "free_molecular_error": fm_error,
            "euler_distance": distance, "invariant_drift": {k: r["drift"] for k, r in results.items()},
            "stats": {k: r["stats"] for k, r in results.items()}, "output": out}


def _plot(path, x, t, results, euler, fm_profiles, before_walls, gamma, label):
    from dgkinetic.plotting import save_figure, subplots
    fig, ax = subplots(1, 3, figsize=(14, 3.8))
    for i, name in enumerate(("density", "velocity u_x", "temperature")):
        for kn, r in results.items():
            ax[i].plot(x, r["profiles"][i], lw=1.2, label=f"Kn = {kn:g}")
        if before_walls:
            ax[i].plot(x, euler[i], "k-", lw=0.8, label=f"Euler (exact, γ = {gamma:.4g})")
        ax[i].plot(x, fm_profiles[i], "k:", lw=1.0, label="free flight (exact)")
        ax[i].set_xlabel("x")
        ax[i].set_ylabel(name)
    ax[0].legend(fontsize=7)
    fig.suptitle(f"Sod shock tube between specular walls, {label}, t = {t:g}")
    save_figure(fig, path)


if __name__ == "__main__":
    r = run_demo(main, DEFAULTS, __doc__)
    for kn in r["knudsen"]:
        print(f"Kn = {kn:g}: L1 density distance to Euler {r['euler_distance'][kn]:.4f}, "
              f"max drift mass/energy {r['invariant_drift'][kn].max(axis=0)}")
    if r["free_molecular_error"] is not None:
        print(f"free flight: relative L1 error of f {r['free_molecular_error']:.3e}")
