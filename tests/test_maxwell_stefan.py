"""The Maxwell–Stefan limit: flux relation, closed-channel solver, friction coefficients of the operators."""
import numpy as np
import pytest

from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.reference.maxwell_stefan import closed_channel, diffusivities, friction_coefficients, molar_fluxes

DUNCAN_TOOR = np.array([[np.inf, 83.3, 68.0], [83.3, np.inf, 16.8], [68.0, 16.8, np.inf]]) / 83.3


def counter_gradients(x, a=0.8):
    s = a * np.cos(np.pi * x)
    return np.stack([0.25 * (1 - s), np.full_like(x, 0.5), 0.25 * (1 + s)], axis=1)


def test_molar_fluxes_reduce_to_fick_and_satisfy_the_relation():
    rng = np.random.default_rng(1)
    c = rng.uniform(0.1, 1.0, (5, 3))
    g = rng.normal(size=(5, 3))
    g[:, -1] = -g[:, :-1].sum(axis=1)                       # Σ ∂x c_i = 0 (uniform total)
    # equal Δ: Fick's law N_i = −Δ ∂x c_i / c for every species
    Delta = np.full((3, 3), 0.7)
    N = molar_fluxes(c, g, Delta)
    assert np.allclose(N, -0.7 * g / c.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-14)
    # general Δ: −∂x c_i = Σ_j (c_j N_i − c_i N_j)/Δ_ij and Σ N = 0
    N = molar_fluxes(c, g, DUNCAN_TOOR)
    inv = np.where(np.eye(3, dtype=bool), 0.0, 1.0 / DUNCAN_TOOR)
    rhs = N * (c @ inv) - c * (N @ inv)
    assert np.allclose(-g, rhs, rtol=1e-12, atol=1e-12)
    assert np.allclose(N.sum(axis=1), 0.0, atol=1e-14)


def test_closed_channel_converges_to_the_fick_cosine_mode_at_second_order():
    """Equal Δ: c_i = c̄_i ± (a/4) e^{−π²Δt} cos πx exactly (c = 1); observed order ≈ 2."""
    Delta = np.full((3, 3), 0.5)
    times = [0.0, 0.1, 0.3]
    errors = []
    for cells in (20, 40, 80):
        s = closed_channel(counter_gradients, 1.0, Delta, times, cells=cells)
        # cell averages of the exact solution: averaging cos πx over a cell multiplies it by sinc
        h = 1.0 / cells
        avg = np.sin(np.pi * h / 2) / (np.pi * h / 2)
        exact = 0.25 * (1 - 0.8 * np.exp(-np.pi ** 2 * 0.5 * 0.3) * avg * np.cos(np.pi * s.centres))
        errors.append(np.max(np.abs(s.density[-1, :, 0] - exact)))
        assert np.max(np.abs(s.density[..., 1] - 0.5)) < 1e-12       # B untouched by Fick
        totals = s.density.sum(axis=1) * h
        assert np.max(np.abs(totals - totals[0])) <= 1e-12 * np.max(totals[0])
    order = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(order - 2.0) < 0.2), (errors, order)


def test_duncan_toor_diffusivities_drive_the_uniform_species_uphill():
    """With Duncan & Toor's Δ_ij the uniform species B flows up the gradient it builds; with
    equal Δ_ij (the same total friction, Fick) it stays uniform."""
    times = np.linspace(0.0, 0.1, 6)
    s = closed_channel(counter_gradients, 1.0, DUNCAN_TOOR, times, cells=100)
    xB = s.density[..., 1] / s.density.sum(axis=-1)
    grad = np.gradient(xB, s.centres, axis=1)
    flux = s.flux_at(s.centres)[..., 1]
    up = (flux * grad).sum(axis=1)[1:]
    assert np.all(up > 0), up
    assert xB[-1, -1] - xB[-1, 0] > 0.05
    f = closed_channel(counter_gradients, 1.0, np.full((3, 3), 0.5), times, cells=100)
    assert np.max(np.abs(f.density[..., 1] - 0.5)) < 1e-12


def test_closed_channel_rejects_bad_input():
    from dgkinetic.errors import InputError
    with pytest.raises(InputError):
        closed_channel(counter_gradients, 1.0, DUNCAN_TOOR, [0.1, 0.0])
    with pytest.raises(InputError):
        closed_channel(lambda x: counter_gradients(x) - 0.3, 1.0, DUNCAN_TOOR, [0.0, 0.1])
    with pytest.raises(InputError):
        diffusivities(np.array([[np.nan, -1.0], [-1.0, np.nan]]))


def test_friction_coefficients_of_maxwell_interactions():
    """Measured momentum exchange R_i = −k_ij n_i n_j (U_i − U_j) against the continuum values:
    Landau (Φ = 1) k_ij = (d − 1) ν_ij / μ_ij, Boltzmann Maxwell molecules k_ij = μ_ij ∫ B (1 − cosθ) dσ."""
    from dgkinetic.collisions.boltzmann import Boltzmann
    from dgkinetic.collisions.kernels import MaxwellMolecules
    from dgkinetic.collisions.landau import Landau
    species = [Species("a", mass=1.0), Species("b", mass=3.0)]
    mu = 0.75
    grids = [VelocityGrid(2, 8, 2, extent=6.0, scale=s.thermal_speed(1.0), continuous=True) for s in species]
    nu = np.array([[1.0, 0.6], [0.6, 2.0]])
    k = friction_coefficients(Landau(Mixture(species, grids), nu=nu))
    assert k[0, 1] == pytest.approx(0.6 / mu, rel=5e-3)
    assert k[1, 0] == pytest.approx(k[0, 1], rel=1e-6)
    Delta = diffusivities(k, temperature=1.0)
    assert Delta[0, 1] == pytest.approx(1.0 / k[0, 1]) and np.isinf(Delta[0, 0])
    # 2D default C = 1/(2π): ∫ B (1 − cosθ) dσ = 1
    grids = [VelocityGrid(2, 4, 2, extent=5.0, scale=s.thermal_speed(1.0)) for s in species]
    k = friction_coefficients(Boltzmann(Mixture(species, grids), MaxwellMolecules(), cache=False))
    assert k[0, 1] == pytest.approx(mu, rel=1e-3)
    assert k[1, 0] == pytest.approx(mu, rel=1e-3)


def test_linear_response_diffusivities_converge_to_the_continuum_value():
    """The discrete Chapman–Enskog Δ of the Landau operator (Φ = 1) tends to the exact continuum
    T μ/((d − 1) ν) as the velocity grid is refined, for any composition; on a coarse grid it is
    off by a few per cent, more than T/k_ij measured with Maxwellians."""
    from dgkinetic.collisions.landau import Landau
    from dgkinetic.errors import InputError
    from dgkinetic.reference.maxwell_stefan import linear_response_diffusivities
    species = [Species("a", mass=1.0), Species("b", mass=3.0)]
    nu = np.array([[1.0, 0.6], [0.6, 2.0]])
    exact = 0.75 / 0.6
    errors = []
    for cells, extent in ((4, 5.0), (8, 6.0)):
        grids = [VelocityGrid(2, cells, 2, extent=extent, scale=s.thermal_speed(1.0), continuous=True)
                 for s in species]
        op = Landau(Mixture(species, grids), nu=nu)
        D = [linear_response_diffusivities(op, c)[0, 1] for c in ([0.3, 0.7], [0.7, 0.3])]
        errors.append(max(abs(d / exact - 1) for d in D))
    assert errors[1] < 0.01 and errors[1] < errors[0] / 4, errors
    with pytest.raises(InputError):
        linear_response_diffusivities(op, [0.3, -0.1])
