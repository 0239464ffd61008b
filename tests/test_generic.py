"""GENERIC structure as a public API (issue: GENERIC): brackets, degeneracy, evolution, budget, Fisher."""
import numpy as np
import pytest

import firedrake as fd
from dgkinetic import Mixture, Species, VelocityGrid, equilibrium
from dgkinetic.collisions.boltzmann import Boltzmann
from dgkinetic.collisions.kernels import HardSpheres, MaxwellMolecules, VariableHardSpheres
from dgkinetic.collisions.landau import Landau
from dgkinetic.generic import GenericStructure, fisher_information
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.transport import Transport
from dgkinetic.walls import Diffuse, Specular


def mixture(dim, nspecies, quantum=False, continuous=True, cells=None, masses=(1.0, 2.5, 0.4)):
    masses = list(masses)[:nspecies]
    stats = ["maxwell", "fermi", "bose"][:nspecies] if quantum else ["maxwell"] * nspecies
    species = [Species(f"s{i}", mass=m, statistics=st, diameter=1.0 + 0.3 * i)
               for i, (m, st) in enumerate(zip(masses, stats))]
    cells = cells or (4 if dim == 2 else 3)
    grids = [VelocityGrid(dim, cells, 2, extent=5.5, scale=s.thermal_speed(1.0), continuous=continuous)
             for s in species]
    return Mixture(species, grids)


def random_state(mix, rows, rng):
    """Positive states: equilibria at random moments times smooth random factors."""
    blocks = []
    for s, g in zip(mix.species, mix.grids):
        vt = s.thermal_speed(1.0)
        block = np.stack([equilibrium(g, s, rng.uniform(0.2, 0.4), rng.uniform(-0.3, 0.3, g.dim) * vt,
                                      rng.uniform(0.8, 1.2), check=False) for _ in range(rows)])
        block *= np.exp(0.3 * np.sin(g.nodes @ rng.standard_normal(g.dim) / vt))[None, :]
        if s.alpha < 0:
            block = np.minimum(block, 0.9)
        blocks.append(block)
    return np.concatenate(blocks, axis=1)


def phase_for(mix, cells=3):
    return PhaseSpace(fd.IntervalMesh(cells, 1.0), mix, degree=1)


CASES = [(2, 1, False), (2, 2, True), (3, 2, False), (2, 3, True)]


@pytest.mark.parametrize("dim,nsp,quantum", CASES)
@pytest.mark.parametrize("operator", ["landau", "boltzmann"])
def test_brackets_structure(dim, nsp, quantum, operator):
    rng = np.random.default_rng(dim * 10 + nsp)
    mix = mixture(dim, nsp, quantum, continuous=True, cells=3 if dim == 2 else 2)
    op = Landau(mix) if operator == "landau" else Boltzmann(mix, MaxwellMolecules(), cache=False)
    phase = phase_for(mix, cells=1)
    G = GenericStructure(phase, collisions=[(op, 0.7)])
    X = random_state(mix, phase.n_owned, rng)
    A = G.dissipative_matrix(X).toarray()
    scale = np.abs(A).max()
    assert np.abs(A - A.T).max() <= 1e-12 * scale                       # symmetric
    assert np.linalg.eigvalsh(0.5 * (A + A.T)).min() >= -1e-12 * scale   # positive semi-definite
    dE = G.energy_differential(X).ravel()
    assert np.abs(A @ dE).max() <= 1e-12 * scale * np.abs(dE).max()    # M dE = 0
    # collision invariants (per-species number, momentum) are in the null space of M
    inv = np.tile(mix.invariants, (phase.n_owned, 1))
    assert np.abs(A @ inv).max() <= 1e-12 * scale * np.abs(inv).max()
    L = G.poisson_matrix(X)
    Lmax = np.abs(L).max()
    assert np.abs(L + L.T).max() <= 1e-13 * Lmax                        # antisymmetric
    dS = G.entropy_differential(X).ravel()
    assert np.abs(L @ dS).max() <= 1e-12 * Lmax * np.abs(dS).max()      # degeneracy L dS = 0
    # ... which the unprojected broken-derivative bracket K misses by the discretisation error
    K = G.transport_matrix(X).toarray()
    assert np.abs(K @ dS).max() > 1e-6 * Lmax * np.abs(dS).max()
    ones = np.zeros((mix.size, nsp))                                    # species indicators: Casimirs
    for i, sl in enumerate(mix.slices()):
        ones[sl, i] = 1.0
    ones = np.tile(ones, (phase.n_owned, 1))
    assert np.abs(L @ ones).max() <= 1e-12 * Lmax


@pytest.mark.parametrize("dim,nsp,quantum", [(2, 2, True), (3, 1, False)])
@pytest.mark.parametrize("operator", ["landau", "boltzmann"])
def test_linearised_brackets(dim, nsp, quantum, operator):
    """Λ ≡ 1 and S = −½∫∫f²: M symmetric, PSD, blind to energy and invariants, independent of F."""
    rng = np.random.default_rng(7 * dim + nsp)
    mix = mixture(dim, nsp, quantum, continuous=True, cells=3 if dim == 2 else 2)
    op = Landau(mix) if operator == "landau" else Boltzmann(mix, MaxwellMolecules(), cache=False)
    phase = phase_for(mix, cells=1)
    G = GenericStructure(phase, collisions=[(op, 0.7)], linearised=True)
    X = random_state(mix, phase.n_owned, rng)
    A = G.dissipative_matrix(X).toarray()
    scale = np.abs(A).max()
    assert np.abs(A - A.T).max() <= 1e-12 * scale
    assert np.linalg.eigvalsh(0.5 * (A + A.T)).min() >= -1e-12 * scale
    dE = G.energy_differential(X).ravel()
    assert np.abs(A @ dE).max() <= 1e-12 * scale * np.abs(dE).max()
    inv = np.tile(mix.invariants, (phase.n_owned, 1))
    assert np.abs(A @ inv).max() <= 1e-12 * scale * np.abs(inv).max()
    B = G.dissipative_matrix(random_state(mix, phase.n_owned, rng)).toarray()
    assert np.abs(A - B).max() <= 1e-13 * scale                       # Λ ≡ 1: no dependence on F
    assert G.entropy(X) == pytest.approx(-0.5 * G.pairing(X, X), rel=1e-15)
    dS = G.entropy_differential(X)
    assert G.dissipation(X) == pytest.approx(dS.ravel() @ A @ dS.ravel(), rel=1e-10)
    assert G.dissipation(X) > 0
    L = G.poisson_matrix(X)
    assert np.abs(L @ dS.ravel()).max() <= 1e-12 * np.abs(L).max() * np.abs(dS).max()


@pytest.mark.parametrize("operator", ["landau", "boltzmann"])
def test_collision_evolution_is_M_dS(operator):
    rng = np.random.default_rng(3)
    mix = mixture(2, 2, quantum=True)
    op = Landau(mix) if operator == "landau" else Boltzmann(mix, HardSpheres(), cache=False)
    phase = phase_for(mix)
    rate = 1.7
    G = GenericStructure(phase, collisions=[(op, rate)])
    X = random_state(mix, phase.n_owned, rng)
    dS = G.entropy_differential(X)
    for _ in range(3):
        psi = rng.standard_normal(X.shape)
        lhs = G.pairing(rate * op.rhs(X), psi)                    # ⟨∂t F|collisions, ψ⟩
        rhs = G.dissipative_bracket(X, psi, dS)                   # M(F)[ψ, dS]
        assert abs(lhs - rhs) <= 1e-10 * abs(rhs)
    assert G.dissipation(X) > 0


def test_poisson_bracket_gives_transport_volume_term():
    """K[ξ, dE] = Σ∫∫ f v·∇ₓξ (the volume part of transport); L = K∘P differs by the residual K[dS, dE]."""
    rng = np.random.default_rng(5)
    mix = mixture(2, 2, continuous=False)
    phase = phase_for(mix, cells=4)
    G = GenericStructure(phase)
    X = random_state(mix, phase.n_owned, rng)
    xi = rng.standard_normal(X.shape)
    dE = np.array(G.energy_differential(X))
    dS = G.entropy_differential(X)
    gx = G._grad_x[0] @ xi
    expected = G.pairing(X * mix.velocities[:, 0], gx)
    assert G.transport_bracket(X, xi, dE) == pytest.approx(expected, rel=1e-12)
    L_xi_dE = G.poisson_bracket(X, xi, dE)
    assert L_xi_dE == pytest.approx(G.pairing(xi, G.reversible_evolution(X)), rel=1e-12)
    # the change is the discretisation residual K[dS, dE] along q (zero for the exact equation)
    residual = G.transport_bracket(X, dS, dE)
    _, q = G._projector(X)
    assert L_xi_dE - expected == pytest.approx(-G.pairing(q, xi) * residual, rel=1e-9, abs=1e-14 * abs(expected))
    assert G.poisson_bracket(X, dE, dE) == pytest.approx(0.0, abs=1e-14 * abs(expected))
    assert abs(G.poisson_bracket(X, xi, dS)) <= 1e-13 * abs(expected)           # L dS = 0 as a bracket
    # the reversible evolution conserves each species' mass and produces no entropy
    r = G.reversible_evolution(X)
    for sl in mix.slices():
        one = np.zeros(X.shape)
        one[:, sl] = 1.0
        assert abs(G.pairing(one, r)) <= 1e-13 * G.pairing(np.abs(X), np.abs(r) / np.maximum(np.abs(X), 1e-300))
    assert abs(G.pairing(dS, r)) <= 1e-13 * G.pairing(np.abs(dS), np.abs(r))


def test_entropy_budget_closes_with_walls():
    """Over a run with walls: ΔS = production + numerical dissipation + wall fluxes (+ wall upwinding)."""
    mix = mixture(2, 2, continuous=True, cells=4)
    # degree 0 in space: first-order upwind keeps f positive, so the entropy stays defined everywhere
    phase = PhaseSpace(fd.IntervalMesh(6, 1.0), mix, degree=0)
    op = Landau(mix, tail_floor=1e-6)     # explicit stepping: the far tails must not be stiff
    transport = Transport(phase, {1: Diffuse(temperature=1.1), 2: Specular()})
    G = GenericStructure(phase, collisions=[(op, 0.5)], transport=transport)
    f = phase.local_equilibrium([lambda x: 0.3 + 0.1 * np.sin(3 * x[:, 0]), 0.2],
                                [np.zeros(2), np.zeros(2)], [0.9, 1.1])
    # a background of 1e-8 of the peak (below the tail floor): the third derivative of h(f) = f log f is -1/f^2, and RK4
    # would integrate the entropy of corner nodes at 1e-17, fed by the wall, only at a lower order
    X = np.array(f.dat.data_ro) + 1e-8 * np.max(f.dat.data_ro)
    op.freeze_tails(X)        # a fixed set of kept cells: the right-hand side is smooth in time
    work = phase.function()

    def rhs_and_rates(Y):
        work.dat.data[:] = Y
        Yh = work.dat.data_ro_with_halos
        dY = transport.rhs(Yh) + 0.5 * op.rhs(Y)
        return dY, G.entropy_rates(Y, Yh)

    # classical RK4 on the state, with the entropy rates integrated by the same stages
    dt, steps = 1.25e-4, 400
    S0 = G.entropy(X)
    totals = {}
    for _ in range(steps):
        k1, r1 = rhs_and_rates(X)
        k2, r2 = rhs_and_rates(X + 0.5 * dt * k1)
        k3, r3 = rhs_and_rates(X + 0.5 * dt * k2)
        k4, r4 = rhs_and_rates(X + dt * k3)
        X = X + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        for key in r1:
            totals[key] = totals.get(key, 0.0) + dt / 6 * (r1[key] + 2 * r2[key] + 2 * r3[key] + r4[key])
        assert min(r1["production"], r2["production"], r3["production"], r4["production"]) >= 0
    dS = G.entropy(X) - S0
    assert set(totals) == {"production", "numerical dissipation", "wall 1 flux",
                           "wall 1 dissipation", "wall 2 flux", "wall 2 dissipation"}
    # closes to the time-integration error of RK4 (measured 1.2e-9 relative at this step; 1.7e-8 at 2Δt)
    assert abs(dS - sum(totals.values())) <= 1e-8 * max(abs(dS), max(abs(v) for v in totals.values()))
    assert totals["production"] > 0 and totals["numerical dissipation"] > 0
    # the diffuse wall exchanges entropy with the gas; a specular wall carries none (node pairs cancel)
    assert abs(totals["wall 1 flux"]) > 1e-3 * abs(dS)
    assert abs(totals["wall 2 flux"]) <= 1e-12 * abs(dS)


def fisher_run(kernel, dim=2, steps=40, dt=0.02):
    mix = mixture(dim, 2, continuous=False, cells=6, masses=(1.0, 1.0))
    op = Boltzmann(mix, kernel, cache=False, tail_floor=1e-6)
    X = np.concatenate([equilibrium(g, s, n, u * s.thermal_speed(1.0), T) for s, g, n, u, T in
                        zip(mix.species, mix.grids, [1.0, 0.6], [np.array([0.4, 0.0]), np.array([-0.3, 0.2])],
                            [0.8, 1.3])])[None, :]
    values = [fisher_information(X, mix, floor=1e-6)[0]]
    for _ in range(steps):           # RK2: the test is about the monotonicity of I(F(t)), not the integrator
        k1 = op.rhs(X)
        X = X + dt * op.rhs(X + 0.5 * dt * k1)
        values.append(fisher_information(X, mix, floor=1e-6)[0])
    return np.array(values)


def test_fisher_information_decreases_for_maxwell_molecules():
    """Seed 002, Theorem 3.1: I(F) = Σ_i ∫|∇log f_i|² f_i is non-increasing for the homogeneous
    multi-species Boltzmann equation (classical statistics) when r|α_ij'(r)|/α_ij(r) ≤ 2√Λ_b.
    Maxwell molecules (α_ij constant) satisfy it for every b: this two-species run is inside.
    The operator's tail floor (1e-6, which explicit RK needs) freezes the far tails; I is measured
    where the operator acts (f ≥ 1e-6 max f). Measured: 5.17 → 4.18 over t = 0.8, monotone."""
    values = fisher_run(MaxwellMolecules())
    assert np.all(np.diff(values) <= 1e-10 * values[0]), np.diff(values)
    assert values[-1] < 0.9 * values[0]


def test_fisher_information_outside_the_theorem():
    """Kernels the theorem does not cover here: hard spheres (r α'/α = 1) and VHS with γ = −0.5
    (r|α'|/α = 0.5) satisfy (3.5) only if 2√Λ_b exceeds those numbers, and Λ_b (the optimal constant
    of the sphere inequality (3.4)) is not computed by dgkinetic; Bose and Fermi species (τ ≠ 1) are
    outside the theorem altogether. No monotonicity is asserted for them: only that I is computed."""
    for kernel in (HardSpheres(), VariableHardSpheres(-0.5)):
        values = fisher_run(kernel, steps=5)
        assert np.all(np.isfinite(values)) and np.all(values > 0)
