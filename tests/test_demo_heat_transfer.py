"""The heat-transfer demos run small: Knudsen sweep of the heat flux, Ar–Kr thermal diffusion.

As in test_demo_couette.py, free-molecular tolerances are the velocity quadrature error of the
half-range wall Maxwellians, measured by refining the grid (4 → 6 cells of width 3.1 → 2.0 thermal
speeds at T = 1: 3.9% → 0.18% from the discrete closed form); the free-molecular steady state is
uniform in x, so the space and time discretisations add nothing once it is reached.
"""
import math

import h5py
import numpy as np
from demo_loader import load_demo

from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.channel import Channel
from dgkinetic.reference.channel_flow import free_molecular_heat_flux
from dgkinetic.walls import Diffuse

kn_sweep = load_demo("heat_transfer", "kn_sweep")
separation = load_demo("heat_transfer", "separation")



def test_free_molecular_heat_flux_converges_to_the_exact_formula():
    """Collisionless gas between walls at T = 1 and 2: q_x → q_FM and T → √(T₀T_L) (each half-range of
    velocities holds its wall's temperature, with densities ∝ 1/√T_w) as the velocity grid is refined."""
    err = []
    for cells in (4, 6):
        ar = Species("Ar")
        mix = Mixture([ar], [VelocityGrid(2, cells, 2, extent=5.0, scale=math.sqrt(1.5))])
        density, temperature = kn_sweep.initial_moments(1.0, 2.0, 0.0)
        channel = Channel(mix, Diffuse(1.0), Diffuse(2.0), cells=4,
                          initial=([density], [np.zeros(2)], [temperature]))
        crossing = 1.0 / np.min(np.abs(mix.grids[0].nodes[:, 0]))
        hist = channel.run_to_steady(lambda ch: ch.mean_wall_fluxes()["energy"], tolerance=1e-5, check_every=1.0,
                                     t_min=2 * crossing, t_max=6 * crossing)
        assert hist["converged"]
        err.append(hist["value"][-1] / free_molecular_heat_flux(1.0, 1.0, 2.0, 1.0, 2) - 1.0)
        T = channel.profiles()["temperature"]
        assert np.allclose(T, math.sqrt(2.0), rtol=0.05 if cells == 4 else 0.005), T
    assert abs(err[0]) < 0.05 and abs(err[1]) < 0.005 and abs(err[1]) < abs(err[0]) / 5, err


def test_heat_transfer_kn_sweep(tmp_path):
    r = kn_sweep.main(knudsen=[1.0, 0.5], cells=4, tolerance=2e-3, output=str(tmp_path))
    kn, ratio = r["knudsen"], r["heat_flux_ratio"]
    assert math.isinf(kn[0]) and list(kn[1:]) == [1.0, 0.5]
    assert r["converged"].all()                         # includes equal heat flux through both walls
    assert np.max(r["number_drift"]) <= 1e-12
    # free-molecular limit on the demo's 6-cell grid: quadrature error 0.18% (test above) + 2e-4 transient
    assert abs(ratio[0] - 1.0) < 0.005, ratio[0]
    # the flux falls monotonically with Kn, and is uniform across the gap at the steady state (the
    # interior value is a snapshot after a collision half step: splitting error ≈1% at Δ = 0.3τ, as
    # measured in test_demo_couette.py)
    assert np.all(np.diff(ratio) < 0) and ratio[-1] > 0
    assert np.allclose(r["interior_heat_flux_ratio"], ratio, rtol=0.02)
    # temperature: rising from the cold to the hot wall, jumping at both walls, jumps shrinking with Kn
    T = r["temperature"][1:]
    assert np.all(np.diff(T, axis=1) > 0)
    assert np.all(T[:, 0] > 1.0) and np.all(T[:, -1] < 2.0)
    assert T[1, 0] < T[0, 0] and T[1, -1] > T[0, -1]
    assert (tmp_path / "kn_sweep.png").exists()
    with h5py.File(tmp_path / "kn_sweep.h5") as h:
        assert np.allclose(h["heat_flux_ratio"][:], ratio)


def test_argon_krypton_thermal_diffusion(tmp_path):
    """Hard spheres: the heavier species (Kr) gathers at the cold wall; each species' number is exact."""
    r = separation.main(cells=4, t_max=2.0, output=str(tmp_path))
    assert np.max(r["number_drift"]) <= 1e-12
    n_ar, n_kr = r["density"]
    assert n_ar[0] > n_ar[-1] and n_kr[0] > n_kr[-1]     # uniform pressure: denser where colder
    x_kr = r["mole_fraction_kr"]
    assert r["separation"] > 0 and np.all(np.diff(x_kr) < 0), x_kr
    assert np.all(r["separation_history"][2:] > 0)      # the sign is not a transient
    assert np.allclose(r["wall_number_flux"], 0.0, atol=1e-12)
    assert (tmp_path / "separation.png").exists() and (tmp_path / "separation.h5").exists()
