"""The fraction of the collision work a limiting mechanism dropped or changed (issue 12):
CollisionOperator.limited_work / limited_fraction and the diagnostics column collisions_limited_<index>.

Asserted: exactly 0 with tail_floor = 0 and with a floor that drops nothing (the weak form is then
unchanged); > 0 and growing with the floor on a two-temperature two-species 2V Maxwell-molecule
mixture, equal to an independent computation (the strong loss diagnostic of the Boltzmann form, a
brute-force pair sum for Landau); the spectral form's fraction equal to the clip recomputed from its
gain and frequency, the same clip its rhs applies; and the column written by a time-dependent and a
steady case run, equal at the initial state to the operator's own fraction.
"""
import math
import os

import h5py
import numpy as np
import pytest
from cases import case_text, run_cli

from dgkinetic import Mixture, Species, VelocityGrid, equilibrium
from dgkinetic.collisions.boltzmann import Boltzmann
from dgkinetic.collisions.collocation import CollocationBoltzmann, restore_conservation
from dgkinetic.collisions.kernels import HardSpheres, MaxwellMolecules
from dgkinetic.collisions.landau import Landau
from dgkinetic.collisions.spectral import SpectralBoltzmann

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUETTE = os.path.join(ROOT, "demos", "couette", "couette_3v.toml")


def mixture(continuous: bool) -> Mixture:
    species = [Species("a", mass=1.0), Species("b", mass=2.0)]
    grids = [VelocityGrid(2, 4, 2, extent=5.0, scale=s.thermal_speed(1.0), continuous=continuous) for s in species]
    return Mixture(species, grids)


def two_temperatures(mix: Mixture, temperatures=(0.7, 1.4)) -> np.ndarray:
    """One row: the species at rest with densities 1, 0.6 and different temperatures."""
    return np.concatenate([equilibrium(g, s, n, np.zeros(mix.dim), T) for s, g, n, T in
                           zip(mix.species, mix.grids, (1.0, 0.6), temperatures)])[None]


# ------------------------------------------------------------------------------------------ tail floor
@pytest.mark.parametrize("form", [Boltzmann, CollocationBoltzmann])
def test_boltzmann_tail_floor_fraction(form):
    mix = mixture(continuous=False)
    X = two_temperatures(mix)
    ops = {floor: form(mix, MaxwellMolecules(), cache=False, tail_floor=floor)
           for floor in (0.0, 1e-200, 1e-6, 1e-4)}
    assert ops[0.0].limited_work(X) is None and ops[0.0].limited_fraction(X) == 0.0
    # a floor far below the box's smallest values drops nothing: exactly 0 and the same rates
    assert ops[1e-200].limited_fraction(X) == 0.0
    assert np.array_equal(ops[1e-200].rhs(X), ops[0.0].rhs(X))
    fractions = [ops[floor].limited_fraction(X) for floor in (1e-6, 1e-4)]
    assert 0.0 < fractions[0] < fractions[1] < 0.5, fractions            # a higher floor drops a superset
    assert not np.allclose(ops[1e-4].rhs(X), ops[0.0].rhs(X), rtol=1e-6, atol=0.0)
    # the dropped collision rate Σ c f f* against the strong loss diagnostic, which counts each kept
    # collision 2 c t at both its pre-collision nodes (Σ_k W_k loss_k = 4 Σ_t c_t t_t + the g = 0 terms,
    # which no floor drops): ¼ Σ W (loss without floor − loss with it)
    W = mix.weights
    for floor in (1e-6, 1e-4):
        dropped = 0.25 * np.sum(W * (ops[0.0].loss(X) - ops[floor].loss(X)))
        assert ops[floor].limited_work(X)[0][0] == pytest.approx(dropped, rel=1e-10)


def test_boltzmann_total_collision_rate():
    """Hard spheres have no g = 0 term (B(0) = 0): the total is then ¼ Σ W loss exactly, and the
    fraction is one minus the kept share of the strong loss."""
    mix = mixture(continuous=False)
    X = two_temperatures(mix)
    free = Boltzmann(mix, HardSpheres(), cache=False)
    op = Boltzmann(mix, HardSpheres(), cache=False, tail_floor=1e-5)
    W = mix.weights
    limited, total = op.limited_work(X)
    assert total[0] == pytest.approx(0.25 * np.sum(W * free.loss(X)), rel=1e-12)
    kept = np.sum(W * op.loss(X)) / np.sum(W * free.loss(X))
    assert 0.0 < op.limited_fraction(X) == pytest.approx(1.0 - kept, rel=1e-10)


def landau_fraction_brute_force(mix: Mixture, X: np.ndarray, floor: float) -> float:
    """Σ_ij Σ_q Σ_r w_q w_r F_i(q) F_j(r) (d − 1)|q − r|² over the pairs with a point in a dropped
    cell (a cell with a node below floor · max f of its species), over the same sum on all pairs;
    Maxwell molecules (γ = 0), ν = 1, F = f interpolated from the nodes."""
    points, weights, active = [], [], []
    for Xi, g in zip(mix.split(X[0]), mix.grids):
        q, w, V, _ = g.cell_quadrature()
        cell_ok = np.all(Xi[g.cell_nodes] >= floor * Xi.max(), axis=1)
        points.append(q)
        weights.append(np.abs(V @ Xi) * w)
        active.append(cell_ok[g.cell_of(q)])
    dropped = total = 0.0
    for qi, wi, ai in zip(points, weights, active):
        for qj, wj, aj in zip(points, weights, active):
            A = wi[:, None] * wj[None, :] * (mix.dim - 1) * np.sum((qi[:, None] - qj[None]) ** 2, axis=-1)
            total += A.sum()
            dropped += A[~(ai[:, None] & aj[None, :])].sum()
    return dropped / total


def test_landau_tail_floor_fraction():
    mix = mixture(continuous=True)
    X = two_temperatures(mix)
    free = Landau(mix)
    assert free.limited_work(X) is None and free.limited_fraction(X) == 0.0
    nothing = Landau(mix, tail_floor=1e-200)
    assert nothing.limited_fraction(X) == 0.0 and np.array_equal(nothing.rhs(X), free.rhs(X))
    fractions = []
    for floor in (1e-6, 1e-4):
        op = Landau(mix, tail_floor=floor)
        fractions.append(op.limited_fraction(X))
        assert fractions[-1] == pytest.approx(landau_fraction_brute_force(mix, X, floor), rel=1e-10)
        assert not np.allclose(op.rhs(X), free.rhs(X), rtol=1e-6, atol=0.0)
    assert 0.0 < fractions[0] < fractions[1] < 1.0, fractions
    # the dropped cells are the frozen ones when a stepper froze them (here: at a state whose tails
    # are all above the floor, so nothing is dropped at X either)
    op = Landau(mix, tail_floor=1e-4)
    op.freeze_tails(np.full_like(X, 1.0))
    assert op.limited_fraction(X) == 0.0
    op.freeze_tails(None)
    assert op.limited_fraction(X) == pytest.approx(fractions[1], rel=1e-14)


# ------------------------------------------------------------------------------------------ spectral
def test_spectral_positive_parts_fraction():
    """A coarse 3V grid (3 Q2 cells, N = 24): the spectral gain is slightly negative in the far tails,
    the positive parts change a small share of the rates, and that share is the clip of rhs."""
    species = Species("a")
    grid = VelocityGrid(3, 3, 2, extent=5.0, scale=1.0)
    mix = Mixture([species], [grid])
    op = SpectralBoltzmann(mix, HardSpheres(), radial_points=8, sphere_degree=5, modes=24)
    c = grid.nodes
    X = (0.5 * np.exp(-np.sum((c - [0.3, 0, 0]) ** 2, 1) / 2.4) / (2.4 * math.pi) ** 1.5
         + 0.5 * np.exp(-np.sum((c + [0.3, 0, 0]) ** 2, 1) / 1.6) / (1.6 * math.pi) ** 1.5)[None]
    G, nu = op.gain_and_frequency(X)                     # one species: the self pair's G and ν
    gain_part, loss_part = np.maximum(G, 0.0) - G, (np.maximum(nu, 0.0) - nu) * X
    assert np.any(gain_part > 0)                         # the clip is active on this grid
    W = mix.weights
    expected = np.sum(W * (np.abs(gain_part) + np.abs(loss_part))) / np.sum(W * (np.abs(G) + np.abs(nu * X)))
    fraction = op.limited_fraction(X)
    assert fraction == pytest.approx(expected, rel=1e-12)
    assert 0.0 < fraction < 1e-2
    # that clip is what rhs adds before restoring the invariants
    R = restore_conservation(mix, X, G - nu * X + gain_part - loss_part)[0]
    assert np.max(np.abs(op.rhs(X) - R)) <= 1e-12 * np.max(np.abs(R))
    # without the clip, rhs would differ by more than round-off: the fraction reports a real change
    R0 = restore_conservation(mix, X, G - nu * X)[0]
    assert np.max(np.abs(R0 - R)) > 1e-8 * np.max(np.abs(R))


# ------------------------------------------------------------------------------------------ case runs
#: two hard-sphere collocation operators on a specular box, the first with a tail floor
CASE = dict(run={"name": "limited", "t_end": 0.03, "checkpoint_every": 0}, mesh={"cells": 4},
            walls={1: {"kind": "specular"}, 2: {"kind": "specular"}},
            collisions=[{"operator": "boltzmann", "kernel": "hard_spheres", "form": "collocation", "tail_floor": 1e-4},
                        {"operator": "boltzmann", "kernel": "hard_spheres", "form": "collocation", "rate": 0.5}])


def _run(path):
    return run_cli("run", str(path), timeout=900, cwd=ROOT)


def _initial_rows(path, densities=None):
    """The case's operators and one row: the equilibrium of its initial moments (constants; the
    densities given instead of a profile's)."""
    from dgkinetic.build import build_collisions, build_mixture, initial_moments
    from dgkinetic.case import load_case
    case = load_case(str(path))
    mix = build_mixture(case)
    dens, vels, temps = initial_moments(case, mix, 1.0)
    dens = dens if densities is None else densities
    X = np.concatenate([equilibrium(g, s, n, u, T) for s, g, n, u, T in
                        zip(mix.species, mix.grids, dens, vels, temps)])[None]
    return build_collisions(case, mix), X


def test_time_dependent_case_writes_the_column(tmp_path):
    """Two operators: the floored one reports its share at every row (the sine initial state is a
    constant multiple of one equilibrium at every node, so the domain's fraction is that row's), the
    unfloored one exactly 0; the closing line names the first only."""
    path = tmp_path / "case.toml"
    path.write_text(case_text(tmp_path / "out", **CASE))
    proc = _run(path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with h5py.File(tmp_path / "out" / "diagnostics.h5") as h:
        n = len(h["time"])
        floored, free = np.asarray(h["collisions_limited_0"]), np.asarray(h["collisions_limited_1"])
    assert n == 4 and len(floored) == n and len(free) == n
    assert np.all(free == 0.0)
    collisions, X0 = _initial_rows(path, densities=[1.0, 0.5])
    expected = collisions[0][0].limited_fraction(X0)
    assert 0.0 < expected < 0.5 and floored[0] == pytest.approx(expected, rel=1e-9)
    assert np.all(np.isfinite(floored)) and np.all((floored > 0) & (floored < 0.5))
    closing = [line for line in proc.stderr.splitlines() if "done:" in line][-1]
    assert f"collisions[0] up to {np.max(floored):.2g}" in closing and "collisions[1]" not in closing


def test_steady_case_writes_the_column(tmp_path):
    """The steady 3V Couette demo (spectral, hard spheres) on 2 space cells: the positive parts'
    share at the initial (uniform Maxwellian) state is the operator's, and stays small at the steady state."""
    text = open(COUETTE).read().replace('output = "output/couette_3v"', f'output = "{tmp_path / "out"}"')
    assert "cells = 4\nlength" in text
    path = tmp_path / "couette.toml"
    path.write_text(text.replace("cells = 4\nlength", "cells = 2\nlength"))
    proc = _run(path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with h5py.File(tmp_path / "out" / "diagnostics.h5") as h:
        assert h.attrs["steady"] == 1
        column = np.asarray(h["collisions_limited_0"])
    collisions, X0 = _initial_rows(path)
    assert len(column) == 2
    assert column[0] == pytest.approx(collisions[0][0].limited_fraction(X0), rel=1e-9)
    assert 0.0 < column[0] < 1e-2 and 0.0 < column[1] < 1e-2
    closing = [line for line in proc.stderr.splitlines() if "steady state:" in line][-1]
    assert f"collisions[0] up to {np.max(column):.2g}" in closing
