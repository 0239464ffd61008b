"""The 3V heat-transfer demo (steady states of hard-sphere argon between walls at T = 1 and 1.4), run
small: free flight gives the grid's exact free-molecular flux, the flux falls with Kn, both walls pass the
same flux, and at Kn = 0.01 it meets Fourier's law with the exact hard-sphere conductivity and the
hard-sphere temperature jump to 1% (the theory's O(Kn²) is 1e-4; the velocity grid's error was measured
at 0.5% on the demo's 6 × Q3 grid, which this test uses, and 1.7% on 4 × Q3)."""
import math
import os

import numpy as np
from demo_loader import load_demo


def test_fourier_3v_demo_small(tmp_path):
    fourier_3v = load_demo("heat_transfer", "fourier_3v")
    r = fourier_3v.main(knudsen=[1.0, 0.01], cells=2, output=str(tmp_path))
    kn, ratio = r["knudsen"], r["heat_flux_ratio"]
    assert np.all(r["imbalance"] <= 1e-5)                       # the same flux through both walls
    # free flight: the grid's own exact free-molecular state
    from dgkinetic import Diffuse, VelocityGrid
    from dgkinetic.reference.channel_flow import free_molecular_state
    g = VelocityGrid(3, 6, 3, extent=5.5)
    state = free_molecular_state(g, Diffuse(fourier_3v.DEFAULTS["t_left"]), Diffuse(fourier_3v.DEFAULTS["t_right"]))
    q = np.sum(g.weights * g.nodes[:, 0] * 0.5 * np.sum(g.nodes ** 2, axis=1) * state)
    assert abs(ratio[0] - q / r["free_molecular_heat_flux"]) <= 1e-6           # the solver default: residual 1e-6
    assert math.isinf(kn[0]) and np.all(np.diff(ratio) < 0) and np.all(ratio[1:] < 1.0)
    assert kn[-1] == 0.01 and abs(ratio[-1] / r["fourier_jump"][-1] - 1) <= 0.01
    assert os.path.isfile(tmp_path / "fourier_3v.png")
