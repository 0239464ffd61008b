"""The README's Layout section names every module of the package (and only those); each module
states its job in the first line of its docstring; the library leaves process-wide state alone."""
import ast
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "dgkinetic")


def modules():
    """Paths of the package's modules relative to the package, __init__ files excluded."""
    out = []
    for folder, dirs, files in os.walk(PACKAGE):
        dirs[:] = [d for d in dirs if not d.startswith((".", "__"))]
        out += [os.path.relpath(os.path.join(folder, f), PACKAGE) for f in files
                if f.endswith(".py") and f != "__init__.py"]
    return sorted(out)


def layout_section():
    text = open(os.path.join(ROOT, "README.md")).read()
    start = text.index("## Layout\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_readme_layout_matches_the_package():
    layout = layout_section()
    named = set(re.findall(r"`([a-z_]+\.py)`", layout))
    files = {os.path.basename(m) for m in modules()}
    assert files - named == set(), "modules missing from the README's Layout section"
    assert named - files - {"bench_landau_petsc.py"} == set(), "the Layout section names modules that do not exist"
    for sub in sorted({os.path.dirname(m) for m in modules()} - {""}):
        assert f"`{sub}/`" in layout


def test_every_module_states_its_job():
    for m in modules() + ["__init__.py"]:
        doc = ast.get_docstring(ast.parse(open(os.path.join(PACKAGE, m)).read()))
        assert doc and doc.splitlines()[0].strip(), f"{m}: no docstring"


def test_library_leaves_matplotlib_backend_and_argv_alone():
    """Importing or using dgkinetic must not pick matplotlib's backend nor rewrite the command line."""
    for m in modules() + ["__init__.py"]:
        source = open(os.path.join(PACKAGE, m)).read()
        assert "matplotlib.use(" not in source and "import matplotlib.pyplot" not in source, m
        assert not re.search(r"sys\.argv\s*=[^=]", source), m
