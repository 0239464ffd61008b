"""The Couette demo run small, and the channel theory it compares against.

Tolerances come from the discretisation: the velocity grid integrates the half-range wall
Maxwellians by Gauss quadrature on cells 2.25 (4 cells) or 1.125 (8 cells) thermal speeds wide, whose
error is measured by refining; the steady state is uniform in x in the free-molecular limit, so space
and time add nothing once the slowest molecules have crossed the gap.
"""
import math

import h5py
import numpy as np
import pytest
from demo_loader import load_demo

from dgkinetic import InputError, Mixture, Species, VelocityGrid
from dgkinetic.channel import Channel, sonine_transport_coefficients
from dgkinetic.collisions.boltzmann import Boltzmann
from dgkinetic.collisions.kernels import HardSpheres
from dgkinetic.reference.channel_flow import free_molecular_shear_stress, hard_sphere_viscosity
from dgkinetic.walls import Diffuse

couette = load_demo("couette", "couette")



def one_gas(cells, extent=4.5):
    ar = Species("Ar")
    return Mixture([ar], [VelocityGrid(2, cells, 2, extent=extent, scale=1.0)])


def test_hard_disk_viscosity_of_the_collision_operator():
    """The first Sonine viscosity of the discrete hard-disk operator tends to √(mT/π)/(2d) (Gass 1971)
    under velocity refinement: this checks the formula the demo plots and the operator together."""
    err = [sonine_transport_coefficients(Boltzmann(one_gas(c, 5.0), HardSpheres(), sphere=16))[0]
           / hard_sphere_viscosity(1.0, 1.0, 1.0, 2) - 1.0 for c in (4, 6)]
    assert abs(err[1]) < 0.005 and abs(err[1]) < abs(err[0]) / 3, err


def test_free_molecular_stress_converges_to_the_exact_formula():
    """Collisionless Couette flow: P_xy → −n U √(mT/(2π)) as the velocity grid is refined."""
    U = 0.2
    err = []
    for cells in (4, 8):
        mix = one_gas(cells)
        channel = Channel(mix, Diffuse(1.0, (0.0, -U / 2)), Diffuse(1.0, (0.0, U / 2)), cells=4,
                          initial=([1.0], [np.zeros(2)], [1.0]))
        crossing = 1.0 / np.min(np.abs(mix.grids[0].nodes[:, 0]))
        hist = channel.run_to_steady(lambda ch: ch.mean_wall_fluxes()["shear_stress"], tolerance=1e-5,
                                     check_every=1.0, t_min=2 * crossing, t_max=4 * crossing)
        assert hist["converged"]
        err.append(hist["value"][-1] / free_molecular_shear_stress(1.0, U, 1.0, 1.0) - 1.0)
    # quadrature error ~h⁶: 0.8% on 4 cells, 3e-5 on 8 cells (measured from the discrete closed form)
    assert abs(err[0]) < 0.015 and abs(err[1]) < 1e-3 and abs(err[1]) < abs(err[0]) / 10, err


def test_couette_demo(tmp_path):
    r = couette.main(knudsen=[1.0, 0.2], output=str(tmp_path))
    kn, ratio = r["knudsen"], r["stress_ratio"]
    assert math.isinf(kn[0]) and list(kn[1:]) == [1.0, 0.2]
    assert r["converged"].all()
    assert np.max(r["number_drift"]) <= 1e-12                     # closed channel: mass is exact
    # free-molecular limit on the demo's grid: its quadrature error is 0.85% (test above)
    assert abs(ratio[0] - 1.0) < 0.015, ratio[0]
    # the stress falls monotonically with Kn, below the free-molecular value
    assert np.all(np.diff(ratio) < 0) and 0 < ratio[-1]
    # toward continuum: Navier–Stokes with Maxwell slip, 1/P = 1/P_NS + 1/P_FM, with the grid's own
    # first Sonine viscosity; first-order slip theory and the first Sonine μ (≈2% low) leave a few %
    mu = r["viscosity_ratio"]
    ns_slip = 1.0 / (1.0 + 1.0 / (2 * 0.2 * mu))
    assert abs(ratio[-1] / ns_slip - 1.0) < 0.05, (ratio[-1], ns_slip)
    assert ratio[-1] < 2 * 0.2 * mu * 1.03                         # below the no-slip value
    # steady state: the stress is uniform across the gap (∂x P_xy = 0). The wall values are time averages
    # over the transport steps; the interior value is a snapshot after a collision half step, whose
    # splitting error O((Δ/τ)²) was measured at Kn = 1: 2.2% at Δ = 0.45τ, 0.4% at 0.15τ (the demo: 0.3τ)
    assert np.allclose(r["interior_stress_ratio"], ratio, rtol=0.02)
    # velocity: antisymmetric about the centre, slipping at the walls, slip shrinking with Kn
    u = r["velocity_y"]
    assert np.allclose(u, -u[:, ::-1], atol=1e-10)
    near_wall = u[:, -1]
    assert abs(near_wall[0]) < 1e-3 and np.all(np.diff(near_wall) > 0) and near_wall[-1] < 0.5
    assert (tmp_path / "couette.png").exists()
    with h5py.File(tmp_path / "couette.h5") as h:
        assert np.allclose(h["stress_ratio"][:], ratio)


@pytest.mark.parametrize("bad, message", [({"knudsen": [-1.0]}, "knudsen"), ({"wall_speed": 0.0}, "wall_speed"),
                                          ({"velocity_cells": 3}, "even")])
def test_couette_bad_parameters(tmp_path, bad, message):
    with pytest.raises(InputError, match=message) as info:
        couette.main(output=str(tmp_path), **bad)
    assert "\n" not in str(info.value)
