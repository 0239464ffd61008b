"""Discrete equilibria reproduce the requested moments to round-off (issue: foundation, item 3)."""
import numpy as np
import pytest

from dgkinetic import InputError, Species, VelocityGrid, equilibrium
from dgkinetic.equilibrium import equilibria
from dgkinetic.moments import SpeciesMoments


@pytest.mark.parametrize("dim", [2, 3])
@pytest.mark.parametrize("mass", [1.0, 1836.0, 1.0 / 3671.0])
@pytest.mark.parametrize("continuous", [False, True])
def test_discrete_maxwellian_moments(dim, mass, continuous):
    s = Species("s", mass=mass)
    vt = s.thermal_speed(1.0)
    grid = VelocityGrid(dim, 5 if dim == 2 else 4, 2, extent=6.0, scale=vt, continuous=continuous)
    n, T = 0.83, 1.21
    u = 0.4 * vt * np.arange(1, dim + 1) / dim
    f = equilibrium(grid, s, n, u, T)
    m = SpeciesMoments(f, grid, s)
    assert abs(m.number_density - n) <= 1e-13 * n
    assert np.max(np.abs(m.mean_velocity - u)) <= 1e-13 * vt
    assert abs(m.temperature - T) <= 1e-13 * T
    # the sampled continuous Maxwellian misses by the quadrature error: the correction is real
    c = np.sum((grid.nodes - u) ** 2, axis=1)
    sampled = n * (mass / (2 * np.pi * T)) ** (dim / 2) * np.exp(-mass * c / (2 * T))
    assert abs(SpeciesMoments(sampled, grid, s).temperature - T) > 1e-9


@pytest.mark.parametrize("stat,dim,n", [("fermi", 2, 0.5), ("fermi", 3, 0.2), ("bose", 2, 0.5), ("bose", 3, 0.05)])
def test_quantum_equilibria_moments_and_bounds(stat, dim, n):
    s = Species("q", statistics=stat)
    grid = VelocityGrid(dim, 4, 3, extent=6.0, continuous=True)
    f = equilibrium(grid, s, n, np.zeros(dim), 1.0)
    m = SpeciesMoments(f, grid, s)
    assert abs(m.number_density - n) <= 1e-13 * n
    assert abs(m.temperature - 1.0) <= 1e-13
    assert np.all(f > 0)
    if stat == "fermi":
        assert np.all(f < 1)


def test_batched_equilibria_match_single():
    s = Species("s", mass=2.0)
    grid = VelocityGrid(2, 4, 2, extent=6.0, scale=s.thermal_speed(1.0))
    ns, Ts = np.array([0.5, 1.0, 2.0]), np.array([0.8, 1.0, 1.3])
    us = np.array([[0.1, 0.0], [0.0, 0.0], [-0.2, 0.1]])
    F = equilibria(grid, s, ns, us, Ts)
    for k in range(3):
        assert np.allclose(F[k], equilibrium(grid, s, ns[k], us[k], Ts[k]), rtol=1e-13, atol=0)


def test_bad_equilibria_are_reported():
    s = Species("s")
    grid = VelocityGrid(2, 4, 2, extent=5.0)
    with pytest.raises(InputError, match="temperature must be positive"):
        equilibrium(grid, s, 1.0, [0, 0], -1.0)
    with pytest.raises(InputError, match="density must be positive"):
        equilibrium(grid, s, -1.0, [0, 0], 1.0)
    with pytest.raises(InputError, match="too small"):
        equilibrium(grid, s, 1.0, [0, 0], 4.0)          # 5 thermal speeds at T=1 are 2.5 at T=4
    with pytest.raises(InputError, match="too coarse"):
        equilibrium(grid, s, 1.0, [0, 0], 0.01)
    with pytest.raises(InputError, match="Pauli"):
        equilibrium(VelocityGrid(2, 4, 2, extent=6.0), Species("e", statistics="fermi"), 50.0, [0, 0], 1.0)
    with pytest.raises(InputError, match="mass must be a positive"):
        Species("x", mass=-1.0)
