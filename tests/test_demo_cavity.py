"""The lid-driven cavity demo (2D space × 3V, hard-sphere argon) run small: exact conservation of mass in
the closed cavity, the walls' Maxwellian as an exact discrete steady state of free flight, the mirror
symmetry U ↦ −U, the sense of rotation of the vortex and the lid stress against Kn, and the same run on
2 ranks as on one."""
import math

import numpy as np
import pytest
from mpi4py import MPI

from demo_loader import load_demo

cavity = load_demo("cavity", "cavity")

#: 4 × 4 quadrilaterals (DG0), 4 × Q2 velocity cells per direction at ±4.5 (12³ nodes), 7 Carleman
#: directions: the demo's physics on a grid small enough for seconds per run
SMALL = {"cells": 4, "velocity_cells": 4, "velocity_degree": 2, "extent": 4.5, "direction_degree": 5,
         "vtk": False, "plot": False}


def small(**overrides):
    return cavity.parameters(dict(SMALL, **overrides))


def mirror_nodes(xy: np.ndarray) -> np.ndarray:
    """Permutation P of the space nodes with xy[P[k]] = (1 − x_k, y_k)."""
    key = lambda a: [tuple(r) for r in np.round(a, 10)]
    index = {k: i for i, k in enumerate(key(xy))}
    mirrored = np.stack([1.0 - xy[:, 0], xy[:, 1]], axis=1)
    return np.array([index[k] for k in key(mirrored)])


def test_free_flight_at_rest_keeps_the_wall_maxwellian_exactly():
    """No collisions, every wall at rest at T_w: the walls' Maxwellian (the demo's initial state) is an
    exact steady state of the discrete transport — the interior upwind fluxes of a uniform state cancel
    and each diffuse wall re-emits exactly what arrives, node by node, on the symmetric grid. So the
    residual is at round-off and 39 steps of RK3 keep the state to round-off; the stopping rule sees no
    change (r at round-off). A wrong re-emission (normalisation, half-range, normal) is O(1) here."""
    p = small(knudsen=[math.inf], wall_speed=0.0, check_every=0.5, t_max=1.5, tolerance=1e-300)
    r = cavity.run(p, math.inf)
    species, grid, _ = cavity.gas(p)
    f0 = cavity.wall_maxwellian(grid, species)
    assert r["steps"] >= 30 and r["time"] == pytest.approx(1.5)
    assert r["residual"] <= 1e-13
    assert np.max(np.abs(r["rows"] - f0)) <= 1e-13 * np.max(f0)
    assert np.max(r["history"][:, 1]) <= 1e-12
    assert abs(r["lid_stress"]) <= 1e-14


def test_mass_is_exact_and_the_flow_mirrors_with_the_lid():
    """Kn = 1, lid at +U and at −U, one time unit (30 RK3 steps, collisions explicit): the number of
    molecules in the closed cavity stays to round-off (≤ 1e-12 relative, per step: diffuse walls return
    what they receive, the collisions conserve it); and the run with −U is the mirror image of the run
    with +U, f₋(1 − x, y, −v_x, v_y, v_z) = f₊(x, y, v) (mesh, walls, grid and collision operator are
    mirror symmetric) to round-off, ≤ 1e-10 of max f — a wall id or velocity-sign mistake breaks it
    at O(U). The lid stress changes sign with U and is opposite to the lid's motion."""
    U = cavity.BENCHMARK_WALL_SPEED
    p = small(knudsen=[1.0], wall_speed=U, check_every=0.5, t_max=1.0, tolerance=1e-300)
    op = cavity.collision_operator(cavity.gas(p)[2], p)
    plus = cavity.run(p, 1.0, op)
    minus = cavity.run(dict(p, wall_speed=-U), 1.0, op)
    for r in (plus, minus):
        assert r["stepping"] == "rk" and r["steps"] >= 25
        assert np.max(np.abs(r["number"] - r["number"][0])) <= 1e-12 * r["number"][0]
    _, grid, _ = cavity.gas(p)
    P = mirror_nodes(plus["coordinates"])
    assert np.allclose(minus["coordinates"][P], np.stack([1 - plus["coordinates"][:, 0],
                                                         plus["coordinates"][:, 1]], axis=1))
    image = minus["rows"][P][:, grid.reflection(0)]
    top = np.max(np.abs(plus["rows"]))
    assert np.max(np.abs(image - plus["rows"])) <= 1e-10 * top
    assert np.max(np.abs(plus["rows"] - np.flip(plus["rows"], 0))) > 1e-4 * top     # the flow is not trivial
    assert plus["lid_stress"] < 0 and minus["lid_stress"] == pytest.approx(-plus["lid_stress"], rel=1e-9)


def test_steady_vortex_and_lid_stress_against_knudsen(tmp_path):
    """Steady states (the demo's stopping rule at r < 2e-3 per unit time) of free flight, Kn = 1 and
    Kn = 0.1 with the lid at +U:

    - the vortex turns clockwise, as the lid drags the gas: on the vertical centre line u_x > 0 at
      y = 0.9 and < 0 at y = 0.1 (the return flow), on the horizontal one u_y < 0 at x = 0.9 and > 0 at
      x = 0.1;
    - the lid's shear stress opposes its motion and lies between 0 and free flight's, and falls as
      collisions bring the gas under the lid along with it: 0 < P(0.1) < P(1) < P(∞) (the continuum
      limit has P_xy ~ μU/L ∝ Kn);
    - the heat flows from cold to hot over most of the cavity (q·∇T > 0 at more than half the nodes:
      the rarefied cavity's counter-gradient heat flux, which Fourier's law forbids; measured here 100 %,
      100 %, 88 %);
    - a steady state: the x-momentum the lid puts in leaves through the other three walls. Their
      fluxes add up to −dP_x/dt exactly (transport and collisions conserve momentum inside), and the
      stopping rule bounds that by r U max n (r < 2e-3 the velocity change per unit time): 0.4–0.6 % of
      the lid's flux (measured 0.11–0.16 %). Mass stays exact."""
    U = cavity.BENCHMARK_WALL_SPEED
    r = cavity.main(**dict(SMALL, vtk=True, plot=True), knudsen=[math.inf, 1.0, 0.1], wall_speed=U,
                    method="march", tolerance=2e-3, t_max=20.0, output=str(tmp_path))
    for name in ("cavity.h5", "cavity.png", "cavity_kn_1.pvd"):
        assert (tmp_path / name).is_file(), name
    ratios = r["stress_ratio"]
    assert 0 < ratios[2] < ratios[1] < ratios[0]
    for kn, run in r["runs"].items():
        assert run["converged"], kn
        bound = 2e-3 * U * np.max(run["grid_fields"]["density"]) / abs(run["lid_stress"])
        assert run["momentum_balance"] <= bound, (kn, run["momentum_balance"], bound)
        assert run["mass_drift"] <= 1e-12
        assert run["counter_gradient"] > 0.5, kn
        s, ux, uy = cavity.centre_lines(r["x"], r["y"], run["grid_fields"])
        at = lambda u, where: float(np.interp(where, s, u))
        assert at(ux, 0.9) > 0 > at(ux, 0.1), kn
        assert at(uy, 0.1) > 0 > at(uy, 0.9), kn


def test_steady_solver_finds_the_marched_steady_state_in_few_sweeps(tmp_path):
    """The demo's default, the steady solver (Newton–Krylov with a transport sweep per velocity node on
    the 2D mesh, the moment correction), against the marched state of the same grid: free flight in one
    Newton step (the sweep is then the exact Jacobian), Kn = 1 and 0.1 in at most 50 kinetic sweeps
    (measured 4, 16, 21), every residual ‖∂f/∂t‖∞/‖f‖∞ below 1e-6 and the x-momentum of the four walls
    balanced to 1e-6 of the lid's (the march stops at 1e-3 per unit time and balances to 0.1–0.2 %).
    The lid stress of each Kn equals the marched one, run until its fields change by < 1e-5 per unit time,
    within that march's own distance from steady (1e-3 relative); mass exact."""
    U = cavity.BENCHMARK_WALL_SPEED
    kns = [math.inf, 1.0, 0.1]
    steady = cavity.main(**SMALL, knudsen=kns, wall_speed=U, output=str(tmp_path / "steady"))
    assert steady["parameters"]["method"] == "steady"
    for kn, r in steady["runs"].items():
        assert r["stepping"] == "steady" and r["steps"] <= 50, (kn, r["steps"])
        assert r["residual"] <= 1e-6 and r["momentum_balance"] <= 1e-6, (kn, r["residual"], r["momentum_balance"])
        assert r["mass_drift"] <= 1e-12
    assert steady["runs"][math.inf]["newton"] == 1
    op = cavity.collision_operator(cavity.gas(small())[2], small())
    for kn in kns:
        marched = cavity.run(small(wall_speed=U, tolerance=1e-5, t_max=60.0), kn, op)
        assert marched["converged"]
        assert steady["runs"][kn]["lid_stress"] == pytest.approx(marched["lid_stress"], rel=1e-3), kn


@pytest.mark.parallel([1, 2])
def test_steady_cavity_on_two_ranks_is_the_serial_one():
    """The steady solver with the collision evaluations shared over the ranks of COMM_WORLD (every rank
    holds the mesh) and on COMM_SELF: the same Newton steps, sweeps, lid stress and fields to 1e-10."""
    p = small(knudsen=[1.0], wall_speed=cavity.BENCHMARK_WALL_SPEED)
    op = cavity.collision_operator(cavity.gas(p)[2], p)
    shared = cavity.solve_steady(p, 1.0, op, comm=MPI.COMM_WORLD)
    serial = cavity.solve_steady(p, 1.0, op, comm=MPI.COMM_SELF)
    assert (shared["newton"], shared["steps"]) == (serial["newton"], serial["steps"])
    assert shared["lid_stress"] == pytest.approx(serial["lid_stress"], rel=1e-10)
    _, _, a = cavity.node_grid(MPI.COMM_WORLD, shared["coordinates"], shared["fields"])
    _, _, b = cavity.node_grid(MPI.COMM_SELF, serial["coordinates"], serial["fields"])
    for name in a:
        assert np.allclose(a[name], b[name], rtol=0, atol=1e-10 * np.max(np.abs(b[name]))), name


@pytest.mark.parallel([1, 2])
def test_cavity_on_two_ranks_is_the_serial_run():
    """The cavity at Kn = 1 (explicit RK3, half a time unit) distributed over the ranks of COMM_WORLD
    and on COMM_SELF: the same steps, lid stress, number history and fields to 1e-12 relative (the
    collision evaluations of fewer rows round alike; the halo exchange is exact). The wall fluxes count
    each boundary facet once (before Transport.wall_fluxes kept to the facet nodes a rank owns, it summed
    the halo cells' facets on both ranks: this test found the lid stress 1.49× the serial one)."""
    p = small(knudsen=[1.0], wall_speed=cavity.BENCHMARK_WALL_SPEED, check_every=0.25, t_max=0.5,
              tolerance=1e-300)
    op = cavity.collision_operator(cavity.gas(p)[2], p)
    shared = cavity.run(p, 1.0, op, comm=MPI.COMM_WORLD)
    serial = cavity.run(p, 1.0, op, comm=MPI.COMM_SELF)
    if MPI.COMM_WORLD.size > 1:
        assert shared["phase"].n_owned < serial["phase"].n_owned              # the mesh is shared
    assert shared["steps"] == serial["steps"]
    assert shared["lid_stress"] == pytest.approx(serial["lid_stress"], rel=1e-12)
    assert np.allclose(shared["number"], serial["number"], rtol=1e-13, atol=0)
    _, _, a = cavity.node_grid(MPI.COMM_WORLD, shared["coordinates"], shared["fields"])
    _, _, b = cavity.node_grid(MPI.COMM_SELF, serial["coordinates"], serial["fields"])
    for name in a:
        assert np.allclose(a[name], b[name], rtol=0, atol=1e-12 * np.max(np.abs(b[name]))), name
