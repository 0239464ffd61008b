"""Transport and walls (issue: foundation): free streaming order, closed boxes, diffuse walls."""
import numpy as np
import pytest

import firedrake as fd
from dgkinetic import Mixture, Species, VelocityGrid
from dgkinetic.diagnostics import Diagnostics
from dgkinetic.phase_space import PhaseSpace
from dgkinetic.solver import KineticProblem, KineticSolver
from dgkinetic.walls import Diffuse, MaxwellWall, Specular


def free_streaming_error(ncells, degree):
    """L2 error of upwind DG free streaming of sin(2πx) on a periodic interval at t = 0.25."""
    mesh = fd.PeriodicIntervalMesh(ncells, 1.0)
    grid = VelocityGrid(2, 1, 1, extent=1.0)          # 4 velocities, v_x = ±1/√3
    phase = PhaseSpace(mesh, Mixture([Species("a")], [grid]), degree=degree)
    f0 = phase.function()
    x = phase.node_coordinates[:, 0]
    vx = grid.nodes[:, 0]
    f0.dat.data[:] = np.sin(2 * np.pi * x)[:, None] * np.ones(grid.size)
    t_end = 0.25
    dt = 0.05 / ncells
    solver = KineticSolver(KineticProblem(phase, f0),
                           solver_parameters={"ts_type": "rk", "ts_rk_type": "4"})
    f = solver.solve(t_end, dt)
    # exact solution, one velocity at a time, integrated with a high-degree quadrature
    xs = fd.SpatialCoordinate(mesh)[0]
    err2 = 0.0
    for k in range(grid.size):
        exact = fd.sin(2 * np.pi * (xs - vx[k] * t_end))
        err2 += fd.assemble((f[k] - exact) ** 2 * fd.dx(degree=2 * degree + 6))
    return np.sqrt(err2)


@pytest.mark.parametrize("degree", [1, 2])
def test_free_streaming_order(degree):
    errors = [free_streaming_error(n, degree) for n in (8, 16, 32)]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    # upwind DG of degree p converges at order p + 1 for smooth solutions
    assert orders[-1] > degree + 1 - 0.2, (errors, orders)


def two_species(dim):
    light = Species("light", mass=1.0)
    heavy = Species("heavy", mass=4.0)
    grids = [VelocityGrid(dim, 4, 2, extent=5.0, scale=s.thermal_speed(1.0)) for s in (light, heavy)]
    return Mixture([light, heavy], grids)


def box_run(mesh, dim, walls, steps=200, t_scale=1.0):
    mix = two_species(dim)
    phase = PhaseSpace(mesh, mix, degree=1)
    xdim = phase.dim
    dens = lambda x: 1.0 + 0.4 * np.cos(np.pi * x[:, 0]) * (1 if xdim == 1 else np.cos(np.pi * x[:, 1]))
    f0 = phase.local_equilibrium([dens, 0.5], [np.zeros(dim), np.zeros(dim)], [1.0, 1.0])
    diag = Diagnostics(phase)
    history = []
    solver = KineticSolver(KineticProblem(phase, f0, walls=walls),
                           solver_parameters={"ts_type": "rk", "ts_rk_type": "3bs", "ts_adapt_type": "none"},
                           monitors=[lambda s, step, t, X: history.append(diag.all(X))])
    X0 = np.array(solver.rows)
    solver.solve(t_end=steps * 2e-3 * t_scale, dt=2e-3 * t_scale)
    moved = np.max(np.abs(solver.rows - X0)) / np.max(np.abs(X0))
    return history, moved


@pytest.mark.parametrize("xdim", [1, 2])
def test_specular_box_conserves_mass_and_energy(xdim):
    if xdim == 1:
        mesh = fd.IntervalMesh(12, 1.0)
        walls = {1: Specular(), 2: Specular()}
    else:
        mesh = fd.UnitSquareMesh(5, 5, quadrilateral=True)
        walls = {i: Specular() for i in (1, 2, 3, 4)}
    hist, moved = box_run(mesh, 2, walls, steps=200)
    assert len(hist) >= 200
    first, last = hist[0], hist[-1]
    for key in ["number_light", "number_heavy", "energy"]:
        assert abs(last[key] - first[key]) <= 1e-12 * abs(first[key]), key
    # the run did something: the density wave moved and reflected
    assert moved > 1e-2


def test_diffuse_walls_conserve_mass_per_species():
    mesh = fd.IntervalMesh(10, 1.0)
    walls = {1: Diffuse(temperature=1.0), 2: MaxwellWall(accommodation=0.5, temperature=2.0)}
    hist, _ = box_run(mesh, 2, walls, steps=150)
    for key in ["number_light", "number_heavy"]:
        assert abs(hist[-1][key] - hist[0][key]) <= 1e-12 * hist[0][key]
    # heated wall: energy must change
    assert hist[-1]["energy"] > hist[0]["energy"] * (1 + 1e-4)


def test_heated_walls_reach_constant_heat_flux():
    """Free-molecular gas between diffuse walls at T1 = 1, T2 = 2: the steady energy flux is uniform."""
    mesh = fd.IntervalMesh(4, 1.0)
    s = Species("a")
    grid = VelocityGrid(2, 4, 2, extent=6.0, scale=s.thermal_speed(1.5))
    mix = Mixture([s], [grid])
    phase = PhaseSpace(mesh, mix, degree=1)
    f0 = phase.local_equilibrium([1.0], [np.zeros(2)], [1.5])
    # fixed steps: an adaptive controller drives explicit RK to its stability edge, whose noise
    # would hide the steady state
    solver = KineticSolver(KineticProblem(phase, f0, walls={1: Diffuse(1.0), 2: Diffuse(2.0)}),
                           solver_parameters={"ts_type": "rk", "ts_rk_type": "3bs", "ts_adapt_type": "none"})

    def energy_flux(X):
        v = grid.nodes
        return X @ (grid.weights * 0.5 * np.sum(v ** 2, axis=1) * v[:, 0])

    q = []
    for t_end in (20.0, 25.0):
        solver.solve(t_end, 0.008, t0=solver.time)
        q.append(energy_flux(solver.rows))
    q_mean = np.mean(q[-1])
    assert q_mean < 0          # heat flows from the hot wall (x = 1) to the cold one
    # uniform in space and steady, relative to its size
    assert np.ptp(q[-1]) < 1e-5 * abs(q_mean), (np.ptp(q[-1]), q_mean)
    assert np.max(np.abs(q[-1] - q[0])) < 1e-5 * abs(q_mean)


MESHES = {
    "interval": (lambda: fd.IntervalMesh(12, 1.0), {1: Specular(), 2: Diffuse(temperature=1.3)}),
    "periodic": (lambda: fd.PeriodicIntervalMesh(8, 1.0), {}),
    "quadrilaterals": (lambda: fd.UnitSquareMesh(4, 3, quadrilateral=True),
                       {1: Specular(), 2: MaxwellWall(temperature=1.1, accommodation=0.4), 3: Specular(),
                        4: Specular()}),
    "triangles": (lambda: fd.UnitSquareMesh(3, 3), {1: Specular(), 2: Diffuse(), 3: Specular(), 4: Specular()}),
}


@pytest.mark.parametrize("vcells", [3, 4])
@pytest.mark.parametrize("name", list(MESHES))
def test_compiled_transport_loop_matches_sparse_operators(name, vcells):
    """The fused PyOP2 loop (axis-aligned meshes) gives the sparse-operator right-hand side to round-off;
    on triangles it is not built and the sparse path is used. 4 velocity cells make 288 velocities per
    space node (a multiple of 8: the 1D loop then uses streaming vector stores), 3 cells 162 (plain loop)."""
    from dgkinetic.transport import Transport
    make, walls = MESHES[name]
    species = [Species("a"), Species("b", mass=3.0)]
    mix = Mixture(species, [VelocityGrid(2, vcells, 2, extent=4.0, scale=s.thermal_speed(1.0)) for s in species])
    phase = PhaseSpace(make(), mix, degree=1)
    tr = Transport(phase, walls, speed=0.7)
    assert (tr._fused is None) == (name == "triangles")
    f = phase.function("f")
    rng = np.random.default_rng(1)
    for _ in range(2):                       # a new state in the same Function is seen by the loop
        f.dat.data[:] = rng.random(f.dat.data.shape)
        X = f.dat.data_ro_with_halos.reshape(-1, mix.size)
        ref = tr.rhs(X)
        out = np.empty_like(ref)
        assert tr.rhs_function(f, out) is out
        assert np.abs(out - ref).max() <= 1e-14 * np.abs(ref).max()
        # the same state given as separate owned rows (a time stepper's stage vector), read in place
        rows, work = np.array(f.dat.data_ro), phase.function("work")
        assert tr.rhs_rows(rows, work, out) is out
        assert np.abs(out - ref).max() <= 1e-14 * np.abs(ref).max()


def test_compiled_transport_loop_is_bitwise_independent_of_output_alignment():
    """The 1D loop writes through aligned streaming stores and handles the unaligned ends of each
    run in scalar code with the same fused operations: the result must not depend on where the
    output array sits in memory (otherwise a run restarted from a checkpoint, whose vectors land
    at other addresses, drifts from the uninterrupted run at round-off)."""
    from dgkinetic.transport import Transport
    species = [Species("a"), Species("b", mass=3.0)]
    mix = Mixture(species, [VelocityGrid(2, 4, 2, extent=4.0, scale=s.thermal_speed(1.0)) for s in species])
    phase = PhaseSpace(fd.IntervalMesh(10, 1.0), mix, degree=1)
    tr = Transport(phase, {1: Specular(), 2: Diffuse(temperature=1.3)})
    assert tr._fused is not None and mix.size % 8 == 0
    f = phase.function("f")
    f.dat.data[:] = np.random.default_rng(2).random(f.dat.data.shape)
    shape = (phase.n_owned, mix.size)
    outs = []
    for offset in range(4):                          # 0, 8, 16, 24 bytes past a 64-byte boundary
        buf = np.empty(shape[0] * shape[1] + 16)
        start = (-buf.ctypes.data // 8) % 8 + offset
        out = buf[start:start + shape[0] * shape[1]].reshape(shape)
        assert (out.ctypes.data - offset * 8) % 64 == 0
        outs.append(tr.rhs_function(f, out).copy())
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])
    ref = tr.rhs(f.dat.data_ro_with_halos.reshape(-1, mix.size))
    assert np.abs(outs[0] - ref).max() <= 1e-13 * np.abs(ref).max()


def test_reemission_map_gives_the_diffuse_wall_flux():
    """Transport.reemission: on a diffuse wall the boundary flux is the outgoing trace plus a σ shape,
    σ the linear functional of the outgoing trace it gives, with zero net number flux per species;
    a Maxwell wall carries its accommodation, a specular wall has no re-emission."""
    from dgkinetic.transport import Transport
    species = [Species("a"), Species("b", mass=3.0)]
    mix = Mixture(species, [VelocityGrid(2, 4, 2, extent=4.0, scale=s.thermal_speed(1.0)) for s in species])
    phase = PhaseSpace(fd.IntervalMesh(4, 1.0), mix, degree=1)
    f = phase.function("f")
    f.dat.data[:] = np.random.default_rng(3).random(f.dat.data.shape)
    X = f.dat.data_ro_with_halos.reshape(-1, mix.size)
    tr = Transport(phase, {1: Diffuse(temperature=1.3, velocity=(0.0, 0.2)), 2: Specular()})
    (em,) = tr.reemission()
    assert em.wall == 1 and em.accommodation == 1.0 and len(em.rows) == 1
    trace = tr.boundary.plus @ X
    flux = tr.boundary_flux(X)
    for q, r in enumerate(em.rows):
        vn = tr.boundary.normals[r] @ mix.velocities[:, :1].T
        for i, sl in enumerate(mix.slices()):
            sigma = -(em.outgoing[q, sl] @ trace[r, sl]) / em.emitted[q, i]
            expected = np.maximum(vn[sl], 0.0) * trace[r, sl] + sigma * em.shape[q, sl]
            assert np.allclose(flux[r, sl], expected, rtol=0, atol=1e-14 * np.abs(flux[r]).max())
            assert abs(flux[r, sl] @ mix.weights[sl]) <= 1e-14 * np.abs(flux[r, sl] * mix.weights[sl]).sum()
    maxwell = Transport(phase, {1: MaxwellWall(accommodation=0.4, temperature=1.1), 2: Specular()})
    assert [(e.wall, e.accommodation) for e in maxwell.reemission()] == [(1, 0.4)]
    assert Transport(phase, {1: Specular(), 2: Specular()}).reemission() == []
