"""Lid-driven cavity of hard-sphere argon: 2D space × 3V, free flight, Kn = 1 (and 0.1).

The unit square (``meshes/cavity.msh``: 8 × 8 quadrilaterals; boundary ids 1 left, 2 right, 3 bottom,
4 lid) holds argon, as hard spheres (the spectral Boltzmann operator in Carleman's form), between diffuse
walls at T_w = 1; the lid (y = 1) moves along x at U_w. Kn = λ/L, λ = 1/(√2 π d² n) of the initial gas
(density 1 at rest, the walls' Maxwellian). Units: L = 1, T_w = 1, m = 1, speeds in √(kT_w/m).

The lid speed is the DSMC/DGFS benchmark's (Jaiswal, Alexeenko & Hu, J. Comput. Phys. 378 (2019) 178,
and the references there: argon at T_w = 273 K, lid 50 m/s, Kn = 1 and 0.1): 50 m/s over √(kT_w/m) =
238.37 m/s, U_w = 0.2098 (Mach 0.16). That benchmark's gas is VHS argon (ω = 0.81); here it is hard
spheres, and the default grids are a demo's (below), so the figures compare with it qualitatively.

Steady state from the steady solver (default, ``--method steady``): :class:`~dgkinetic.steady.SteadySolver`,
Newton–Krylov preconditioned by a transport sweep per velocity node on the 2D mesh and the moment
correction, to a residual 1e-6 of the initial one; every rank holds the mesh and the collision
evaluations are shared by space node. Measured (default grids, one core): free flight 1 Newton step and
4 kinetic sweeps (1.4 s), Kn = 1 4 steps and 16 sweeps (8.9 s), Kn = 0.1 4 steps and 21 sweeps (9.1 s),
the lid stress ratios 1.1847, 1.1204, 0.8988, the walls' x-momentum balanced to 1e-8 — the march below
took 199–280 s per Kn to its stopping rule.

``--method march``: time stepping, explicit RK3 (Bogacki–Shampine) at the
stable step of transport + explicit collisions (:meth:`KineticSolver.stable_step`), or ARKIMEX with
matrix-free implicit collisions if the collisions would cut that step below a quarter of the transport's
(Kn ≲ 0.03 on the default grids).
**Stopping rule**: the run advances in chunks of ``check_every`` time units; after each chunk the rate
of change of the macroscopic fields,

    r = max( ‖Δn‖∞/n₀, ‖Δu_x‖∞/U, ‖Δu_y‖∞/U, ‖ΔT‖∞/T_w ) / Δt_chunk,

(max over the space nodes; n₀ = 1, U = U_w or 1 with the lid at rest) is compared with ``tolerance``;
the run stops at the first chunk with r < tolerance (or at ``t_max``, reported as not converged). The
time, the number of steps, r, the residual ‖∂f/∂t‖∞/‖f‖∞ of the final state and the x-momentum balance
of the four walls (zero at a steady state) are printed and written.

Output per Kn: density, velocity, temperature and heat flux at the space nodes (HDF5, on the node grid),
the lid's shear stress P_xy (the x-momentum flux through the lid, boundary id 4: negative, the gas
holds the lid back) over its free-molecular estimate P_FM = −n₀ U_w √(mkT_w/(2π)) (the stress of a wall
moving at U_w over a gas at rest of density n₀: exact between parallel plates, an estimate here, where the
lid sees the three other walls), VTK for ParaView (``cavity_<Kn>.pvd``: density, velocity, temperature,
heat flux) and a figure: speed with streamlines, temperature with heat-flux arrows, and the centre-line
velocity profiles u_x(x = ½, y) and u_y(x, y = ½).

    python demos/cavity/cavity.py                                   # free flight and Kn = 1 (steady solver): 12 s
    python demos/cavity/cavity.py --knudsen inf 1 0.1               # and Kn = 0.1: 23 s (cavity.png)
    python demos/cavity/cavity.py --knudsen 1 --method march -dgk_ts_monitor
    mpiexec -n 2 python demos/cavity/cavity.py

Writes output/cavity/{cavity.h5, cavity.png, cavity_<Kn>.pvd} (``demos/cavity/cavity.png`` is the
figure of the three runs, reduced to 256 colours). Default grids: DG0 on the 8 × 8 mesh
(64 space nodes), 4 × Q2 velocity cells per direction at ±4.5 thermal speeds (12³ nodes), 13 Carleman
directions (Lebedev 7). Measured on one core of the project's 2-core VM (others' jobs on the other
core): an RK3 step costs 0.83 s (three collision evaluations of 64 nodes, 4.3 ms each; free flight
0.008 s), and every marched run meets the stopping rule (r < 1e-3) at t = 3.5:

| run | steps (Δt) | P_xy(lid)/P_FM | residual | x-momentum balance | q·∇T > 0 | CPU |
|-----|------------|----------------|----------|--------------------|----------|-----|
| free flight | 231 (0.0152) | 1.186 | 1e-2 | 5e-4 | 100 % | 2 s |
| Kn = 1 | 238 (0.0147) | 1.121 | 2e-3 | 5e-4 | 97 % | 199–221 s |
| Kn = 0.1 | 329 (0.0106) | 0.899 | 2e-4 | 3e-4 | 83 % | 272–280 s |

Mass is kept to 4e-15. The lid stress is above P_FM even in free flight: the lid's molecules crowd the
right wall (its pressure 10 % above the left wall's), whose re-emission then hits the lid with −x
momentum. That ratio converges with the space grid from below (free flight: 1.186 on 8 × 8 DG0, 1.205 on
16 × 16, 1.215 on 32 × 32; 1.2261 on 8 × 8 DG1, 1.2273 on 16 × 16 DG1), so DG0 on 8 × 8 is 3 % low. The
heat flows from cold to hot over most of the cavity (q·∇T > 0: the rarefied cavity's counter-gradient
heat flux, John, Gu & Emerson, Numer. Heat Transfer B 58 (2010) 287), less so as Kn falls.
``--degree 1`` (256 nodes) takes 4 s per step of 0.00625: about 11× the CPU per unit time (some 40 min
for Kn = 1).
"""
import math
import os

import numpy as np

from dgkinetic.demo_support import output_dir, run_demo

HERE = os.path.dirname(os.path.abspath(__file__))
MESH = os.path.normpath(os.path.join(HERE, "..", "..", "meshes", "cavity.msh"))
LEFT, RIGHT, BOTTOM, LID = 1, 2, 3, 4

#: the benchmark's lid: argon (m = 39.948 u) at T_w = 273 K, U_w = 50 m/s, in units of √(kT_w/m)
BOLTZMANN = 1.380649e-23
ARGON_MASS = 39.948 * 1.66053906660e-27
BENCHMARK_WALL_SPEED = 50.0 / math.sqrt(BOLTZMANN * 273.0 / ARGON_MASS)

#: the collisions are stepped implicitly (ARKIMEX) when they would cut the explicit step below this fraction
#: of the transport's (their spectral radius over 3× the transport's): an ARKIMEX step at the transport's
#: limit costs several collision evaluations per stage (matrix-free Newton–Krylov), an RK3 step three
STIFF = 0.25

DEFAULTS = {"knudsen": [math.inf, 1.0], "wall_speed": round(BENCHMARK_WALL_SPEED, 4), "mesh": "",
            "cells": 0, "degree": 0, "velocity_cells": 4, "velocity_degree": 2, "extent": 4.5,
            "direction_degree": 7, "method": "steady",
            "tolerance": 1e-3, "check_every": 0.5, "t_max": 40.0, "vtk": True,
            "plot": True, "output": ""}


def label(knudsen: float) -> str:
    """Name of a run in files and datasets: ``free_molecular`` or ``kn_<Kn>``."""
    return "free_molecular" if math.isinf(knudsen) else f"kn_{knudsen:g}"


def parameters(overrides: dict) -> dict:
    """DEFAULTS with the overrides, checked (InputError names what is wrong)."""
    from dgkinetic.demo_support import check_parameters
    from dgkinetic.errors import InputError
    p = dict(DEFAULTS, **overrides)
    check_parameters(p, "knudsen_or_free_flight", "even_velocity_cells", "tolerance", "check_every", "t_max")
    p["knudsen"] = [float(k) for k in p["knudsen"]]
    if not (math.isfinite(p["wall_speed"]) and abs(p["wall_speed"]) <= 1.0):
        raise InputError(f"wall_speed must be in [-1, 1] (units of √(kT_w/m)), got {p['wall_speed']}")
    if p["cells"] < 0:
        raise InputError(f"cells must be ≥ 0 (0: the mesh file), got {p['cells']}")
    if p["method"] not in ("steady", "march"):
        raise InputError(f"method must be \"steady\" (the steady solver) or \"march\" (time stepping), "
                         f"got {p['method']!r}")
    return p


# ---------------------------------------------------------------------- the gas and the cavity
def gas(p):
    """(species, velocity grid, mixture): argon as hard spheres of diameter 1, mass 1, 3V."""
    from dgkinetic import Mixture, Species, VelocityGrid
    ar = Species("Ar", mass=1.0, diameter=1.0)
    grid = VelocityGrid(3, p["velocity_cells"], p["velocity_degree"], extent=p["extent"])
    return ar, grid, Mixture([ar], [grid])


def collision_operator(mix, p):
    """The spectral hard-sphere operator (Carleman's form with ``direction_degree``)."""
    from dgkinetic.collisions.kernels import HardSpheres
    from dgkinetic.collisions.spectral import SpectralBoltzmann
    return SpectralBoltzmann(mix, HardSpheres(), direction_degree=p["direction_degree"])


def wall_maxwellian(grid, species, temperature: float = 1.0, density: float = 1.0) -> np.ndarray:
    """exp(−m|v|²/(2T)) at the nodes, scaled to the discrete density: the walls' own re-emission shape.

    A diffuse wall at rest re-emits exactly this shape (normalised node by node), so a gas in this state
    is, without collisions, an exact discrete steady state of the closed cavity at rest.
    """
    f = np.exp(-species.mass * np.sum(grid.nodes ** 2, axis=1) / (2.0 * temperature))
    return density * f / (f @ grid.weights)


def mesh(p, comm=None):
    """The cavity: ``meshes/cavity.msh`` (or ``p["mesh"]``), or a UnitSquareMesh of ``p["cells"]``² quads."""
    import firedrake as fd
    from mpi4py import MPI
    comm = comm or MPI.COMM_WORLD
    if p["cells"]:
        return fd.UnitSquareMesh(p["cells"], p["cells"], quadrilateral=True, comm=comm)
    return fd.Mesh(p["mesh"] or MESH, comm=comm)


def walls(wall_speed: float) -> dict:
    """Diffuse walls at T_w = 1; the lid (id 4) moves along x at ``wall_speed``."""
    from dgkinetic.walls import Diffuse
    return {LEFT: Diffuse(1.0), RIGHT: Diffuse(1.0), BOTTOM: Diffuse(1.0), LID: Diffuse(1.0, (wall_speed, 0.0))}


def macroscopic(X, grid, species) -> dict:
    """Density, velocity (3 components), temperature and heat flux (3 components) of rows X."""
    from dgkinetic.moments import heat_flux, mean_velocity, number_density, temperature
    return {"density": number_density(X, grid), "velocity": mean_velocity(X, grid),
            "temperature": temperature(X, grid, species), "heat_flux": heat_flux(X, grid, species)}


def change_rate(old: dict, new: dict, interval: float, speed: float, comm) -> float:
    """The stopping rule's r (module docstring): largest change of n/n₀, u/U, T/T_w per unit time."""
    from mpi4py import MPI
    local = max(np.max(np.abs(new["density"] - old["density"]), initial=0.0),
                np.max(np.abs(new["velocity"][:, :2] - old["velocity"][:, :2]), initial=0.0) / speed,
                np.max(np.abs(new["temperature"] - old["temperature"]), initial=0.0))
    return comm.allreduce(float(local), op=MPI.MAX) / interval


def wall_fluxes(solver) -> dict:
    """Outward fluxes through each wall, summed over the ranks (:meth:`Transport.wall_fluxes`)."""
    comm = solver.phase.mesh.comm
    Xh = np.array(solver.state.dat.data_ro_with_halos).reshape(-1, solver.size)
    local = solver.transport.wall_fluxes(Xh)
    return {k: comm.allreduce(v) for k, v in sorted(local.items())}


def residual(solver) -> float:
    """‖∂f/∂t‖∞ / ‖f‖∞ of the current state: transport with walls + collisions (per unit time)."""
    from mpi4py import MPI
    comm = solver.phase.mesh.comm
    X = solver.rows
    out = np.empty_like(X)
    with solver.state.dat.vec_ro as v:
        solver.transport_rhs(v, out)
    if solver.problem.collisions:
        out += solver.collision_rhs(X)
    top = comm.allreduce(float(np.max(np.abs(out), initial=0.0)), op=MPI.MAX)
    return top / comm.allreduce(float(np.max(np.abs(X), initial=0.0)), op=MPI.MAX)


def rank_split(comm, solver, operator) -> list:
    """Print (rank 0) and return what each rank holds at start-up: its space nodes (the collision work is
    per node), its unknowns, the collision operator's estimated working memory for its rows and its
    resident memory so far."""
    import resource
    mem = operator.evaluation_bytes(min(solver.n, operator.chunk_rows), operator.sigma_batch) if operator else 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = comm.gather((solver.n, solver.n * solver.size, mem / 2 ** 20, rss), root=0)
    if comm.rank == 0 and comm.size > 1:
        print("  " + "; ".join(f"rank {k}: {n} space nodes, {u} unknowns, collisions ~{m:.0f} MiB, resident "
                               f"{r:.0f} MiB" for k, (n, u, m, r) in enumerate(rows)), flush=True)
    return rows


def march_to_steady(solver, grid, species, p: dict, dt: float, t_max: float, speed: float, record) -> tuple:
    """Step ``solver`` from t = 0 in chunks of ``p["check_every"]`` (steps ``dt``) until the macroscopic
    fields change by less than ``p["tolerance"]`` per unit time (:func:`change_rate`, velocities over
    ``speed``) or ``t_max``. After each chunk ``(t, rate) + record()`` is appended to the history.

    Returns
    -------
    tuple
        (final fields, history array, t, converged)
    """
    comm = solver.phase.mesh.comm
    fields = macroscopic(solver.rows, grid, species)
    history, t, converged = [], 0.0, False
    while t < t_max - 1e-12:
        chunk = min(p["check_every"], t_max - t)
        solver.solve(t + chunk, dt, t0=t)
        t += chunk
        new = macroscopic(solver.rows, grid, species)
        rate = change_rate(fields, new, chunk, speed, comm)
        fields = new
        history.append((t, rate) + tuple(record()))
        if rate < p["tolerance"]:
            converged = True
            break
    return fields, np.array(history), t, converged


def _problem(p: dict, knudsen: float, operator, mesh_comm):
    """(species, grid, phase, problem, diagnostics, [initial number], operator) of one cavity run: the gas at
    rest in the walls' Maxwellian on the mesh of ``mesh_comm``, collisions at Kn (none for ``inf``)."""
    from dgkinetic import PhaseSpace
    from dgkinetic.diagnostics import Diagnostics
    from dgkinetic.reference.channel_flow import rate_for_knudsen
    from dgkinetic.solver import KineticProblem
    species, grid, mix = gas(p)
    phase = PhaseSpace(mesh(p, mesh_comm), mix, degree=p["degree"])
    f0 = phase.function("f")
    f0.dat.data_wo[...] = wall_maxwellian(grid, species)[None, :]
    collisions = []
    if math.isfinite(knudsen):
        operator = operator or collision_operator(mix, p)
        collisions = [(operator, rate_for_knudsen(knudsen, 1.0, 1.0, species.diameter, 3))]
    problem = KineticProblem(phase, f0, walls=walls(p["wall_speed"]), collisions=collisions)
    diag = Diagnostics(phase)
    number = [diag.invariants(diag.rows(f0))["number_Ar"]]
    return species, grid, phase, problem, diag, number, operator


def run(p: dict, knudsen: float, operator=None, comm=None) -> dict:
    """One cavity run to its steady state (module docstring: the stopping rule).

    Parameters
    ----------
    p
        The demo's parameters (:func:`parameters`).
    knudsen
        Kn (``inf``: no collisions).
    operator
        The collision operator of the gas of ``p`` (built if None and Kn is finite); sharing one between
        runs shares its tables.
    comm
        The mesh's communicator (default COMM_WORLD).

    Returns
    -------
    dict
        ``rows`` (final state, owned rows), ``coordinates`` (owned nodes), ``fields`` (macroscopic, owned
        nodes), ``lid_stress`` (P_xy on the lid, mean over its length), ``fluxes`` (every wall's outward
        fluxes), ``number`` (total number per step, the first entry before the first step), ``history``
        (time, r, lid stress after each chunk), ``time``, ``steps``, ``converged``, ``residual``,
        ``stepping``, ``dt``, ``seconds``, and the ``phase`` and ``solver``.
    """
    import time
    from dgkinetic.solver import HALF_DISC_RADIUS, STABILITY_SAFETY, KineticSolver
    start = time.perf_counter()
    species, grid, phase, problem, diag, number, operator = _problem(p, knudsen, operator, comm)
    comm = phase.mesh.comm
    monitor = lambda solver, step, t, X: number.append(diag.invariants(X)["number_Ar"])
    explicit = {"ts_type": "rk", "ts_rk_type": "3bs", "ts_adapt_type": "none"}
    solver = KineticSolver(problem, explicit, monitors=[monitor])
    dt, stepping = solver.stable_step(), "rk"
    if problem.collisions:
        transport_step = STABILITY_SAFETY * HALF_DISC_RADIUS["rk:3bs"] / solver.transport.spectral_radius()
        if dt < STIFF * transport_step:          # stiff collisions: implicit, at the transport's step
            solver = KineticSolver(problem, {"ts_type": "arkimex", "ts_adapt_type": "none"}, monitors=[monitor])
            dt, stepping = solver.stable_step(), "arkimex"
    per_chunk = max(1, math.ceil(p["check_every"] / dt - 1e-9))
    dt = p["check_every"] / per_chunk
    rank_split(comm, solver, operator if problem.collisions else None)
    fields, history, t, converged = march_to_steady(
        solver, grid, species, p, dt, p["t_max"], abs(p["wall_speed"]) or 1.0,
        lambda: (wall_fluxes(solver)[f"wall{LID}_momentum_x"],))
    fluxes = wall_fluxes(solver)
    stepping_seconds = comm.gather(solver.stats["wall_time"], root=0)
    if comm.rank == 0 and comm.size > 1:
        print("  time stepping per rank: " + ", ".join(f"{w:.1f} s" for w in stepping_seconds), flush=True)
    return {"rows": np.array(solver.rows), "coordinates": phase.node_coordinates, "fields": fields,
            "lid_stress": fluxes[f"wall{LID}_momentum_x"], "fluxes": fluxes, "number": np.array(number),
            "history": history, "time": t, "steps": solver.stats["steps"], "converged": converged,
            "residual": residual(solver), "stepping": stepping, "dt": dt, "seconds": time.perf_counter() - start,
            "phase": phase, "solver": solver}


def solve_steady(p: dict, knudsen: float, operator=None, comm=None) -> dict:
    """The cavity's steady state from :class:`~dgkinetic.steady.SteadySolver` (Newton–Krylov, transport
    sweeps per velocity node, moment correction). Every rank holds the whole mesh (COMM_SELF) and the
    collision evaluations of the space nodes are shared over the ranks of ``comm``.

    Returns the dict of :func:`run` with steady-state meanings: ``rows``, ``coordinates`` and ``fields`` of
    this rank's share of the space nodes (so that :func:`node_grid` gathers them once), ``number`` the total
    number before and after, ``history`` (Newton step, residual norm over the initial one), ``steps`` the
    kinetic sweeps (evaluations of transport + collisions), ``newton`` the Newton steps, ``time`` and ``dt``
    NaN; ``vtk`` (phase, all fields) for the VTK file (written by rank 0).
    """
    import time
    from mpi4py import MPI
    from dgkinetic.steady import SteadySolver
    start = time.perf_counter()
    comm = comm or MPI.COMM_WORLD
    species, grid, phase, problem, diag, number, operator = _problem(p, knudsen, operator, MPI.COMM_SELF)
    solver = SteadySolver(problem, comm=comm)
    shares = comm.gather(solver._my_rows.stop - solver._my_rows.start, root=0)
    if comm.rank == 0 and comm.size > 1:
        print("  collisions of " + ", ".join(f"{k} space nodes on rank {r}" for r, k in enumerate(shares))
              + f" (of {solver.n}; transport, sweeps and Newton on every rank)", flush=True)
    norms = []
    solver.snes.setMonitor(lambda snes, its, norm: norms.append((its, norm)))
    solver.solve()
    X = np.array(solver.rows)
    number.append(diag.invariants(X)["number_Ar"])
    fluxes = dict(sorted(solver.transport.wall_fluxes(X).items()))
    out = solver.residual(X)
    mine = solver._my_rows
    fields = macroscopic(X, grid, species)
    history = np.array([(k, nrm / norms[0][1]) for k, nrm in norms])
    return {"rows": X[mine], "coordinates": np.asarray(phase.node_coordinates)[mine],
            "fields": {k: v[mine] for k, v in fields.items()}, "lid_stress": fluxes[f"wall{LID}_momentum_x"],
            "fluxes": fluxes, "number": np.array(number), "history": history, "time": math.nan,
            "steps": solver.stats["sweeps"], "newton": solver.stats["newton_iterations"], "converged": True,
            "residual": float(np.max(np.abs(out)) / np.max(np.abs(X))), "stepping": "steady", "dt": math.nan,
            "seconds": time.perf_counter() - start, "phase": phase, "solver": solver, "vtk": (phase, fields)}


# ---------------------------------------------------------------------- the node grid (figures, HDF5)
def node_grid(comm, coordinates, fields: dict):
    """Gather the nodes of every rank and lay them out on their rectilinear grid.

    On a structured axis-aligned mesh the DG nodes (Gauss points of each cell) form a tensor grid of
    distinct x and y values. Returns (xs, ys, {name: array (len(ys), len(xs), ...)}).
    """
    from dgkinetic.errors import InputError
    xy = np.concatenate(comm.allgather(np.asarray(coordinates)))
    gathered = {k: np.concatenate(comm.allgather(np.asarray(v))) for k, v in fields.items()}
    keys = np.round(xy, 8)
    xs, ys = np.unique(keys[:, 0]), np.unique(keys[:, 1])
    if len(xs) * len(ys) != len(xy):
        raise InputError("the cavity's figures need a structured axis-aligned mesh (its nodes a tensor grid)")
    i, j = np.searchsorted(xs, keys[:, 0]), np.searchsorted(ys, keys[:, 1])
    out = {}
    for k, v in gathered.items():
        a = np.zeros((len(ys), len(xs)) + v.shape[1:])
        a[j, i] = v
        out[k] = a
    return xs, ys, out


def centre_lines(xs, ys, grid_fields: dict, points: int = 41):
    """u_x(x = ½, y) and u_y(x, y = ½) by linear interpolation of the node grid (extrapolated to the walls)."""
    from scipy.interpolate import RegularGridInterpolator
    s = np.linspace(0.0, 1.0, points)
    u = grid_fields["velocity"]
    ux = RegularGridInterpolator((ys, xs), u[:, :, 0], bounds_error=False, fill_value=None)
    uy = RegularGridInterpolator((ys, xs), u[:, :, 1], bounds_error=False, fill_value=None)
    return s, ux(np.stack([s, np.full_like(s, 0.5)], axis=1)), uy(np.stack([np.full_like(s, 0.5), s], axis=1))


def counter_gradient(xs, ys, grid_fields: dict) -> float:
    """Share of the nodes where the heat flows from cold to hot, q·∇T > 0 (∇T by finite differences on
    the node grid)."""
    dT_dy, dT_dx = np.gradient(grid_fields["temperature"], ys, xs)
    q = grid_fields["heat_flux"]
    return float(np.mean(q[:, :, 0] * dT_dx + q[:, :, 1] * dT_dy > 0))


# ---------------------------------------------------------------------- the demo
def main(**overrides) -> dict:
    from mpi4py import MPI
    from dgkinetic.reference.channel_flow import free_molecular_shear_stress
    p = parameters(overrides)
    comm = MPI.COMM_WORLD
    U = p["wall_speed"]
    P_fm = free_molecular_shear_stress(1.0, U, 1.0, 1.0)
    operator = None
    runs = {}
    for kn in p["knudsen"]:
        if math.isfinite(kn) and operator is None:
            operator = collision_operator(gas(p)[2], p)
        r = (solve_steady if p["method"] == "steady" else run)(p, kn, operator)
        r["stress_ratio"] = r["lid_stress"] / P_fm if U else math.nan
        flux_x = [r["fluxes"][f"wall{w}_momentum_x"] for w in (LEFT, RIGHT, BOTTOM, LID)]
        r["momentum_balance"] = abs(sum(flux_x)) / max(abs(r["lid_stress"]), 1e-300)
        r["mass_drift"] = float(np.max(np.abs(r["number"] - r["number"][0])) / r["number"][0])
        xs, ys, r["grid_fields"] = node_grid(comm, r["coordinates"], r["fields"])
        r["counter_gradient"] = counter_gradient(xs, ys, r["grid_fields"])
        runs[kn] = r
        if comm.rank == 0:
            how = (f"steady after {r['newton']} Newton steps, {r['steps']} kinetic sweeps" if r["stepping"] == "steady"
                   else f"{'steady' if r['converged'] else 'NOT steady'} at t = {r['time']:g} after {r['steps']} "
                   f"{r['stepping']} steps of {r['dt']:.4g} (r = {r['history'][-1, 1]:.1e})")
            print(f"{label(kn):>14}: P_xy(lid)/P_FM = {r['stress_ratio']:.4f} (P_xy = {r['lid_stress']:.5f}); "
                  f"{how}; residual "
                  f"{r['residual']:.1e}; x-momentum balance {r['momentum_balance']:.1e}; mass drift "
                  f"{r['mass_drift']:.0e}; heat flux up the temperature gradient at {r['counter_gradient']:.0%} "
                  f"of the nodes; {r['seconds']:.1f} s", flush=True)
    result = {"knudsen": np.array(p["knudsen"]), "x": xs, "y": ys, "runs": runs,
              "stress_ratio": np.array([runs[k]["stress_ratio"] for k in p["knudsen"]]),
              "free_molecular_stress": P_fm, "parameters": p}
    result["output"] = _write(result, p, comm)
    return result


def _write(result: dict, p: dict, comm) -> str:
    from dgkinetic.output import write_vtk_fields
    out = output_dir("cavity", p)
    if p["vtk"]:
        for kn, r in result["runs"].items():
            phase, fields = r.get("vtk", (r["phase"], r["fields"]))
            if phase.mesh.comm.size == comm.size or comm.rank == 0:     # a COMM_SELF mesh: rank 0 writes
                write_vtk_fields(os.path.join(out, f"cavity_{label(kn)}.pvd"), phase, fields)
    if comm.rank == 0:
        from dgkinetic.output import write_arrays
        data = {"x": result["x"], "y": result["y"], "knudsen": result["knudsen"],
                "stress_ratio": result["stress_ratio"]}
        attrs = {"wall_speed": p["wall_speed"], "free_molecular_stress": result["free_molecular_stress"],
                 "degree": p["degree"], "velocity_cells": p["velocity_cells"],
                 "velocity_degree": p["velocity_degree"], "extent": p["extent"], "tolerance": p["tolerance"],
                 "check_every": p["check_every"]}
        for kn, r in result["runs"].items():
            g = label(kn)
            for name, value in r["grid_fields"].items():
                data[f"{g}/{name}"] = value
            data[f"{g}/history"] = r["history"]
            data[f"{g}/number"] = r["number"]
            for key in ("lid_stress", "stress_ratio", "time", "steps", "residual", "momentum_balance",
                        "mass_drift", "counter_gradient", "dt", "seconds"):
                attrs[f"{g}/{key}"] = r[key]
            attrs[f"{g}/converged"] = int(r["converged"])
            attrs[f"{g}/stepping"] = r["stepping"]
        write_arrays(os.path.join(out, "cavity.h5"), data, attrs)
        if p["plot"]:
            _plot(result, p, os.path.join(out, "cavity.png"))
    comm.Barrier()
    return out


def _plot(result: dict, p: dict, path: str) -> None:
    from dgkinetic.plotting import save_figure, subplots
    xs, ys, U = result["x"], result["y"], p["wall_speed"]
    runs = result["runs"]
    scale = abs(U) or 1.0
    fig, ax = subplots(len(runs), 3, figsize=(14, 4.2 * len(runs)))
    ax = np.asarray(ax).reshape(len(runs), 3)
    xu = np.linspace(xs[0], xs[-1], 4 * len(xs))
    yu = np.linspace(ys[0], ys[-1], 4 * len(ys))
    from scipy.interpolate import RegularGridInterpolator
    for row, (kn, r) in zip(ax, runs.items()):
        g = r["grid_fields"]
        u = g["velocity"]
        speed = np.hypot(u[:, :, 0], u[:, :, 1]) / scale
        im = row[0].pcolormesh(xs, ys, speed, shading="nearest", cmap="viridis")
        fig.colorbar(im, ax=row[0], label="|u| / U_w")
        Y, X = np.meshgrid(yu, xu, indexing="ij")
        pts = np.stack([Y.ravel(), X.ravel()], axis=1)
        uxi = RegularGridInterpolator((ys, xs), u[:, :, 0])(pts).reshape(Y.shape)
        uyi = RegularGridInterpolator((ys, xs), u[:, :, 1])(pts).reshape(Y.shape)
        if np.any(np.hypot(uxi, uyi) > 0):
            row[0].streamplot(xu, yu, uxi, uyi, color="w", density=1.0, linewidth=0.7)
        name = "free flight" if math.isinf(kn) else f"Kn = {kn:g}"
        row[0].set_title(f"{name}: speed, streamlines; lid P_xy/P_FM = {r['stress_ratio']:.3f}", fontsize=8)
        im = row[1].pcolormesh(xs, ys, g["temperature"], shading="nearest", cmap="inferno")
        fig.colorbar(im, ax=row[1], label="T / T_w")
        q = g["heat_flux"]
        row[1].quiver(*np.meshgrid(xs, ys), q[:, :, 0], q[:, :, 1], color="c", width=0.004)
        row[1].set_title(f"{name}: temperature, heat flux", fontsize=8)
        for a in row[:2]:
            a.set_xlim(0, 1)
            a.set_ylim(0, 1)
            a.set_aspect("equal")
            a.set_xlabel("x / L")
            a.set_ylabel("y / L")
        s, ux, uy = centre_lines(xs, ys, g)
        row[2].plot(ux / scale, s, ".-", label="u_x / U_w at x = ½ (against y)")
        row[2].plot(s, uy / scale, ".-", label="u_y / U_w at y = ½ (against x)")
        row[2].axhline(0, color="k", lw=0.5)
        row[2].axvline(0, color="k", lw=0.5)
        row[2].set_xlabel("u / U_w  or  x / L")
        row[2].set_ylabel("y / L  or  u / U_w")
        row[2].set_title(f"{name}: centre-line velocities", fontsize=8)
        row[2].legend(fontsize=7)
    fig.suptitle(f"Lid-driven cavity, argon as hard spheres (2D × 3V), U_w = {U:g} √(kT_w/m), diffuse walls at T_w")
    save_figure(fig, path, dpi=90)


if __name__ == "__main__":
    run_demo(main, DEFAULTS, __doc__)
