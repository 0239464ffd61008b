"""Heat flux between diffuse walls at different temperatures, from free-molecular flow to the jump regime.

The gas of heat_transfer.toml — "argon" as hard disks (1D2V, hard-disk Boltzmann operator, PHYSICS.md
§1) between stationary diffuse walls at T₀ = 1 (x = 0) and T_L = 2 (x = L) — driven to its steady
state for a sweep of Knudsen numbers Kn = λ/L, λ = 1/(2√2 n d) the hard-disk mean free path at the
mean density n. The steady heat flux q_x (the energy flux through the walls, equal to the heat flux
since the walls pass no net mass) is compared with:

- the exact free-molecular flux between diffuse walls (:func:`dgkinetic.channel.free_molecular_heat_flux`;
  d = 2 here): each half-range of velocities holds the Maxwellian of the wall it left, with densities
  a₀√T₀ = a_L√T_L (zero net number flux) and n = (a₀ + a_L)/2, and a half-range Maxwellian carries the
  energy flux (d+1)/2 · T√(T/(2πm)), so
      q_FM = (d+1) n (T₀ − T_L) √(T₀T_L) / ((√T₀ + √T_L) √(2πm));
- Fourier's law without jump, q_NS = −(2/3) κ₁ (T_L^{3/2} − T₀^{3/2})/L, from κ = κ₁√T, the first
  Chapman–Enskog conductivity of hard disks κ = 2√(T/(πm))/d (D. M. Gass, J. Chem. Phys. 54, 1898
  (1971); the hard-sphere analogue is (75/64)√(T/(πm))/d², Chapman & Cowling, ch. 10): q_NS/q_FM ∝ Kn;
- the bridging formula 1/q = 1/q_NS + 1/q_FM (Fourier plus a first-order temperature jump whose length
  is fixed so that the free-molecular limit is recovered; not a kinetic-theory result).
The kinetic flux must lie below both q_FM and q_NS and decrease with Kn.

Units: length L, mass m_Ar, temperature T₀ (k_B = 1), speed √(T₀/m), time L/√(T₀/m), density n.
Range of the default run: the free-molecular limit (no collisions) and Kn = 10 … 0.3; ``--knudsen``
goes further (Kn = 0.1 adds about two minutes: the explicit collision step shrinks ∝ Kn). The
velocity grid (6 cells × degree 2 per direction, ±5 thermal speeds at T = 1.5) integrates the
free-molecular flux to 0.2% and has a hard-disk conductivity (first Sonine approximation with the
discrete operator, printed and stored) within +11% … 0% of Gass's between T = 1 and 2. The 4-cell
grid of heat_transfer.toml is not used here: with the default tail_floor of the collision operator it
drops whole tail cells for T between about 1.1 and 1.5, which raises its conductivity there by up to
75%. The first Sonine value itself is ~3% below the exact hard-disk conductivity (higher Sonine
approximations, evaluated with the discrete operator on a fine grid). The binary Ar–Kr version is
separation.py.

    python demos/heat_transfer/kn_sweep.py              # about 1.5 minutes of CPU (2 on a busy machine)
    python demos/heat_transfer/kn_sweep.py --knudsen 1 0.3 --cells 4

Writes output/heat_transfer_kn/{kn_sweep.h5, kn_sweep.png}.
"""
import math
import os

from dgkinetic.demo_support import output_dir, run_demo

DEFAULTS = {"knudsen": [10.0, 3.0, 1.0, 0.3], "t_left": 1.0, "t_right": 2.0, "cells": 8, "degree": 1,
            "velocity_cells": 6, "extent": 5.0, "sphere": 8, "tolerance": 2e-3, "t_max": 10.0, "output": ""}


def check_parameters(p: dict) -> None:
    """One-line InputError for parameters the sweep cannot use."""
    from dgkinetic.errors import InputError
    kn = p["knudsen"]
    if not kn or any(not (math.isfinite(k) and k > 0) for k in kn):
        raise InputError(f"knudsen must be positive numbers, got {kn}")
    if not (p["t_left"] > 0 and p["t_right"] > 0 and p["t_left"] != p["t_right"]):
        raise InputError(f"wall temperatures must be positive and different, got {p['t_left']}, {p['t_right']}")
    if p["velocity_cells"] % 2:
        raise InputError(f"velocity_cells must be even (v_x = 0 on a cell edge), got {p['velocity_cells']}")
    for key in ("tolerance", "t_max"):
        if not p[key] > 0:
            raise InputError(f"{key} must be positive, got {p[key]}")


def initial_moments(t_left: float, t_right: float, slope: float):
    """A guess of the steady state: (density(x), temperature(x)) callables of the node coordinates.

    Fourier's profile for κ ∝ √T (T^{3/2} linear in x) between gas temperatures that jump from the
    walls' by (1 − slope)/2 of their difference, uniform pressure and mean density 1.
    """
    jump = 0.5 * (1.0 - slope) * (t_right - t_left)
    a, b = (t_left + jump) ** 1.5, (t_right - jump) ** 1.5 - (t_left + jump) ** 1.5
    T = lambda x: (a + b * x[:, 0]) ** (2.0 / 3.0)
    # mean of 1/T over the gap, ∫₀¹ (a + bx)^{-2/3} dx, so that n = (1/T)/mean(1/T) has mean 1
    mean_inv = a ** (-2.0 / 3.0) if b == 0 else 3.0 * ((a + b) ** (1.0 / 3.0) - a ** (1.0 / 3.0)) / b
    return (lambda x: 1.0 / (T(x) * mean_inv)), T


def main(**overrides) -> dict:
    import numpy as np
    from dgkinetic import Mixture, Species, VelocityGrid
    from dgkinetic.channel import Channel, sonine_transport_coefficients
    from dgkinetic.reference.channel_flow import free_molecular_heat_flux, hard_sphere_conductivity, rate_for_knudsen
    from dgkinetic.collisions.boltzmann import Boltzmann
    from dgkinetic.collisions.kernels import HardSpheres
    from dgkinetic.walls import Diffuse
    p = dict(DEFAULTS, **overrides)
    check_parameters(p)
    T0, TL = float(p["t_left"]), float(p["t_right"])
    ar = Species("Ar", mass=1.0, diameter=1.0)
    grid = VelocityGrid(2, p["velocity_cells"], 2, extent=p["extent"], scale=ar.thermal_speed(0.5 * (T0 + TL)))
    mix = Mixture([ar], [grid])
    op = Boltzmann(mix, HardSpheres(), sphere=p["sphere"], tail_floor=1e-6)
    kappa_ratio = [sonine_transport_coefficients(op, T, 1.0 / T)[1] / hard_sphere_conductivity(1.0, T, 1.0, 2)
                   for T in (T0, TL)]
    q_fm = free_molecular_heat_flux(1.0, T0, TL, 1.0, 2)
    # Fourier without jump: κ = κ₁√T with κ₁ = 2/(d_eff √π), d_eff = 1/(2√2 n Kn L)
    q_ns_per_kn = -(2.0 / 3.0) * 4 * math.sqrt(2.0 / math.pi) * (TL ** 1.5 - T0 ** 1.5)
    walls = Diffuse(T0), Diffuse(TL)
    crossing = 1.0 / np.min(np.abs(grid.nodes[:, 0]))
    knudsen = [math.inf] + sorted(p["knudsen"], reverse=True)
    rows = []
    for kn in knudsen:
        free = math.isinf(kn)
        slope = 0.0 if free else 1.0 / (1.0 + q_ns_per_kn * kn / q_fm)     # the bridging formula's profile
        density, temperature = initial_moments(T0, TL, slope)
        mean_free_time = kn / math.sqrt(math.pi * 0.5 * (T0 + TL) / 2)
        channel = Channel(mix, *walls, cells=p["cells"], degree=p["degree"],
                          initial=([density], [np.zeros(2)], [temperature]),
                          collisions=[] if free else [(op, rate_for_knudsen(kn, 1.0, 1.0, 1.0, 2))],
                          collision_step=0.3 * mean_free_time if not free else 0.1)
        n0 = channel.numbers()
        flux = lambda ch: ch.mean_wall_fluxes()["energy"]
        t_min = 1.5 * crossing if free else min(1.5 * crossing, 3 * mean_free_time)
        # collisionless runs are cheap, and their wall re-emissions settle slowly: converge them further
        hist = channel.run_to_steady(flux, tolerance=p["tolerance"] / (10 if free else 1), check_every=0.5,
                                     t_min=t_min, t_max=3 * t_min if free else max(p["t_max"], t_min))
        prof = channel.profiles()
        rows.append({"ratio": hist["value"][-1] / q_fm, "interior": np.mean(prof["heat_flux"]) / q_fm,
                     "x": prof["x"], "T": prof["temperature"], "n": prof["density"][0], "time": channel.time,
                     "converged": hist["converged"], "drift": float(np.max(np.abs(channel.numbers() - n0) / n0))})
        print(f"Kn = {kn:<5g} q/q_FM = {rows[-1]['ratio']:.5f}  (t = {channel.time:.1f}, converged "
              f"{hist['converged']}, last change {hist['change']:.1e}, wall imbalance {hist['imbalance']:.1e})",
              flush=True)
    kn = np.array(knudsen)
    ns = q_ns_per_kn * kn / q_fm
    result = {"knudsen": kn, "heat_flux_ratio": np.array([r["ratio"] for r in rows]),
              "interior_heat_flux_ratio": np.array([r["interior"] for r in rows]),
              "fourier": ns, "fourier_jump": 1.0 / (1.0 + 1.0 / ns), "x": rows[0]["x"],
              "temperature": np.array([r["T"] for r in rows]), "density": np.array([r["n"] for r in rows]),
              "time": np.array([r["time"] for r in rows]), "converged": np.array([r["converged"] for r in rows]),
              "number_drift": np.array([r["drift"] for r in rows]), "conductivity_ratio": np.array(kappa_ratio),
              "free_molecular_heat_flux": q_fm, "fourier_per_knudsen": q_ns_per_kn / q_fm}
    result["output"] = _write(result, p)
    return result


def _write(r: dict, p: dict) -> str:
    import numpy as np
    from dgkinetic.output import write_arrays
    from dgkinetic.plotting import plot_knudsen_sweep, plot_profiles_by_knudsen, save_figure, subplots
    out = output_dir("heat_transfer_kn", p)
    write_arrays(os.path.join(out, "kn_sweep.h5"), r, {k: v for k, v in r.items() if isinstance(v, float)})
    c = r["fourier_per_knudsen"]
    fig, ax = subplots(1, 2, figsize=(11, 4))
    plot_knudsen_sweep(ax[0], r["knudsen"], r["heat_flux_ratio"], "q_x", "Boltzmann, hard disks",
                       [(f"Fourier, no jump: {c:.2f} Kn", "--", lambda k: c * k, 1.2 / c),
                        ("Fourier + jump (bridging)", ":", lambda k: 1 / (1 + 1 / (c * k)), np.inf)])
    plot_profiles_by_knudsen(ax[1], r["x"], r["knudsen"], r["temperature"], "temperature",
                             ("no jump", [p["t_left"], p["t_right"]]))
    fig.suptitle(f"Heat transfer, argon (hard disks, 1D2V), walls at T = {p['t_left']:g} and {p['t_right']:g}")
    save_figure(fig, os.path.join(out, "kn_sweep.png"))
    return out


if __name__ == "__main__":
    res = run_demo(main, DEFAULTS, __doc__)
    print(f"free-molecular flux error {res['heat_flux_ratio'][0] - 1:+.2e}; grid conductivity / Chapman–Enskog "
          f"at T0, TL: {res['conductivity_ratio'].round(4).tolist()}; max number drift {res['number_drift'].max():.1e}")
