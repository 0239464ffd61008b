"""The main demo (``make demo``), run small: Ar–Kr hard spheres in 3V between a cold and a hot wall.

Asserts what the demo plots and prints against what kinetic theory says of any steady state:
exact conservation of each species' number, zero net number flux of each species through each wall,
the same heat flux through both walls (energy conservation) and below the free-molecular flux,
heat flowing from the hot wall to the cold one, temperature jumps of the right sign at both walls,
krypton gathering at the cold wall (the sign of the hard-sphere thermal diffusion factor, Chapman &
Cowling ch. 8–9) and a non-negative collisional entropy production at every node (H-theorem).
"""
import os

import numpy as np
from demo_loader import load_demo


def test_main_demo_small(tmp_path):
    thermal_diffusion = load_demo("thermal_diffusion", "thermal_diffusion")
    r = thermal_diffusion.main(cells=2, degree=1, velocity_degree=1, output=str(tmp_path))
    T0, TL = thermal_diffusion.DEFAULTS["t_left"], thermal_diffusion.DEFAULTS["t_right"]
    assert np.max(r["number_drift"]) <= 1e-13
    assert np.max(np.abs(r["wall_number_flux"])) <= 1e-8
    q0, qL = r["wall_heat_flux"]
    assert abs(q0 - qL) <= 1e-6 * abs(q0)                       # energy conserved through the gas
    assert r["free_molecular_heat_flux"] < q0 < 0                # hot → cold (−x), below free flight
    T = r["temperature"]
    assert T0 < T[0] and T[-1] < TL and np.all(np.diff(T) > 0)   # jumps at both walls, monotone
    assert r["separation"] > 0                                   # krypton at the cold wall
    assert np.all(r["entropy_production"] >= 0)
    assert os.path.isfile(tmp_path / "profiles.png") and os.path.isfile(tmp_path / "thermal_diffusion.h5")
