"""Rarefied flow of hard-sphere argon past a cylinder, 2D space × 3V: the drag against exact free-molecular theory.

The channel [0, 4] × [0, 2] minus the cylinder of radius R = 0.25 at (1.5, 1) (``meshes/cylinder_channel.msh``:
160 quadrilaterals; the cylinder is the inscribed regular 16-gon). Every outer boundary (ids 1 inflow x = 0,
2 outflow x = 4, 3 top and bottom) lets in the free stream — the discrete Maxwellian of density n∞ = 1,
temperature T∞ = 1 and velocity (U, 0, 0) — and lets out what reaches it; the cylinder (id 5) is a
diffuse wall at T_w = 1. Units: m = 1, k T∞ = 1, speeds in √(kT∞/m) (U = 1: Mach √(3/5) = 0.77, speed
ratio S = U/√(2kT∞/m) = 0.707), lengths as the mesh's. Kn = λ∞/D, λ∞ = 1/(√2 π d² n∞) the free stream's
hard-sphere mean free path, D = 2R = 0.5 the cylinder's diameter (Kn = 1: λ∞ = 0.5, a quarter of the
channel's height).

**The exact check (free flight).** Without collisions a molecule that reaches a facet of the convex
16-gon came straight from the outer boundary: the gas arriving at every facet is the free stream, and
the diffuse facet re-emits its wall Maxwellian with the number flux it receives. So the force on each
flat facet (length L_f, unit normal n into the body) is known exactly — on the solver's own velocity
grid too (:func:`discrete_free_molecular_force`, with the nodes v_k, weights W_k, the discrete free
stream f∞,k and the wall shape M_k = exp(−m|v_k|²/(2kT_w)) the solver uses):

    F_f = L_f [ Σ_{v_k·n>0} W_k (v_k·n) f∞,k m v_k  +  σ Σ_{v_k·n<0} W_k (v_k·n) M_k m v_k ],
    σ = −Σ_{v_k·n>0} W_k (v_k·n) f∞,k / Σ_{v_k·n<0} W_k (v_k·n) M_k.

The DG drag (``wall5_momentum_x`` of :meth:`Transport.wall_fluxes`, the momentum the gas carries into
the body) equals it to round-off (2e-16), at every time from the impulsive start on, on DG0, DG1 and the
refined mesh alike: the upwind DG's smearing never carries what one facet re-emits to another facet of the
convex body (for a velocity that leaves facet B and enters facet A every upwind path of cells from B to A
would have to turn against v), so each facet receives exactly the discrete free stream. What the space
discretisation smears is the flow field: the shadow each facet casts, velocity by velocity. Its exact
free-flight state is known too (:func:`exact_field`: per velocity node the backward ray either meets a
facet, which emits its Maxwellian, or comes from the free stream), and the L1 distance ∫∫|f_h − f| falls
under refinement at the rate of first-order upwinding on discontinuous data, h^{1/2}: at t = 1 after the
impulsive start 0.685 (DG0, 160 cells), 0.519 (DG0, 640 cells: ratio 1.32, order 0.40), 0.260 (DG1,
160 cells); at the steady state 0.887 and 0.665 (DG0; ∫|n_h − n| 0.255 and 0.213).
The continuous closed form of the same sum (:func:`flat_plate_force`, the flat plate in free-molecular flow
with diffuse re-emission: Schaaf & Chambré; Bird, *Molecular Gas Dynamics* (1994) §7.4) over the 16 facets
then measures the velocity grid's error, and Bird's closed form for the circular cylinder
(:func:`cylinder_drag_coefficient`) the polygon's.

Steady states by explicit RK3 at the stable step, impulsively started from the free stream everywhere, in
chunks of ``check_every`` time units until the macroscopic fields change by less than ``tolerance`` per
unit time (the cavity demo's rule, :func:`cavity.change_rate`, velocities over U). Kn = 1 starts from the
free-flight steady state. (In free flight the drag is exact from t = 0 on, below; the fields take
t ≈ 9 to settle, the wake of the slowest molecules.) Mesh refinement: ``--refine k`` splits every cell into 4^k
(``firedrake.MeshHierarchy``: the new boundary vertices lie on the polygon's sides, so the body is the
same 16-gon and the exact drag the same), ``--degree`` the DG degree.

    python demos/obstacle/obstacle.py                         # free flight, Kn = 1 to the stopping rule (long)
    python demos/obstacle/obstacle.py --t_max_collisions 2.5 --direction_degree 5    # 3.8 min (below)
    python demos/obstacle/obstacle.py --knudsen inf --refine 1 --degree 1

Writes output/obstacle/{obstacle.h5, obstacle.png, obstacle_<Kn>.pvd} (``demos/obstacle/obstacle.png`` is
the figure of the second command). Default grids: DG0 on the committed mesh (160 space nodes), 4 × Q2
velocity cells per direction at ±4.5 about (U/2, 0, 0) (12³ nodes), 13 Carleman directions (Lebedev 7).

Measured (one core of the project's 2-core VM, the other busy; U = 1, T_w = 1):

| | drag | / exact discrete |
|---|---|---|
| free flight, DG (DG0, DG1, refined mesh) | 1.524887 | 1 − 2e-16 |
| exact, this velocity grid (4 × Q2) | 1.524887 | 1 |
| continuous flat-plate sum over the 16-gon | 1.535143 | (grid −0.67 %; 6 × Q2 −0.10 %, 8 × Q2 +0.005 %) |
| continuous, the circle (Bird) | 1.545051 | (the 16-gon 0.64 % below) |
| Kn = 1 (λ∞ = D), t = 2.5 from the free-flight state | 1.2734 | 0.835 |

Free flight meets the stopping rule (1e-3) at t = 6 (396 RK3 steps of 0.0152, 8 s; lift 1.7e-11, the
mesh's vertices are mirror symmetric to 1.6e-9). Kn = 1 costs 1.1 s per RK3 step (7 Carleman directions, Lebedev 5);
its drag after each half time unit, 1.2706, 1.2703, 1.2745, 1.2743, 1.2734, has settled to about 0.3 %
while the fields still change (r = 7e-3 at t = 2.5, not yet the stopping rule's 1e-3): collisions in the
gas piled up in front of the body shield it, 16 % below free flight. This channel is only 4 D high and
its inflow lies 3 D upstream, and at Kn = 1 (λ∞ = D) the outer boundaries' imposed free stream is felt:
a figure for this geometry, not for the unbounded cylinder.
"""
import importlib.util
import math
import os

import numpy as np

from dgkinetic.demo_support import output_dir, run_demo

HERE = os.path.dirname(os.path.abspath(__file__))
MESH = os.path.normpath(os.path.join(HERE, "..", "..", "meshes", "cylinder_channel.msh"))
INFLOW, OUTFLOW, SIDES, CYLINDER = 1, 2, 3, 5
CENTRE, RADIUS = (1.5, 1.0), 0.25


def _cavity():
    """The cavity demo's module (its stepping helpers are shared)."""
    path = os.path.join(HERE, "..", "cavity", "cavity.py")
    spec = importlib.util.spec_from_file_location("_cavity_demo", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cavity = _cavity()
label, macroscopic, residual, wall_fluxes, collision_operator = (
    cavity.label, cavity.macroscopic, cavity.residual, cavity.wall_fluxes, cavity.collision_operator)

DEFAULTS = {"knudsen": [math.inf, 1.0], "speed": 1.0, "wall_temperature": 1.0, "refine": 0, "degree": 0,
            "velocity_cells": 4, "velocity_degree": 2, "extent": 4.5, "centre": math.nan,
            "direction_degree": 7, "tolerance": 1e-3, "check_every": 0.5, "t_max": 30.0, "t_max_collisions": 30.0,
            "vtk": True,
            "plot": True, "output": ""}


def parameters(overrides: dict) -> dict:
    """DEFAULTS with the overrides, checked (InputError names what is wrong)."""
    from dgkinetic.demo_support import check_parameters
    from dgkinetic.errors import InputError
    p = dict(DEFAULTS, **overrides)
    check_parameters(p, "knudsen_or_free_flight", "wall_temperature", "tolerance", "check_every", "t_max",
                     "t_max_collisions")
    p["knudsen"] = [float(k) for k in p["knudsen"]]
    if not (math.isfinite(p["speed"]) and 0 <= p["speed"] <= 2.0):
        raise InputError(f"speed must be in [0, 2] (units of √(kT/m)), got {p['speed']}")
    if int(p["refine"]) != p["refine"] or not 0 <= p["refine"] <= 3:
        raise InputError(f"refine must be 0, 1, 2 or 3, got {p['refine']}")
    return p


# ---------------------------------------------------------------------- the gas and the channel
def gas(p):
    """(species, velocity grid, mixture): argon as hard spheres of diameter 1, mass 1, 3V; the grid is
    centred at (``centre``, 0, 0), by default halfway between the wall's Maxwellian and the free stream."""
    from dgkinetic import Mixture, Species, VelocityGrid
    ar = Species("Ar", mass=1.0, diameter=1.0)
    cx = p["speed"] / 2 if math.isnan(p["centre"]) else p["centre"]
    grid = VelocityGrid(3, p["velocity_cells"], p["velocity_degree"], extent=p["extent"], centre=(cx, 0.0, 0.0))
    return ar, grid, Mixture([ar], [grid])


def mesh(p, comm=None):
    """``meshes/cylinder_channel.msh``, each cell split into 4^refine (MeshHierarchy)."""
    import firedrake as fd
    from mpi4py import MPI
    base = fd.Mesh(MESH, comm=comm or MPI.COMM_WORLD)
    return fd.MeshHierarchy(base, int(p["refine"]))[-1] if p["refine"] else base


def free_stream(grid, species, speed: float) -> np.ndarray:
    """The discrete Maxwellian of the free stream (n = 1, T = 1, u = (U, 0, 0)), as the inflow walls let in."""
    from dgkinetic.equilibrium import equilibrium
    return equilibrium(grid, species, 1.0, (speed, 0.0, 0.0), 1.0)


def walls(speed: float, wall_temperature: float = 1.0, inflow_temperature: float = 1.0) -> dict:
    """The free stream enters through ids 1, 2, 3; the cylinder (5) is diffuse at T_w."""
    from dgkinetic.walls import Diffuse, Inflow
    inflow = Inflow(density=(1.0,), velocity=(speed, 0.0, 0.0), temperature=inflow_temperature)
    return {INFLOW: inflow, OUTFLOW: inflow, SIDES: inflow, CYLINDER: Diffuse(wall_temperature)}


def facets(comm=None):
    """The cylinder's sides: (midpoints (16, 2), unit normals into the body (16, 2), lengths (16,)),
    from the vertices of the committed mesh that lie on the circle, in angular order."""
    import firedrake as fd
    from mpi4py import MPI
    m = fd.Mesh(MESH, comm=comm or MPI.COMM_SELF)
    xy = np.asarray(m.coordinates.dat.data_ro_with_halos).reshape(-1, 2)
    d = xy - np.array(CENTRE)
    on = np.abs(np.hypot(d[:, 0], d[:, 1]) - RADIUS) < 1e-9
    ang = np.arctan2(d[on, 1], d[on, 0])
    order = np.argsort(ang)
    keep = np.concatenate([[True], np.diff(ang[order]) > 1e-9])     # each vertex once
    v = xy[on][order][keep]
    a, b = v, np.roll(v, -1, axis=0)
    mid = 0.5 * (a + b)
    length = np.hypot(*(b - a).T)
    inward = np.array(CENTRE) - mid
    normal = inward / np.hypot(*inward.T)[:, None]
    return mid, normal, length


# ---------------------------------------------------------------------- exact free-molecular forces
def discrete_free_molecular_force(grid, species, f_inf, wall_temperature, normals, lengths) -> np.ndarray:
    """The exact free-flight force (3 components) on flat diffuse facets, on the discrete velocity grid.

    Each facet (unit ``normals`` into the body, in the plane; ``lengths``) receives the free stream
    ``f_inf`` at the nodes with v·n > 0 and re-emits the wall shape exp(−m|v|²/(2kT_w)) at the nodes with
    v·n < 0, scaled to return the number it receives — exactly what the transport's diffuse wall does
    node by node. Returns the sum over the facets of L_f Σ_k W_k (v_k·n) f̂_k m v_k (module docstring).
    """
    v, W, m = grid.nodes, grid.weights, species.mass
    shape = np.exp(-m * np.sum(v ** 2, axis=1) / (2.0 * wall_temperature))
    force = np.zeros(v.shape[1])
    for n, L in zip(np.asarray(normals, dtype=float), lengths):
        vn = v[:, :len(n)] @ n
        pos, neg = np.maximum(vn, 0.0), np.minimum(vn, 0.0)
        sigma = -(W * pos) @ f_inf / ((W * neg) @ shape)
        force += L * m * (((W * pos * f_inf) + sigma * (W * neg * shape)) @ v)
    return force


def facet_emission(grid, species, f_inf, wall_temperature, normals) -> np.ndarray:
    """σ_f of every facet: the amplitude of its re-emitted wall shape exp(−m|v|²/(2kT_w)) in free flight."""
    v, W = grid.nodes, grid.weights
    shape = np.exp(-species.mass * np.sum(v ** 2, axis=1) / (2.0 * wall_temperature))
    vn = v[:, :2] @ np.asarray(normals, dtype=float).T                      # (n_v, n_facets)
    return -(W * f_inf) @ np.maximum(vn, 0.0) / ((W * shape) @ np.minimum(vn, 0.0))


def exact_field(points, grid, species, f_inf, wall_temperature, facets_=None, time=math.inf) -> np.ndarray:
    """The exact free-flight state at ``points`` (n, 2) on the velocity grid, rows (n, n_v): the steady state,
    or at ``time`` after the free stream filled the whole channel (the runs' initial state).

    Velocity node by velocity node the backward ray x − t v (t > 0) either meets the body — on the facet
    whose outer side faces it, which emits σ_f exp(−m|v|²/(2kT_w)) (:func:`facet_emission`), less than
    ``time`` ago (t < time) — or not, and then the molecule came from the free stream: f∞. (σ_f is constant
    in time: every facet receives the free stream from the start.) (Straight rays, a convex body that sees only the free
    stream: no other source.) The DG solution converges to it under mesh refinement.
    """
    mid, normals, lengths = facets_ if facets_ is not None else facets()
    v = grid.nodes
    shape = np.exp(-species.mass * np.sum(v ** 2, axis=1) / (2.0 * wall_temperature))
    sigma = facet_emission(grid, species, f_inf, wall_temperature, normals)
    x = np.asarray(points, dtype=float)
    out = np.broadcast_to(f_inf, (len(x), len(v))).copy()
    d = v[:, :2]
    for m_f, n_f, L_f, s_f in zip(mid, normals, lengths, sigma):
        t_f = np.array([-n_f[1], n_f[0]])                                   # along the facet
        emits = d @ n_f < 0                                                 # leaving the facet's outer side
        dn = d[emits] @ n_f                                                 # (k,) < 0
        # x − t v on the facet's line: (x − t v − m)·n = 0  →  t = (x − m)·n / (v·n)
        t = ((x - m_f) @ n_f)[:, None] / dn[None, :]
        s = ((x - m_f) @ t_f)[:, None] - t * (d[emits] @ t_f)[None, :]
        hit = (t > 0) & (t < time) & (np.abs(s) <= L_f / 2)
        cols = np.flatnonzero(emits)
        block = out[:, cols]
        block[hit] = (s_f * shape[cols])[np.nonzero(hit)[1]]
        out[:, cols] = block
    return out


def flat_plate_force(normal, speed, temperature=1.0, wall_temperature=1.0, density=1.0, mass=1.0) -> np.ndarray:
    """Force per unit area on one side of a flat diffuse plate in a free-molecular stream (continuous).

    The free stream (n, u = (U, 0[, 0]), T) arrives on the side whose normal ``normal`` points into the
    plate; with β = √(m/(2kT)), s = β u·n (the normal speed ratio, either sign) and c_w = √(πkT_w/(2m)):

        number flux   N   = n/(2β√π) [e^{−s²} + √π s (1 + erf s)],
        normal momentum in  p_i = n kT [s e^{−s²}/√π + (½ + s²)(1 + erf s)],
        re-emitted (a half-range Maxwellian at T_w with flux N)  p_r = m N c_w,
        tangential   τ = m N (u − (u·n) n),

    and F = (p_i + p_r) n + τ. (Derived from the drifting Maxwellian's half-range moments; Bird (1994)
    §7.4, Schaaf & Chambré (1958).)
    """
    from scipy.special import erf
    n = np.zeros(3)
    n[:len(normal)] = normal
    u = np.array([speed, 0.0, 0.0])
    beta = math.sqrt(mass / (2.0 * temperature))
    s = beta * float(u @ n)
    N = density / (2.0 * beta * math.sqrt(math.pi)) * (math.exp(-s * s) + math.sqrt(math.pi) * s * (1 + erf(s)))
    p_i = density * temperature * (s * math.exp(-s * s) / math.sqrt(math.pi) + (0.5 + s * s) * (1 + erf(s)))
    p_r = mass * N * math.sqrt(math.pi * wall_temperature / (2.0 * mass))
    return (p_i + p_r) * n + mass * N * (u - (u @ n) * n)


def polygon_force(normals, lengths, speed, temperature=1.0, wall_temperature=1.0) -> np.ndarray:
    """The continuous free-molecular force on the polygon: :func:`flat_plate_force` summed over its sides."""
    return sum(L * flat_plate_force(n, speed, temperature, wall_temperature) for n, L in zip(normals, lengths))


def cylinder_drag_coefficient(speed, temperature=1.0, wall_temperature=1.0, mass=1.0) -> float:
    """C_D = D/(½ ρ U² 2R) of the circular cylinder in free-molecular flow, diffuse re-emission (Bird 1994, §7.4):

        C_D = √π e^{−s²/2}/s [(s² + 3/2) I₀(s²/2) + (s² + ½) I₁(s²/2)] + π^{3/2}/(4s) √(T_w/T),

    s = U/√(2kT/m). (Checked against :func:`polygon_force` on a 4096-gon.)
    """
    from scipy.special import ive
    s = speed / math.sqrt(2.0 * temperature / mass)
    h = s * s / 2.0
    # e^{−h} I_ν(h) = ive(ν, h)
    return (math.sqrt(math.pi) / s * ((s * s + 1.5) * ive(0, h) + (s * s + 0.5) * ive(1, h))
            + math.pi ** 1.5 / (4 * s) * math.sqrt(wall_temperature / temperature))


def exact_drag(p, comm=None) -> dict:
    """The free-molecular drag (x-force) and lift on the body: the discrete exact value (this velocity grid),
    the continuous one on the 16-gon and on the circle."""
    species, grid, _ = gas(p)
    _, normals, lengths = facets(comm)
    U, Tw = p["speed"], p["wall_temperature"]
    F = discrete_free_molecular_force(grid, species, free_stream(grid, species, U), Tw, normals, lengths)
    out = {"discrete": float(F[0]), "discrete_lift": float(F[1]),
           "polygon": float(polygon_force(normals, lengths, U, 1.0, Tw)[0])}
    out["circle"] = (cylinder_drag_coefficient(U, 1.0, Tw) * 0.5 * U * U * 2 * RADIUS) if U > 0 else 0.0
    return out


# ---------------------------------------------------------------------- one run
def run(p: dict, knudsen: float, operator=None, comm=None, initial=None, walls_=None) -> dict:
    """One run to its steady state (module docstring: the stopping rule).

    Parameters
    ----------
    p
        The demo's parameters (:func:`parameters`).
    knudsen
        Kn = λ∞/D (``inf``: no collisions).
    operator
        The collision operator (built if None and Kn is finite).
    comm
        The mesh's communicator (default COMM_WORLD).
    initial
        Owned rows of the initial state (default: the free stream everywhere).
    walls_
        The boundary conditions (default :func:`walls` of ``p``).

    Returns
    -------
    dict
        ``rows``, ``coordinates``, ``fields``, ``drag``, ``lift`` (force on the body, summed over the
        ranks), ``fluxes``, ``history`` (time, the fields' change rate, drag, lift after each chunk), ``time``,
        ``steps``, ``converged``, ``residual``, ``dt``, ``seconds``, ``phase``, ``solver``.
    """
    import time
    from dgkinetic import PhaseSpace
    from dgkinetic.reference.channel_flow import rate_for_knudsen
    from dgkinetic.solver import KineticProblem, KineticSolver
    start = time.perf_counter()
    species, grid, mix = gas(p)
    phase = PhaseSpace(mesh(p, comm), mix, degree=p["degree"])
    f0 = phase.function("f")
    f0.dat.data_wo[...] = (free_stream(grid, species, p["speed"])[None, :] if initial is None else initial)
    collisions = []
    if math.isfinite(knudsen):
        operator = operator or collision_operator(mix, p)
        collisions = [(operator, rate_for_knudsen(knudsen, 2 * RADIUS, 1.0, species.diameter, 3))]
    problem = KineticProblem(phase, f0, walls=walls_ or walls(p["speed"], p["wall_temperature"]),
                             collisions=collisions)
    solver = KineticSolver(problem, {"ts_type": "rk", "ts_rk_type": "3bs", "ts_adapt_type": "none"})
    dt = solver.stable_step()
    per_chunk = max(1, math.ceil(p["check_every"] / dt - 1e-9))
    dt = p["check_every"] / per_chunk
    fields, history, t, converged = cavity.march_to_steady(
        solver, grid, species, p, dt, p["t_max"], p["speed"] or 1.0,
        lambda: (lambda F: (F[f"wall{CYLINDER}_momentum_x"], F[f"wall{CYLINDER}_momentum_y"]))(wall_fluxes(solver)))
    fluxes = wall_fluxes(solver)
    return {"rows": np.array(solver.rows), "coordinates": phase.node_coordinates, "fields": fields,
            "drag": fluxes[f"wall{CYLINDER}_momentum_x"], "lift": fluxes[f"wall{CYLINDER}_momentum_y"],
            "fluxes": fluxes, "history": history, "time": t, "steps": solver.stats["steps"],
            "converged": converged, "residual": residual(solver), "dt": dt,
            "seconds": time.perf_counter() - start, "phase": phase, "solver": solver}


def field_error(r, grid, species, p, facets_=None, time=math.inf) -> dict:
    """L1 distance of a free-flight run's state to :func:`exact_field`: ∫∫|f_h − f|, and ∫|n_h − n| (lumped
    quadrature at the DG nodes, summed over the ranks)."""
    from mpi4py import MPI
    exact = exact_field(r["coordinates"], grid, species, free_stream(grid, species, p["speed"]),
                        p["wall_temperature"], facets_, time)
    vol = r["phase"].node_volumes
    comm = r["phase"].mesh.comm
    diff = r["rows"] - exact
    return {"f": comm.allreduce(float(vol @ (np.abs(diff) @ grid.weights)), op=MPI.SUM),
            "density": comm.allreduce(float(vol @ np.abs(diff @ grid.weights)), op=MPI.SUM)}


# ---------------------------------------------------------------------- the demo
def main(**overrides) -> dict:
    from mpi4py import MPI
    p = parameters(overrides)
    comm = MPI.COMM_WORLD
    species, grid, mix = gas(p)
    fac = facets()
    exact = exact_drag(p)
    if comm.rank == 0:
        print(f"free-molecular drag on the 16-gon: {exact['discrete']:.6f} on this velocity grid (exact), "
              f"{exact['polygon']:.6f} continuous ({exact['discrete'] / exact['polygon'] - 1:+.2%}: the velocity "
              f"grid's error); {exact['circle']:.6f} on the circle", flush=True)
    operator, runs, start = None, {}, None
    for kn in sorted(p["knudsen"], reverse=True):                 # free flight first: the start of the others
        if math.isfinite(kn) and operator is None:
            operator = collision_operator(mix, p)
        r = run(p if math.isinf(kn) else dict(p, t_max=p["t_max_collisions"]), kn, operator, initial=start)
        if math.isinf(kn):
            start = r["rows"]
            r["error"] = field_error(r, grid, species, p, fac)
        r["drag_ratio"] = r["drag"] / exact["discrete"] if p["speed"] else math.nan
        runs[kn] = r
        if comm.rank == 0:
            extra = (f"; ∫∫|f − f_exact| = {r['error']['f']:.3e}, ∫|n − n_exact| = {r['error']['density']:.3e}"
                     if "error" in r else "")
            print(f"{label(kn):>14}: drag {r['drag']:.6f} = {r['drag_ratio']:.6f} × free-molecular (discrete), "
                  f"lift {r['lift']:.1e}; {'steady' if r['converged'] else 'NOT steady'} at t = {r['time']:g} "
                  f"after {r['steps']} RK3 steps of {r['dt']:.4g}; residual {r['residual']:.1e}{extra}; "
                  f"{r['seconds']:.1f} s", flush=True)
    result = {"knudsen": np.array(sorted(p["knudsen"], reverse=True)), "runs": runs, "exact": exact,
              "drag": np.array([runs[k]["drag"] for k in sorted(p["knudsen"], reverse=True)]), "parameters": p}
    result["output"] = _write(result, p, comm)
    return result


def _write(result: dict, p: dict, comm) -> str:
    from dgkinetic.output import write_arrays, write_vtk_fields
    out = output_dir("obstacle", p)
    gathered = {}
    for kn, r in result["runs"].items():
        xy = np.concatenate(comm.allgather(np.asarray(r["coordinates"])))
        fields = {k: np.concatenate(comm.allgather(np.asarray(v))) for k, v in r["fields"].items()}
        gathered[kn] = (xy, fields)
        if p["vtk"]:
            write_vtk_fields(os.path.join(out, f"obstacle_{label(kn)}.pvd"), r["phase"], r["fields"])
    if comm.rank == 0:
        data = {"knudsen": result["knudsen"], "drag": result["drag"]}
        attrs = {k: v for k, v in p.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        attrs.update({f"exact_drag_{k}": v for k, v in result["exact"].items()})
        for kn, r in result["runs"].items():
            g = label(kn)
            xy, fields = gathered[kn]
            data[f"{g}/coordinates"] = xy
            for name, value in fields.items():
                data[f"{g}/{name}"] = value
            data[f"{g}/history"] = r["history"]
            for key in ("drag", "lift", "time", "steps", "residual", "dt", "seconds", "drag_ratio"):
                attrs[f"{g}/{key}"] = r[key]
            attrs[f"{g}/converged"] = int(r["converged"])
        write_arrays(os.path.join(out, "obstacle.h5"), data, attrs)
        if p["plot"]:
            _plot(result, gathered, p, os.path.join(out, "obstacle.png"))
    comm.Barrier()
    return out


def _plot(result: dict, gathered: dict, p: dict, path: str) -> None:
    from matplotlib.patches import Polygon
    from dgkinetic.plotting import save_figure, subplots
    runs = result["runs"]
    fig, ax = subplots(len(runs), 2, figsize=(13, 3.6 * len(runs)))
    ax = np.asarray(ax).reshape(len(runs), 2)
    mid, normals, lengths = facets()
    tang = np.stack([-normals[:, 1], normals[:, 0]], axis=1)
    verts = mid - tang * lengths[:, None] / 2
    for row, (kn, r) in zip(ax, runs.items()):
        xy, g = gathered[kn]
        name = "free flight" if math.isinf(kn) else f"Kn = {kn:g}"
        for a, value, title, cmap in ((row[0], g["density"], "density n/n∞", "viridis"),
                                      (row[1], g["temperature"], "temperature T/T∞", "inferno")):
            im = a.tricontourf(xy[:, 0], xy[:, 1], value, 24, cmap=cmap)
            fig.colorbar(im, ax=a)
            a.add_patch(Polygon(verts, closed=True, color="0.6"))
            a.set_aspect("equal")
            a.set_xlim(0, 4)
            a.set_ylim(0, 2)
            a.set_title(f"{name}: {title}; drag {r['drag']:.4f} "
                        f"({r['drag_ratio']:.3f} × free-molecular)", fontsize=8)
        u = g["velocity"]
        row[0].quiver(xy[::3, 0], xy[::3, 1], u[::3, 0], u[::3, 1], color="w", width=0.002)
    fig.suptitle(f"Hard-sphere argon past a cylinder (2D × 3V), U = {p['speed']:g} √(kT∞/m), diffuse wall at "
                 f"T_w = {p['wall_temperature']:g}; exact free-molecular drag {result['exact']['discrete']:.4f}")
    save_figure(fig, path, dpi=90)


if __name__ == "__main__":
    run_demo(main, DEFAULTS, __doc__)
