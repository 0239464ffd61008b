"""The one Gauss–Lobatto rule and Lagrange basis (velocity.py) that grids and collision operators share."""
import numpy as np
import pytest

from dgkinetic.velocity import gauss_legendre, gauss_lobatto, lagrange_basis


@pytest.mark.parametrize("n", [2, 3, 5, 9])
def test_gauss_lobatto_rule(n):
    """Ends included, symmetric, exact for polynomials of degree 2n − 3 and not for 2n − 2."""
    x, w = gauss_lobatto(n)
    assert x[0] == -1.0 and x[-1] == 1.0 and np.all(np.diff(x) > 0)
    assert np.allclose(x, -x[::-1], atol=1e-15) and np.allclose(w, w[::-1], rtol=1e-14)
    for k in range(2 * n - 2):
        assert w @ x ** k == pytest.approx((1 + (-1) ** k) / (k + 1), abs=1e-14)
    k = 2 * n - 2
    assert abs(w @ x ** k - 2 / (k + 1)) > 1e-6


@pytest.mark.parametrize("rule", [gauss_lobatto, gauss_legendre])
@pytest.mark.parametrize("degree", [1, 3, 8])
def test_lagrange_basis(rule, degree):
    """Kronecker delta at the nodes; reproduces every polynomial of the degree and its derivative
    (weights Σ_a x_a^k L_a); values of points of any shape, shape s.shape + (m,)."""
    x = rule(degree + 1)[0]
    assert np.allclose(lagrange_basis(x, x), np.eye(degree + 1), atol=1e-14)
    s = np.random.default_rng(1).uniform(-1, 1, (7, 3))
    L, dL = lagrange_basis(x, s), lagrange_basis(x, s, derivative=True)
    assert L.shape == dL.shape == (7, 3, degree + 1)
    for k in range(degree + 1):
        assert np.allclose(L @ x ** k, s ** k, atol=1e-13)
        assert np.allclose(dL @ x ** k, k * s ** max(k - 1, 0), atol=1e-11)
