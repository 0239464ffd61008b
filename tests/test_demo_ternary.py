"""The ternary-diffusion demo, run small: kinetic (Landau, diffusive scaling) against Maxwell–Stefan."""
import os

import numpy as np
import pytest
from demo_loader import load_demo


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    ternary_diffusion = load_demo("ternary_diffusion", "ternary_diffusion")
    out = tmp_path_factory.mktemp("ternary")
    # two Knudsen numbers, ε and ε/2, over the first part of the uphill phase
    return ternary_diffusion.main(knudsen=[0.1, 0.05], t_end=0.05, samples=5, output=str(out))


def test_every_species_mass_is_conserved_in_the_closed_channel(small_run):
    for eps, run in zip(small_run["knudsen"], small_run["runs"]):
        assert np.all(run["mass_drift"] <= 1e-12), (eps, run["mass_drift"])


def test_species_b_flows_up_its_own_gradient(small_run):
    """Fick's law gives an alignment −1 between flux and gradient; uphill means > 0. The uniform
    species must build a gradient and keep flowing up it, in both descriptions."""
    ms = small_run["ms_uphill"]
    later = slice(1, None)                                    # at t = 0 the gradient is zero
    assert np.all(ms["alignment"][later] > 0.5), ms["alignment"]
    assert np.all(ms["flux_mid"][later] * ms["gradient_mid"][later] > 0)
    for eps, run in zip(small_run["knudsen"], small_run["runs"]):
        up = run["uphill"]
        assert np.all(up["alignment"][later] > 0.5), (eps, up["alignment"])
        assert np.all(up["flux_mid"][later] * up["gradient_mid"][later] > 0), eps
        fraction_b = run["fraction"][-1, :, 1]
        assert fraction_b[-1] - fraction_b[0] > 0.05             # a gradient of B has formed


def test_kinetic_molar_fractions_approach_maxwell_stefan_as_knudsen_decreases(small_run):
    """The kinetic solution differs from its Maxwell–Stefan limit by O(ε) (well-prepared data:
    local Maxwellians with the Maxwell–Stefan drifts; PHYSICS.md §6, seed 000). So (i) halving ε must
    cut the largest discrepancy in molar fraction, by about 2 at first order — ≤ 0.7 leaves room for
    what does not shrink with ε (space discretisation, and the composition dependence of the discrete
    Δ_ij, ≈ 1e-3 together); (ii) that discrepancy, relative to the initial spread of molar fractions,
    is O(ε) with a constant ≤ 1; (iii) the comparison is not vacuous: the mixture has moved several
    times farther from its initial state than the discrepancy."""
    runs = small_run["runs"]
    coarse, fine = (float(np.max(r["discrepancy"])) for r in runs)
    assert fine <= 0.7 * coarse, (coarse, fine)
    for eps, run in zip(small_run["knudsen"], runs):
        assert run["relative_discrepancy"] <= eps, (eps, run["relative_discrepancy"])
    ms = small_run["ms_fraction"]
    assert np.max(np.abs(ms[-1] - ms[0])) > 5 * coarse


def test_diffusivities_come_from_the_discrete_operator(small_run):
    """The reference Δ_ij are those of the discrete operator's diffusion limit; T/k_ij with k_ij
    measured on drifting Maxwellians is reported alongside: k_ij = k_ji (the exchanged momentum is the
    same whichever species drifts: discrete momentum conservation and bilinearity). B–C friction
    dominates, which is what drives B uphill (Duncan–Toor)."""
    k, Df, D = small_run["friction"], small_run["Delta_friction"], small_run["Delta"]
    off = ~np.eye(3, dtype=bool)
    assert np.allclose(k[off], k.T[off], rtol=1e-6, atol=0)
    assert np.allclose(Df[off], 1.0 / k[off], rtol=1e-6)
    assert np.allclose(D[off], D.T[off]) and np.all(D[off] > 0)
    assert D[1, 2] < 0.3 * min(D[0, 1], D[0, 2])


def test_outputs_exist(small_run):
    import h5py
    out = small_run["output"]
    assert os.path.exists(os.path.join(out, "ternary_diffusion.png"))
    path = os.path.join(out, "ternary_diffusion.h5")
    assert not os.path.exists(path + ".part")
    with h5py.File(path) as h:
        assert h["time"].shape == (6,)
        assert h["kinetic_0.05/fraction"].shape == (6, 16, 3)
        assert "maxwell_stefan/density" in h
