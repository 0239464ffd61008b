"""Build the Python objects a case file describes: mesh, mixture, collision operators, initial moments."""
from __future__ import annotations


import numpy as np
from mpi4py import MPI

import firedrake as fd
from dgkinetic.case import Case
from dgkinetic.errors import InputError
from dgkinetic.mixture import Mixture
from dgkinetic.species import Species
from dgkinetic.velocity import VelocityGrid

__all__ = ["build_mesh", "build_mixture", "build_collisions", "initial_moments", "grid_descriptors",
           "mesh_length", "MESH_NAME"]

MESH_NAME = "dgkinetic_space"


def build_mesh(spec: dict, comm=MPI.COMM_WORLD):
    """Firedrake mesh of a [mesh] table (boundary ids: 1 left, 2 right, 3 bottom, 4 top)."""
    kind = spec["kind"]
    kw = {"name": MESH_NAME, "comm": comm}
    if kind == "interval":
        n, L = spec["cells"], spec["length"]
        return fd.PeriodicIntervalMesh(n, L, **kw) if spec["periodic"] else fd.IntervalMesh(n, L, **kw)
    if kind == "rectangle":
        (nx, ny), (Lx, Ly) = spec["cells"], spec["length"]
        if spec["periodic"]:
            return fd.PeriodicRectangleMesh(nx, ny, Lx, Ly, quadrilateral=spec["quadrilateral"], **kw)
        return fd.RectangleMesh(nx, ny, Lx, Ly, quadrilateral=spec["quadrilateral"], **kw)
    try:
        mesh = fd.Mesh(spec["path"], **kw)
    except Exception as e:          # PETSc's reader raises assorted errors for a bad file
        raise InputError(f"[mesh] path: cannot read mesh '{spec['path']}': {str(e).splitlines()[0][:200]}") from None
    return mesh


def build_mixture(case: Case) -> Mixture:
    vel = case.velocity
    species = [Species(**s) for s in case.species]
    grids = [VelocityGrid(vel["dim"], vel["cells"], vel["degree"], extent=vel["extent"],
                          scale=s.thermal_speed(vel["reference_temperature"]),
                          continuous=vel["continuous"]) for s in species]
    return Mixture(species, grids)


def build_collisions(case: Case, mixture: Mixture) -> list:
    """(operator, rate) pairs of the [[collisions]] tables (validated: only the fields that apply)."""
    out = []
    for c in case.collisions:
        if c["operator"] == "landau":
            from dgkinetic.collisions.landau import Landau
            if c["potential"] == "coulomb":
                op = Landau(mixture, potential="coulomb", coulomb_log=c["coulomb_log"], tail_floor=c["tail_floor"])
            else:
                nu = np.array(c["nu"], dtype=float) if isinstance(c["nu"], list) else c["nu"]
                op = Landau(mixture, potential=c["potential"], nu=nu, tail_floor=c["tail_floor"])
            out.append((op, c["rate"]))
            continue
        from dgkinetic.collisions import kernels
        makers = {"maxwell": kernels.MaxwellMolecules, "hard_spheres": kernels.HardSpheres,
                  "vhs": lambda: kernels.VariableHardSpheres(c["gamma"])}
        if c["form"] == "spectral":
            from dgkinetic.collisions.spectral import SpectralBoltzmann
            # sphere_points: the degree of the σ rule (GHHH pairs) and of the direction rule (Carleman pairs)
            op = SpectralBoltzmann(mixture, makers[c["kernel"]](), modes=c["modes"] or None,
                                   radial_points=c["radial_points"], sphere_degree=c["sphere_points"] or 7,
                                   direction_degree=c["sphere_points"] or 9)
        else:
            if c["form"] == "collocation":
                from dgkinetic.collisions.collocation import CollocationBoltzmann as Boltzmann
            else:
                from dgkinetic.collisions.boltzmann import Boltzmann
            op = Boltzmann(mixture, makers[c["kernel"]](), sphere=c["sphere_points"] or None,
                           tail_floor=c["tail_floor"])
        out.append((op, c["rate"]))
    return out


def initial_moments(case: Case, mixture: Mixture, length: float):
    """Per-species density, velocity and temperature of [initial] (constants or functions of x)."""
    init, N = case.initial, len(mixture)
    u = np.array(init["velocity"], dtype=float)
    drifts = list(u) if u.ndim == 2 else [u] * N                  # one per species, or one for all
    dens, temp = list(init["density"]), list(init["temperature"])
    if init["profile"] == "uniform":
        return dens, drifts, temp
    if init["profile"] == "sine":
        a = init["amplitude"]
        dens_f = [lambda x, n=n: n * (1 + a * np.sin(2 * np.pi * x[:, 0] / length)) for n in dens]
        return dens_f, drifts, temp
    # Sod: the left/right tables (validated, one value per species) override density/temperature per half
    left, right = init["left"], init["right"]

    def side(key, base):
        lv, rv = left.get(key, base), right.get(key, base)
        return [lambda x, a=a, b=b: np.where(x[:, 0] < 0.5 * length, a, b) for a, b in zip(lv, rv)]
    return side("density", dens), drifts, side("temperature", temp)


def grid_descriptors(mixture: Mixture) -> list[str]:
    """One line per species: its velocity grid (kind, cells, degree, box) and node count."""
    return [f"{s.name}: {g!r} n_v={g.size}" for s, g in zip(mixture.species, mixture.grids)]


def mesh_length(mesh: dict) -> float:
    return mesh["length"][0] if isinstance(mesh["length"], list) else mesh["length"]
