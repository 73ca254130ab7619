"""The folders show the architecture: imports point one way,
core <- models <- torch / mxnet <- workbench <- cli; data uses only core."""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "accelbrainbase"

#: what each layer may import from the package (besides itself)
ALLOWED = {
    "core": {"core"},
    "data": {"core", "data"},
    "models": {"core", "data", "models"},
    "torch": {"core", "data", "models", "torch"},
    "mxnet": {"core", "data", "models", "mxnet"},
}


def _package_imports(path: pathlib.Path):
    """Top-level sub-packages of accelbrainbase imported anywhere in ``path`` (lazy ones too)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "accelbrainbase" and len(parts) > 1:
                yield node.lineno, parts[1]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_imports_point_one_way(layer):
    wrong = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, target in _package_imports(path):
            if target not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports accelbrainbase.{target}")
    assert not wrong, "\n".join(wrong)
