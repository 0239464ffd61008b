"""The tensor phase space: a Firedrake space mesh ⊗ one velocity grid per species.

The state is a Firedrake Function in ``VectorFunctionSpace(mesh, "DG", p_x, dim=mixture.size)``:
one row per space node, the row holding every species' velocity nodes (DESIGN.md, "State"). Its
PETSc Vec is what TS advances; Firedrake gives the parallel layout, halos and checkpointing.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

import firedrake as fd
from dgkinetic.equilibrium import equilibria
from dgkinetic.errors import InputError
from dgkinetic.mixture import Mixture

__all__ = ["PhaseSpace", "homogeneous_phase_space"]


def _dg_element(mesh: fd.MeshGeometry, degree: int) -> tuple[str, dict]:
    """DG family and variant: Gauss–Legendre nodes where the cell is a tensor product.

    With Gauss nodes the DG mass matrix is diagonal and positive on affine intervals and
    quadrilaterals, so the space integral of a node-wise quantity (entropy, collision
    production) is a positive weighted sum of node values.
    """
    cell = mesh.ufl_cell().cellname
    if callable(cell):
        cell = cell()
    if cell == "interval":
        return "DG", {"variant": "spectral"}
    if cell in ("quadrilateral", "hexahedron"):
        return "DQ", {"variant": "spectral"}
    return "DG", {}


class PhaseSpace:
    """Space mesh ⊗ velocity grids of a mixture.

    Parameters
    ----------
    mesh
        Firedrake mesh of the spatial domain (1D interval or 2D).
    mixture
        The species and their velocity grids.
    degree
        DG degree p_x in space.

    Attributes
    ----------
    scalar_space : FunctionSpace
        Scalar DG space on the mesh (the transport operators are assembled on it).
    state_space : VectorFunctionSpace
        DG space with ``mixture.size`` components: the container of the state.
    """

    def __init__(self, mesh, mixture: Mixture, degree: int = 1):
        if int(degree) != degree or not 0 <= degree <= 6:
            raise InputError(f"space DG degree must be an integer in [0, 6], got {degree}")
        if mesh.geometric_dimension > mixture.dim:
            raise InputError(f"space dimension {mesh.geometric_dimension} exceeds velocity dimension {mixture.dim}")
        self.mesh = mesh
        self.mixture = mixture
        self.degree = int(degree)
        family, kw = _dg_element(mesh, self.degree)
        self.scalar_space = fd.FunctionSpace(mesh, family, self.degree, **kw)
        self.state_space = fd.VectorFunctionSpace(mesh, family, self.degree, dim=mixture.size, **kw)
        # a rank without space nodes has nothing to do in any kernel; every rank says so
        empty = mesh.comm.allreduce(int(self.scalar_space.dof_dset.size == 0))
        if empty:
            raise InputError(f"[mesh]: {empty} of {mesh.comm.size} ranks would be left without nodes of this "
                             "mesh; run on fewer ranks or use more cells")

    @property
    def dim(self) -> int:
        """Space dimension d_x."""
        return self.mesh.geometric_dimension

    @cached_property
    def node_coordinates(self) -> np.ndarray:
        """Coordinates of the owned DG nodes, shape (n_owned, d_x)."""
        family, kw = _dg_element(self.mesh, self.degree)
        Vc = fd.VectorFunctionSpace(self.mesh, family, self.degree, **kw)
        xc = fd.Function(Vc).interpolate(fd.SpatialCoordinate(self.mesh))
        return np.array(xc.dat.data_ro).reshape(-1, self.dim)

    @cached_property
    def node_volumes(self) -> np.ndarray:
        """Lumped mass ∫ φ_r dx of every owned node, shape (n_owned,)."""
        v = fd.TestFunction(self.scalar_space)
        return np.array(fd.assemble(v * fd.dx).dat.data_ro)

    def function(self, name: str = "f") -> fd.Function:
        return fd.Function(self.state_space, name=name)

    @property
    def n_owned(self) -> int:
        return self.scalar_space.dof_dset.size

    def local_state_bytes(self) -> int:
        """Bytes of one state vector on this rank."""
        return 8 * self.n_owned * self.mixture.size

    # ----------------------------------------------------------------- initial states
    def local_equilibrium(self, density, velocity, temperature, name: str = "f") -> fd.Function:
        """State equal, at each space node, to the discrete equilibrium of the given moments.

        Parameters
        ----------
        density, velocity, temperature
            Per species (lists of length N): callables of the node coordinates x (shape
            (n, d_x)) returning arrays of shape (n,), (n, d_v) and (n,), or constants.
        """
        from dgkinetic.collective import agree
        x = self.node_coordinates
        n = x.shape[0]
        f = self.function(name)                  # collective: before the rank-local solves
        data = f.dat.data_wo.reshape(n, self.mixture.size)
        # the equilibria of a rank's own nodes may fail there only (a state the grid cannot hold
        # on part of the domain): one vote makes every rank raise
        with agree(self.mesh.comm):
            for i, (sp, grid, sl) in enumerate(zip(self.mixture.species, self.mixture.grids,
                                                  self.mixture.slices())):
                def evaluate(q, shape):
                    val = q[i](x) if callable(q[i]) else q[i]
                    return np.broadcast_to(np.asarray(val, dtype=float), shape)
                data[:, sl] = equilibria(grid, sp, evaluate(density, (n,)),
                                         evaluate(velocity, (n, self.mixture.dim)),
                                         evaluate(temperature, (n,)))
        return f

    @cached_property
    def inverse_mass(self):
        """Inverse DG mass matrix on local rows/columns (block diagonal), scipy CSR."""
        from dgkinetic.sparse_local import block_inverse, local_matrix
        V = self.scalar_space
        u, v = fd.TrialFunction(V), fd.TestFunction(V)
        return block_inverse(local_matrix(u * v * fd.dx, V, V))


def homogeneous_phase_space(mixture: Mixture, comm=None) -> PhaseSpace:
    """A phase space with a single space node, for spatially homogeneous runs (no transport)."""
    from mpi4py import MPI
    mesh = fd.IntervalMesh(1, 1.0, comm=comm or MPI.COMM_SELF)
    return PhaseSpace(mesh, mixture, degree=0)
