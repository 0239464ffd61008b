"""Argon–krypton between a cold and a hot wall, 3V hard spheres: heat flow, thermal diffusion, entropy.

The main demo (``make demo``). An equimolar Ar–Kr mixture of hard spheres (1D in space, 3D in
velocity; the multi-species spectral Boltzmann operator; masses 1 and 83.80/39.95 = 2.098 in units of
the argon mass, diameters 1 and 1.13) between stationary diffuse walls at T₀ (x = 0, cold) and T_L
(x = L, hot). The steady state is solved directly (:mod:`dgkinetic.steady`: Newton–Krylov with a
transport-sweep and moment preconditioner), not marched in time.

What it shows, each against what kinetic theory says it must be:

- conservation: each species' number is that of the initial state exactly (to round-off); at the
  steady state each species' net number flux vanishes, so each wall takes back what it receives;
- energy: the heat flux q_x is the same at both walls (energy is conserved in the gas; it flows from
  the hot wall to the cold one), and lies below the free-molecular flux between the same walls (the
  closed form of :func:`dgkinetic.channel.free_molecular_heat_flux`, species adding), which
  collisions can only lower;
- momentum: the normal pressure P_xx is uniform (∂ₓP_xx = 0 at a steady state);
- thermal diffusion: beyond the density rising toward the cold wall (uniform pressure), the heavier,
  larger krypton gathers at the cold wall: hard-sphere mixtures have a positive thermal diffusion
  factor for the heavy species (Chapman & Cowling, *The Mathematical Theory of Non-uniform Gases*,
  ch. 8–9). The free-molecular limit has no separation: the effect is collisional;
- the H-theorem: the collisional entropy production is ≥ 0 at every point; at the steady state
  it is balanced by the entropy the walls carry away (with the upwind transport's own numerical
  dissipation, ≥ 0 and small, making up the difference).

Units: length L, mass m_Ar, temperature T₀ (k_B = 1), speed √(T₀/m_Ar), mean total density n = 1;
Kn = λ_Ar/L with λ_Ar = 1/(√2 π n d_Ar²).

    python demos/thermal_diffusion/thermal_diffusion.py                 # 36 s of CPU on one core
    mpiexec -n 2 python demos/thermal_diffusion/thermal_diffusion.py    # the collisions shared by 2 ranks
    python demos/thermal_diffusion/thermal_diffusion.py --knudsen 1 -dgk_steady_snes_monitor

Writes output/thermal_diffusion/{thermal_diffusion.h5, profiles.png}.
"""
import math
import os

import numpy as np

from dgkinetic.demo_support import argon_krypton, check_parameters, knudsen_collisions, output_dir, run_demo

DEFAULTS = {"knudsen": 0.3, "t_left": 1.0, "t_right": 1.5, "cells": 4, "degree": 1, "velocity_cells": 4,
            "velocity_degree": 2, "extent": 4.0, "radial_points": 8, "sphere_degree": 5, "output": ""}


def main(**overrides) -> dict:
    import time

    from dgkinetic import Mixture, VelocityGrid
    from dgkinetic.reference.channel_flow import free_molecular_heat_flux
    from dgkinetic.collisions.kernels import HardSpheres
    from dgkinetic.collisions.spectral import SpectralBoltzmann
    from dgkinetic.moments import mixture_temperature
    from dgkinetic.phase_space import PhaseSpace
    from dgkinetic.solver import KineticProblem
    from dgkinetic.steady import SteadySolver
    from dgkinetic.walls import Diffuse
    import firedrake as fd
    from mpi4py import MPI

    p = dict(DEFAULTS, **overrides)
    check_parameters(p, "knudsen", "cold_wall_first")
    kn, T0, TL = float(p["knudsen"]), float(p["t_left"]), float(p["t_right"])
    start = time.process_time()
    species = argon_krypton()
    t_ref = TL                        # grids scaled to the hot wall: 4 thermal speeds there (extent 4)
    grids = [VelocityGrid(3, p["velocity_cells"], p["velocity_degree"], extent=p["extent"],
                          scale=s.thermal_speed(t_ref)) for s in species]
    mix = Mixture(species, grids)
    # the interval on every rank; the ranks share the collision evaluations (mpiexec -n 2 …)
    comm = MPI.COMM_WORLD
    phase = PhaseSpace(fd.IntervalMesh(p["cells"], 1.0, comm=MPI.COMM_SELF), mix, degree=p["degree"])
    # initial guess: linear temperature, uniform pressure, equimolar
    temperature = lambda x: T0 + (TL - T0) * x[0]
    mean_inverse = math.log(TL / T0) / (TL - T0)                      # mean of 1/T over the gap
    half = lambda x: 0.5 / (temperature(x) * mean_inverse)
    f0 = phase.local_equilibrium([half, half], [np.zeros(3)] * 2, [temperature] * 2)
    op = SpectralBoltzmann(mix, HardSpheres(), radial_points=p["radial_points"], sphere_degree=p["sphere_degree"])
    walls = {1: Diffuse(T0), 2: Diffuse(TL)}
    problem = KineticProblem(phase, f0, walls=walls, collisions=knudsen_collisions(op, kn))
    solver = SteadySolver(problem, comm=comm)
    numbers0 = solver.numbers0
    solver.solve()
    cpu = time.process_time() - start
    X = solver.rows
    r = _analyse(solver, X, numbers0, T0, TL, kn, free_molecular_heat_flux, mixture_temperature)
    r["cpu_seconds"] = cpu
    if comm.rank == 0:
        print(f"Kn = {kn:g}, walls at T = {T0:g} and {TL:g}: steady state in {solver.stats['newton_iterations']} "
              f"Newton steps, {solver.stats['sweeps']} kinetic sweeps, {cpu:.0f} s CPU", flush=True)
        print(f"  heat flux at the walls {r['wall_heat_flux'][0]:+.5f}, {r['wall_heat_flux'][1]:+.5f} "
              f"(free-molecular {r['free_molecular_heat_flux']:+.5f})")
        print(f"  krypton mole fraction: cold wall {r['mole_fraction_kr'][0]:.4f}, hot wall "
              f"{r['mole_fraction_kr'][-1]:.4f} (separation {r['separation']:+.5f})")
        print(f"  number drift per species {np.max(r['number_drift']):.1e}; net number flux through the walls "
              f"{np.max(np.abs(r['wall_number_flux'])):.1e}; entropy production min "
              f"{r['entropy_production'].min():.2e} "
              f"(≥ 0), total {r['total_entropy_production']:.4e}, carried out by the walls "
              f"{r['wall_entropy_outflow']:.4e}; values ≤ 0: {100 * r['nonpositive_fraction']:.1f} % "
              f"(down to {r['most_negative']:.1e} of the peak)")
    r["output"] = _write(r, p) if comm.rank == 0 else None
    return r


def _analyse(solver, X, numbers0, T0, TL, kn, free_molecular_heat_flux, mixture_temperature) -> dict:
    """Profiles at the space nodes (sorted by x), wall fluxes and the entropy budget."""
    from dgkinetic.moments import mixture_velocity, number_density
    from dgkinetic.statistics import entropy_variable
    phase, mix, tr = solver.phase, solver.mixture, solver.transport
    order = np.argsort(phase.node_coordinates[:, 0])
    Xs = X[order]
    fs = mix.split(Xs)
    n = np.stack([number_density(Xi, g) for Xi, g in zip(fs, mix.grids)])
    u = mixture_velocity(fs, mix.grids, mix.species)
    T = mixture_temperature(fs, mix.grids, mix.species)
    c = mix.velocities[None] - u[:, None, :]
    mf = Xs * mix.masses * mix.weights
    q = 0.5 * np.sum(mf * np.sum(c ** 2, axis=2) * c[:, :, 0], axis=1)
    pxx = np.sum(mf * c[:, :, 0] ** 2, axis=1)
    # wall fluxes in +x from the upwind traces (row 0: the cold wall at x = 0)
    vn, fhat = tr.boundary_state(X)
    nx = tr.boundary.normals[:, 0]
    flux = (vn * fhat * mix.weights * nx[:, None])[np.argsort(nx)]
    number_flux = np.stack([flux[:, sl].sum(axis=1) for sl in mix.slices()], axis=1)
    heat = flux @ (0.5 * mix.masses * np.sum(mix.velocities ** 2, axis=1))
    # collisional entropy production Σ_k W_k (−log f_k) C_k ≥ 0 (H-theorem) per node, and its integral
    op, rate = solver.collisions[0]
    # (the spectral form's far tails may hold tiny negative values, ~1e-9 of the peak, where log f is
    # undefined: they are left out of the sum and counted)
    C = rate * op.rhs(X)
    positive = X > 0
    eta = np.concatenate([entropy_variable(np.where(Pi, Xi, 1.0), s.alpha) for Xi, Pi, s in
                          zip(mix.split(X), mix.split(positive), mix.species)], axis=1)
    production = -np.sum(np.where(positive, eta * C, 0.0) * mix.weights, axis=1)
    walls = tr.wall_entropy_flux(X)
    fm = sum(free_molecular_heat_flux(0.5, T0, TL, s.mass, 3) for s in mix.species)
    x_kr = n[1] / n.sum(axis=0)
    return {"x": phase.node_coordinates[order, 0], "density": n, "mole_fraction_kr": x_kr, "temperature": T,
            "heat_flux": q, "normal_pressure": pxx, "wall_heat_flux": heat, "wall_number_flux": number_flux,
            "free_molecular_heat_flux": fm, "separation": float(x_kr[0] - x_kr[-1]),
            "number_drift": np.abs(solver.numbers(X) - numbers0) / numbers0,
            "entropy_production": production[order],
            "total_entropy_production": float(phase.node_volumes @ production),
            # the walls' outward H flux is minus the entropy they carry out (S = −H)
            "wall_entropy_outflow": -float(sum(walls.values())), "knudsen": kn,
            "nonpositive_fraction": float(np.mean(~positive)),
            "most_negative": float(np.min(X) / np.max(X))}


def _write(r: dict, p: dict) -> str:
    from dgkinetic.output import write_arrays
    from dgkinetic.plotting import save_figure, subplots
    out = output_dir("thermal_diffusion", p)
    write_arrays(os.path.join(out, "thermal_diffusion.h5"), {k: v for k, v in r.items() if k != "output"},
                 {"knudsen": p["knudsen"], "t_left": p["t_left"], "t_right": p["t_right"]})
    fig, ax = subplots(2, 2, figsize=(11, 7.5))
    x = r["x"]
    a = ax[0][0]
    a.plot(x, r["temperature"], ".-", color="C3", label="gas (mixture)")
    a.plot([0, 1], [p["t_left"], p["t_right"]], "ks", ms=6, label="walls")
    a.set_ylabel("temperature  T / T₀")
    a.legend(fontsize=8)
    a.set_title("temperature: jumps at both walls (rarefaction)", fontsize=9)
    a = ax[0][1]
    a.plot(x, r["mole_fraction_kr"], ".-", color="C1", label="gas")
    a.axhline(0.5, color="k", lw=0.8, ls=":", label="free-molecular limit (no separation)")
    a.set_ylabel("krypton mole fraction  x_Kr")
    a.legend(fontsize=8)
    a.set_title("thermal diffusion: Kr gathers at the cold wall", fontsize=9)
    a = ax[1][0]
    a.plot(x, r["heat_flux"], ".-", color="C0", label="q_x at the nodes")
    a.axhline(r["wall_heat_flux"][0], color="C0", lw=0.8, ls="--", label="at the walls (equal: energy conserved)")
    a.axhline(r["free_molecular_heat_flux"], color="k", lw=0.8, ls=":", label="free-molecular (the largest |q_x|)")
    a.set_ylabel("heat flux  q_x / (n T₀ √(T₀/m_Ar))")
    a.legend(fontsize=8)
    a = ax[1][1]
    a.plot(x, r["entropy_production"], ".-", color="C2", label="collisional entropy production (≥ 0)")
    a.axhline(0.0, color="k", lw=0.8)
    a.set_ylabel("entropy production per unit length")
    a.legend(fontsize=8)
    a.set_title(f"∫ production = {r['total_entropy_production']:.3e}; carried out by the walls "
                f"{r['wall_entropy_outflow']:.3e}", fontsize=9)
    for row in ax:
        for a in row:
            a.set_xlabel("x / L   (cold wall at 0)")
    fig.suptitle(f"Ar–Kr hard spheres (1D3V) between diffuse walls at T = {p['t_left']:g} and {p['t_right']:g}, "
                 f"Kn = {p['knudsen']:g}: steady state (Newton–Krylov)")
    save_figure(fig, os.path.join(out, "profiles.png"))
    return out


if __name__ == "__main__":
    run_demo(main, DEFAULTS, __doc__)
