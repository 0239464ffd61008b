"""Rank-local copies of Firedrake-assembled operators, for applying them to dense state blocks.

A transport operator maps the space DG dofs of one velocity node to another set of dofs; the state
holds all velocity nodes of a space node in one row, so the operators act as sparse × dense
products on (dofs × velocity) blocks. Firedrake assembles each operator as a parallel PETSc
matrix; here each rank takes the rows and columns of its local dofs (owned first, then halo,
in the order of ``dat.data_with_halos``) as a scipy CSR matrix. Rows of owned dofs are then
complete, so owned results need only the halo exchange Firedrake already provides.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from petsc4py import PETSc
from scipy.sparse.csgraph import connected_components

import firedrake as fd

__all__ = ["local_matrix", "block_inverse", "local_indices"]


def local_indices(V) -> np.ndarray:
    """Global PETSc indices of the local (owned + halo) dofs of a scalar space, in local order."""
    return np.asarray(V.dof_dset.lgmap.indices, dtype=PETSc.IntType)


def local_matrix(form, row_space, col_space, bcs=None) -> sp.csr_matrix:
    """Assemble ``form`` and return its local-rows × local-columns block as CSR.

    Rows are ``row_space``'s local dofs (test function), columns ``col_space``'s (trial).
    """
    A = fd.assemble(form, mat_type="aij").petscmat
    rows = PETSc.IS().createGeneral(local_indices(row_space), comm=PETSc.COMM_SELF)
    cols = PETSc.IS().createGeneral(local_indices(col_space), comm=PETSc.COMM_SELF)
    sub = A.createSubMatrices(rows, cols)[0]
    indptr, indices, values = sub.getValuesCSR()
    shape = sub.getSize()
    sub.destroy()
    A.destroy()
    M = sp.csr_matrix((values, indices, indptr), shape=shape)
    M.eliminate_zeros()
    return M


def block_inverse(M: sp.csr_matrix) -> sp.csr_matrix:
    """Inverse of a block-diagonal matrix (DG cell masses, facet masses), zero rows left zero.

    Blocks are the connected components of the sparsity pattern; blocks of equal size are
    inverted together, so there is no Python loop over cells or facets.
    """
    M = sp.csr_matrix(M)
    n = M.shape[0]
    live = np.flatnonzero(np.diff(M.indptr) > 0)
    sub = M[live][:, live]
    ncomp, label = connected_components(sub, directed=False)
    order = np.argsort(label, kind="stable")
    sizes = np.bincount(label, minlength=ncomp)
    rows, cols, vals = [np.zeros(0, dtype=int)], [np.zeros(0, dtype=int)], [np.zeros(0)]
    start_of = np.concatenate([[0], np.cumsum(sizes)])
    for size in np.unique(sizes):
        comps = np.flatnonzero(sizes == size)
        members = order[start_of[comps][:, None] + np.arange(size)[None, :]]   # (nblocks, size)
        r = np.repeat(members, size, axis=1).ravel()
        c = np.tile(members, (1, size)).ravel()
        blocks = np.asarray(sub[r, c]).reshape(len(comps), size, size)
        inv = np.linalg.inv(blocks)
        g = live[members]
        rows.append(np.repeat(g, size, axis=1).ravel())
        cols.append(np.tile(g, (1, size)).ravel())
        vals.append(inv.ravel())
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(n, n))
