"""The install script, the container recipe and the package metadata agree on versions."""
import os
import re
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(*parts):
    with open(os.path.join(ROOT, *parts)) as fh:
        return fh.read()


def script_versions():
    s = read("scripts", "setup.sh")
    return (re.search(r"^PETSC_VERSION=(\S+)", s, re.M).group(1),
            re.search(r"^FIREDRAKE_VERSION=(\S+)", s, re.M).group(1))


def test_dockerfile_matches_setup_script():
    petsc, firedrake = script_versions()
    d = read("docker", "Dockerfile")
    assert re.search(r"^ARG PETSC_VERSION=(\S+)", d, re.M).group(1) == petsc
    assert re.search(r"^ARG FIREDRAKE_VERSION=(\S+)", d, re.M).group(1) == firedrake
    assert "scripts/setup.sh" in d


def test_pyproject_petsc4py_pin_matches_petsc():
    petsc, _ = script_versions()
    meta = tomllib.loads(read("pyproject.toml"))
    assert f"petsc4py=={petsc}" in meta["project"]["dependencies"]


def test_ci_runs_exactly_the_readme_test_command():
    ci = [line for line in read(".ci", "run").splitlines() if line and not line.startswith("#")]
    assert ci[-1] == "make test"
    assert "make test" in read("README.md")
