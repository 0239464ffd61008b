"""Import a demo script as a module (``demos/<folder>/<name>.py``), as the demo tests run them small."""
import importlib
import os
import sys

DEMOS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demos")


def load_demo(folder: str, name: str):
    """The module ``demos/<folder>/<name>.py``; its folder is on ``sys.path`` only while it is imported."""
    sys.path.insert(0, os.path.join(DEMOS, folder))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)
