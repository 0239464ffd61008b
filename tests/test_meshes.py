"""The gmsh meshes in meshes/: Firedrake reads them with the cells, boundary ids, areas and boundary
lengths their .geo files describe, and a case file can use them (``[mesh] kind = "file"``)."""
import math
import os
import re

import pytest
from cases import case_text, run_cli

import firedrake as fd

MESHES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "meshes")


def geo_n(name):
    """The default of the parameter n in meshes/<name>.geo, with which the committed .msh was made."""
    with open(os.path.join(MESHES, name + ".geo")) as fh:
        m = re.search(r"DefineConstant\[\s*n\s*=\s*\{\s*(\d+)\s*,", fh.read())
    assert m, f"{name}.geo: no DefineConstant for n"
    return int(m.group(1))


def load(name):
    return fd.Mesh(os.path.join(MESHES, name + ".msh"))


def cellname(mesh):
    c = mesh.ufl_cell().cellname
    return c() if callable(c) else c


def n_cells(mesh):
    return mesh.comm.allreduce(mesh.cell_set.size)


def area(mesh):
    return fd.assemble(fd.Constant(1.0) * fd.dx(domain=mesh))


def length(mesh, tag):
    return fd.assemble(fd.Constant(1.0) * fd.ds(tag, domain=mesh))


def n_facets(mesh, tag):
    return mesh.comm.allreduce(mesh.exterior_facets.subset(tag).size)


def cell_areas(mesh):
    return fd.assemble(fd.TestFunction(fd.FunctionSpace(mesh, "DG", 0)) * fd.dx).dat.data_ro


def test_cavity():
    n = geo_n("cavity")
    mesh = load("cavity")
    assert mesh.coordinates.dat.data_ro.shape[1] == 2
    assert cellname(mesh) == "quadrilateral"
    assert n_cells(mesh) == n * n
    assert sorted(int(i) for i in mesh.exterior_facets.unique_markers) == [1, 2, 3, 4]
    # the unit square is exact: area and side lengths to round-off
    assert area(mesh) == pytest.approx(1.0, rel=1e-13, abs=0)
    for tag in (1, 2, 3, 4):
        assert length(mesh, tag) == pytest.approx(1.0, rel=1e-13, abs=0)
        assert n_facets(mesh, tag) == n
    # the tags sit where RectangleMesh puts them: 1 x = 0, 2 x = 1, 3 y = 0, 4 y = 1
    x, y = fd.SpatialCoordinate(mesh)
    for tag, (fx, target) in {1: (x, 0.0), 2: (x, 1.0), 3: (y, 0.0), 4: (y, 1.0)}.items():
        assert fd.assemble((fx - target) ** 2 * fd.ds(tag)) == pytest.approx(0.0, abs=1e-28)
    # a uniform grid: every cell has area 1/n^2
    assert cell_areas(mesh) == pytest.approx(1.0 / n ** 2, rel=1e-12)


def test_cylinder_channel():
    n = geo_n("cylinder_channel")
    m, k = math.ceil(n / 2), math.ceil(3 * n / 4)
    mesh = load("cylinder_channel")
    assert cellname(mesh) == "quadrilateral"
    # the block counts of the .geo: a 4n x (2m + n) grid without its central n x n square, plus the
    # O-grid of four n x k blocks around the cylinder
    assert n_cells(mesh) == 4 * n * (2 * m + n) - n * n + 4 * n * k
    assert sorted(int(i) for i in mesh.exterior_facets.unique_markers) == [1, 2, 3, 5]
    segments = 4 * n                          # the circle is the polygon of these many chords
    assert n_facets(mesh, 5) == segments
    assert n_facets(mesh, 1) == n_facets(mesh, 2) == 2 * m + n
    assert n_facets(mesh, 3) == 2 * 4 * n
    r, L, H = 0.25, 4.0, 2.0
    # inscribed regular polygon with `segments` sides: its area and perimeter, not the circle's
    polygon_area = 0.5 * segments * r ** 2 * math.sin(2 * math.pi / segments)
    polygon_perimeter = 2 * segments * r * math.sin(math.pi / segments)
    assert area(mesh) == pytest.approx(L * H - polygon_area, rel=1e-12, abs=0)
    assert length(mesh, 1) == pytest.approx(H, rel=1e-13, abs=0)
    assert length(mesh, 2) == pytest.approx(H, rel=1e-13, abs=0)
    assert length(mesh, 3) == pytest.approx(2 * L, rel=1e-13, abs=0)
    assert length(mesh, 5) == pytest.approx(polygon_perimeter, rel=1e-12, abs=0)
    # the polygon's vertices: on the circle, equally spaced in angle (area and perimeter above are
    # blind to uneven spacing to first order; gmsh spaces the nodes of an arc to ~1e-9 rad)
    V = mesh.coordinates.function_space()
    xy = mesh.coordinates.dat.data_ro[V.boundary_nodes(5)]
    assert len(xy) == segments
    d = xy - [1.5, 1.0]
    assert abs(abs(d[:, 0] + 1j * d[:, 1]) - r).max() < 1e-14
    angles = sorted(math.atan2(b, a) for a, b in d)
    gaps = [b - a for a, b in zip(angles, angles[1:] + [angles[0] + 2 * math.pi])]
    assert gaps == pytest.approx([2 * math.pi / segments] * segments, abs=1e-8)
    # inflow at x = 0, outflow at x = 4, walls at y = 0 and 2
    x, y = fd.SpatialCoordinate(mesh)
    assert fd.assemble(x ** 2 * fd.ds(1)) == pytest.approx(0.0, abs=1e-28)
    assert fd.assemble((x - L) ** 2 * fd.ds(2)) == pytest.approx(0.0, abs=1e-28)
    assert fd.assemble((y * (y - H)) ** 2 * fd.ds(3)) == pytest.approx(0.0, abs=1e-28)


#: the walls of each mesh's case
WALLS = {
    # lid-driven cavity: diffuse walls, the lid (4) moving along x
    "cavity": {**{i: {"kind": "diffuse", "temperature": 1.0} for i in (1, 2, 3)},
               4: {"kind": "diffuse", "temperature": 1.0, "velocity": [0.2, 0.0]}},
    # flow past the cylinder: inflow, outflow, specular channel walls, diffuse cylinder
    "cylinder_channel": {1: {"kind": "inflow", "density": [1.0], "velocity": [0.5, 0.0], "temperature": 1.0},
                         2: {"kind": "outflow"}, 3: {"kind": "specular"}, 5: {"kind": "diffuse", "temperature": 1.0}},
}


def mesh_case(name, out, path):
    """A one-species case on the mesh file ``path`` with the walls of ``WALLS[name]``."""
    return case_text(out, run={"name": name, "t_end": 0.01, "dt": 0.001, "diagnostics_every": None,
                               "checkpoint_every": None},
                     mesh={"kind": "file", "cells": None, "length": None, "path": path},
                     species=[{"name": "ar"}], initial={"profile": None, "amplitude": None, "density": 1.0},
                     walls=WALLS[name], solver=None)


@pytest.mark.parametrize("name", ["cavity", "cylinder_channel"])
def test_case_file_with_mesh_passes_check(tmp_path, name):
    # a relative path, resolved against the case file's directory
    path = os.path.relpath(os.path.join(MESHES, name + ".msh"), tmp_path)
    case = tmp_path / "case.toml"
    case.write_text(mesh_case(name, tmp_path / "out", path))
    r = run_cli("check", str(case))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"{case}: ok"
