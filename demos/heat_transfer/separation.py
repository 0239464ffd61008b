"""Thermal diffusion in an argon–krypton mixture between diffuse walls at different temperatures.

An equimolar Ar–Kr mixture of hard disks (1D2V, multi-species hard-disk Boltzmann operator, PHYSICS.md
§1; masses 39.95 and 83.80 in units of the argon mass, i.e. 1 and 2.0976, diameters 1 and 1.13)
between stationary diffuse walls at T₀ (x = 0, cold) and T_L (x = L, hot). Each species' number is
conserved exactly (the walls re-emit every species' incoming flux). At the steady state the pressure
is uniform, so both densities are higher on the cold side; beyond that, thermal diffusion separates
the species: for hard spheres the heavier (and larger) species has a positive thermal diffusion
factor and gathers at the cold wall (Chapman & Cowling, *The Mathematical Theory of Non-uniform
Gases*, ch. 8–9; the same sign holds for hard disks). The demo prints and stores the krypton mole
fraction x_Kr(x); the separation x_Kr(cold) − x_Kr(hot) must be positive. In the free-molecular limit
there is none (each species' distribution is uniform in x), so the effect is collisional.

Units: length L, mass m_Ar, temperature T₀ (k_B = 1), speed √(T₀/m_Ar), time L/√(T₀/m_Ar), mean total
density n = 1; Kn = λ_Ar/L with λ_Ar = 1/(2√2 n d_Ar). Defaults: Kn = 0.25, walls at T = 1 and 1.5.
The walls' temperature ratio is limited by the default velocity grids (4 cells × degree 2 per species,
±4.9 thermal speeds at T₀): on such coarse grids the collision operator's tail_floor drops whole tail
cells for T outside about [T₀, 1.5 T₀], which distorts the transport coefficients; use
``--velocity_cells 6 --extent 6.2 --t_right 2`` for a wider range at ~5× the cost.

    python demos/heat_transfer/separation.py            # about a minute on one core

Writes output/heat_transfer_separation/{separation.h5, separation.png}.
"""
import math
import os

from dgkinetic.demo_support import argon_krypton, check_parameters, knudsen_collisions, output_dir, run_demo
from kn_sweep import initial_moments   # the script's own directory is on sys.path

DEFAULTS = {"knudsen": 0.25, "t_left": 1.0, "t_right": 1.5, "cells": 8, "degree": 1, "velocity_cells": 4,
            "extent": 4.9, "sphere": 8, "tolerance": 5e-3, "t_max": 6.0, "output": ""}


def main(**overrides) -> dict:
    import numpy as np
    from dgkinetic import Mixture, VelocityGrid
    from dgkinetic.channel import Channel
    from dgkinetic.collisions.boltzmann import Boltzmann
    from dgkinetic.collisions.kernels import HardSpheres
    from dgkinetic.walls import Diffuse
    p = dict(DEFAULTS, **overrides)
    check_parameters(p, "knudsen", "cold_wall_first")
    kn, T0, TL = float(p["knudsen"]), float(p["t_left"]), float(p["t_right"])
    species = argon_krypton()
    grids = [VelocityGrid(2, p["velocity_cells"], 2, extent=p["extent"], scale=s.thermal_speed(T0))
             for s in species]
    mix = Mixture(species, grids)
    op = Boltzmann(mix, HardSpheres(), sphere=p["sphere"], tail_floor=1e-6)
    # start from the single-gas guess of the temperature profile, equimolar everywhere
    density, temperature = initial_moments(T0, TL, 1.0 / (1.0 + 5.5 * kn))
    half = lambda x: 0.5 * density(x)
    mean_free_time = kn / math.sqrt(math.pi * T0 / 2)
    channel = Channel(mix, Diffuse(T0), Diffuse(TL), cells=p["cells"], degree=p["degree"],
                      initial=([half, half], [np.zeros(2)] * 2, [temperature] * 2),
                      collisions=knudsen_collisions(op, kn),
                      collision_step=0.3 * mean_free_time)
    n0 = channel.numbers()

    def separation(ch):
        x_kr = ch.profiles()["mole_fraction"][1]
        return x_kr[0] - x_kr[-1]

    hist = channel.run_to_steady(separation, tolerance=p["tolerance"], check_every=0.5, t_max=p["t_max"])
    prof = channel.profiles()
    flux = channel.mean_wall_fluxes()
    r = {"x": prof["x"], "density": prof["density"], "mole_fraction_kr": prof["mole_fraction"][1],
         "temperature": prof["temperature"], "separation": hist["value"][-1], "separation_history": hist["value"],
         "time": hist["time"], "heat_flux": flux["energy"], "wall_number_flux": flux["number"],
         "number_drift": np.abs(channel.numbers() - n0) / n0, "converged": hist["converged"]}
    print(f"Kn = {kn:g}: x_Kr(cold) − x_Kr(hot) = {r['separation']:+.5f} at t = {channel.time:.1f} "
          f"(converged {hist['converged']}, last change {hist['change']:.1e})", flush=True)
    r["output"] = _write(r, p)
    return r


def _write(r: dict, p: dict) -> str:
    from dgkinetic.output import write_arrays
    from dgkinetic.plotting import save_figure, subplots
    out = output_dir("heat_transfer_separation", p)
    write_arrays(os.path.join(out, "separation.h5"), r, {"separation": r["separation"], "knudsen": p["knudsen"]})
    fig, ax = subplots(1, 3, figsize=(13, 3.8))
    for name, n in zip(("Ar", "Kr"), r["density"]):
        ax[0].plot(r["x"], n, ".-", label=name)
    ax[0].set_ylabel("number density")
    ax[1].plot(r["x"], r["mole_fraction_kr"], ".-", color="C1")
    ax[1].axhline(0.5, color="k", lw=0.8, ls=":")
    ax[1].set_ylabel("krypton mole fraction x_Kr")
    ax[2].plot(r["x"], r["temperature"], ".-", color="C3")
    ax[2].plot([0, 1], [p["t_left"], p["t_right"]], "ks", ms=5, label="walls")
    ax[2].legend(fontsize=7)
    ax[2].set_ylabel("temperature")
    for a in ax:
        a.set_xlabel("x / L  (cold wall at 0)")
    ax[0].legend(fontsize=7)
    fig.suptitle(f"Ar–Kr thermal diffusion (hard disks, 1D2V), Kn = {p['knudsen']:g}, "
                 f"walls at T = {p['t_left']:g} and {p['t_right']:g}")
    save_figure(fig, os.path.join(out, "separation.png"))
    return out


if __name__ == "__main__":
    res = run_demo(main, DEFAULTS, __doc__)
    print(f"max number drift per species {res['number_drift'].max():.1e}; wall heat fluxes {res['heat_flux']}")
