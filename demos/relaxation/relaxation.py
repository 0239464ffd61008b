"""Homogeneous relaxation of a two- or three-species mixture with unequal masses.

Each species starts as a Maxwellian at its own temperature (and drift); collisions drive them to
the common temperature T∞ = Σ nᵢTᵢ / Σ nᵢ and the common velocity fixed by momentum conservation,
while every species' number, the total momentum and the total energy stay exact and the entropy
grows. Run with the Landau or the Boltzmann operator:

    python demos/relaxation/relaxation.py --operator landau --species 3
    python demos/relaxation/relaxation.py --operator boltzmann -dgk_snes_monitor

Writes output/relaxation/{relaxation.h5, relaxation.png}.
"""
import os

from dgkinetic.demo_support import output_dir, run_demo

DEFAULTS = {"operator": "landau", "species": 2, "t_end": 4.0, "dt": 0.2, "cells": 6, "degree": 2,
            "output": ""}
MASSES = [1.0, 4.0, 16.0]
TEMPERATURES = [0.6, 1.4, 1.0]
DENSITIES = [1.0, 0.6, 0.4]
DRIFTS = [0.3, -0.3, 0.0]          # x-velocity in units of each species' thermal speed


def main(**overrides) -> dict:
    import numpy as np
    from dgkinetic import Mixture, Species, VelocityGrid, equilibrium
    from dgkinetic.homogeneous import invariant_drift, run_homogeneous
    from dgkinetic.output import write_arrays
    from dgkinetic.plotting import save_figure, subplots
    from dgkinetic.moments import mixture_temperature, temperature, mean_velocity
    p = dict(DEFAULTS, **overrides)
    N = int(p["species"])
    landau = p["operator"] == "landau"
    species = [Species(f"s{i}", mass=m) for i, m in enumerate(MASSES[:N])]
    grids = [VelocityGrid(2, p["cells"], p["degree"], extent=6.0, scale=s.thermal_speed(1.0),
                          continuous=landau) for s in species]
    mix = Mixture(species, grids)
    if landau:
        from dgkinetic.collisions.landau import Landau
        op = Landau(mix, tail_floor=1e-6)
        params = {}
    else:
        from dgkinetic.collisions.boltzmann import Boltzmann
        from dgkinetic.collisions.kernels import HardSpheres
        op = Boltzmann(mix, HardSpheres(), tail_floor=1e-6)
        params = {"snes_lag_jacobian": 100}          # one Jacobian per stage: it dominates the cost
    X0 = np.concatenate([equilibrium(g, s, n, [u * s.thermal_speed(1.0), 0.0], T)
                         for s, g, n, u, T in zip(species, grids, DENSITIES, DRIFTS, TEMPERATURES)])
    t, rows, solver = run_homogeneous(mix, [(op, 1.0)], X0, p["t_end"], p["dt"], params)
    split = [mix.split(rows)[i] for i in range(N)]
    T = np.stack([temperature(split[i], grids[i], species[i]) for i in range(N)], axis=1)
    u = np.stack([mean_velocity(split[i], grids[i])[:, 0] for i in range(N)], axis=1)
    T_mix = mixture_temperature(split, grids, species)
    H = mix.entropy_density(rows)
    drift = invariant_drift(mix, rows)
    out = output_dir("relaxation", p)
    write_arrays(os.path.join(out, "relaxation.h5"),
                  {"time": t, "temperature": T, "velocity_x": u, "entropy": H, "mixture_temperature": T_mix,
                   "invariant_drift": drift})
    fig, ax = subplots(1, 3, figsize=(12, 3.5))
    for i, s in enumerate(species):
        ax[0].plot(t, T[:, i], label=f"{s.name} (m={s.mass:g})")
        ax[1].plot(t, u[:, i], label=s.name)
    ax[0].plot(t, T_mix, "k--", label="mixture")
    ax[0].set_ylabel("temperature")
    ax[1].set_ylabel("mean velocity u_x")
    ax[2].plot(t, H)
    ax[2].set_ylabel("H = −S")
    for a in ax:
        a.set_xlabel("t")
    ax[0].legend(fontsize=7)
    fig.suptitle(f"{p['operator']} relaxation, {N} species")
    save_figure(fig, os.path.join(out, "relaxation.png"))
    return {"time": t, "temperature": T, "mixture_temperature": T_mix, "entropy": H,
            "invariant_drift": drift, "output": out}


if __name__ == "__main__":
    r = run_demo(main, DEFAULTS, __doc__)
    print(f"T_i(t_end) = {r['temperature'][-1].round(5).tolist()}, mixture T = {r['mixture_temperature'][-1]:.6f}, "
          f"max invariant drift {r['invariant_drift'].max():.2e}")
