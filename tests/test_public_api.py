"""The public API is importable from the package root, without starting PETSc on import."""
import subprocess
import sys


def test_root_exports_what_a_user_writes():
    import dgkinetic
    for name in dgkinetic.__all__:
        assert getattr(dgkinetic, name) is not None, name
    from dgkinetic.solver import KineticSolver
    from dgkinetic.splitting import StrangSplitting
    from dgkinetic.walls import Diffuse
    assert dgkinetic.KineticSolver is KineticSolver and dgkinetic.Diffuse is Diffuse
    assert "StrangSplitting" in dgkinetic.__all__ and dgkinetic.StrangSplitting is StrangSplitting


def test_import_does_not_initialise_petsc():
    code = ("import sys, dgkinetic; assert dgkinetic.Species; "
            "print('petsc4py.PETSc' in sys.modules, 'firedrake' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]


def test_collision_operator_interface_is_declared():
    """An operator missing a required method cannot be built; what the stepper asks is declared."""
    import numpy as np
    import pytest
    from dgkinetic import Mixture, Species, VelocityGrid
    from dgkinetic.collisions.base import CollisionOperator

    class Incomplete(CollisionOperator):
        def weak_form(self, X):
            return np.zeros_like(X)

    mix = Mixture([Species("a")], [VelocityGrid(2, 2, 2, extent=5.0)])
    with pytest.raises(TypeError, match="jacobian"):
        Incomplete(mix)
    assert CollisionOperator.explicit_only is False and CollisionOperator.tail_floor == 0.0
