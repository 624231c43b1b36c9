"""ganaug/__init__.py: the public names and the version; and imports without cycles: no module of ganaug imports
a name from the package __init__, and only ganaug.evaluation's own modules, and the command line above everything
(``ganaug.cli``, whose ``compare`` runs the ablation), import ganaug.evaluation."""

import ast
import importlib
from pathlib import Path

import pytest

import ganaug
import ganaug._version

PACKAGE = Path(ganaug.__file__).parent
#: Modules above the core and the evaluation alike: they may import both (nothing imports them).
APPLICATIONS = frozenset({"ganaug.cli"})
#: What ``from ganaug import X`` may name: ganaug's modules and subpackages (not the names its __init__ binds).
SUBMODULES = frozenset(
    [p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"]
    + [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()]
)


def module_name(path: Path) -> str:
    """ganaug/evaluation/compare.py -> ganaug.evaluation.compare; ganaug/evaluation/__init__.py -> ganaug.evaluation."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_problems(source: str, module: str, is_package: bool = False) -> list[str]:
    """The import statements of ``source``, the text of the ganaug module ``module`` (dotted; ``is_package`` for an
    ``__init__.py``), that take a name from the package __init__ (``import ganaug``, ``from ganaug import X`` or
    ``from . import X`` for an X that is not a submodule), or that import ganaug.evaluation from a module outside it.
    Every statement counts, those inside functions and classes too."""
    package = module if is_package else module.rpartition(".")[0]
    in_evaluation = module == "ganaug.evaluation" or module.startswith("ganaug.evaluation.") or module in APPLICATIONS
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
            takes_from_init = "ganaug" in imported
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                if node.level - 1 >= len(parts):
                    problems.append(f"{module}:{node.lineno}: {ast.unparse(node)} (beyond the top-level package)")
                    continue
                base = ".".join(parts[: len(parts) - (node.level - 1)])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            imported = [target] + [f"{target}.{alias.name}" for alias in node.names]
            takes_from_init = target == "ganaug" and any(alias.name not in SUBMODULES for alias in node.names)
        else:
            continue
        evaluation = any(name == "ganaug.evaluation" or name.startswith("ganaug.evaluation.") for name in imported)
        if takes_from_init:
            problems.append(f"{module}:{node.lineno}: {ast.unparse(node)} (takes a name from the package __init__)")
        elif evaluation and not in_evaluation:
            problems.append(f"{module}:{node.lineno}: {ast.unparse(node)} (imports ganaug.evaluation from outside it)")
    return problems


def test_no_module_imports_the_package_init_or_evaluation_from_outside_it():
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    # the walk reads the whole package, the evaluation subpackage included
    assert {"ganaug", "ganaug.mixing", "ganaug.evaluation", "ganaug.evaluation.compare"} <= modules
    assert {"config", "evaluation", "_version"} <= SUBMODULES and "SyntheticAugmenter" not in SUBMODULES
    problems = [
        problem
        for path in paths
        for problem in import_problems(path.read_text(), module_name(path), is_package=path.name == "__init__.py")
    ]
    assert problems == []
    importers = [
        module_name(path)
        for path in paths
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom)
        and (node.module or "").endswith("cli")
        or isinstance(node, ast.Import)
        and any(alias.name.endswith(".cli") for alias in node.names)
    ]
    assert importers == []  # the applications sit at the top: nothing in the package imports them


@pytest.mark.parametrize(
    "module, is_package, source",
    [
        pytest.param("ganaug.mixing", False, "def f():\n    from .evaluation import compare\n", id="inside-a-function"),
        pytest.param(
            "ganaug.training",
            False,
            "class T:\n    def m(self):\n        import ganaug.evaluation.metrics\n",
            id="absolute-inside-a-method",
        ),
        pytest.param("ganaug.config", False, "from . import evaluation\n", id="the-subpackage-by-name"),
        pytest.param("ganaug", True, "from .evaluation.stats import paired_summary\n", id="from-the-package-init"),
        pytest.param("ganaug.augmenter", False, "from ganaug import SyntheticAugmenter\n", id="from-ganaug-import"),
        pytest.param("ganaug.cli", False, "from . import __version__\n", id="from-dot-import-a-name"),
        pytest.param(
            "ganaug.io", False, "def f():\n    from .evaluation import ablation\n", id="only-the-cli-runs-the-ablation"
        ),
        pytest.param("ganaug.images", False, "import ganaug\n", id="import-ganaug"),
        pytest.param("ganaug.io", False, "def f():\n    from ganaug import *\n", id="star-inside-a-function"),
        pytest.param("ganaug.evaluation.compare", False, "from .. import GANConfig\n", id="evaluation-from-dot-dot"),
        pytest.param(
            "ganaug.evaluation", True, "from .. import SyntheticAugmenter\n", id="evaluation-init-from-dot-dot"
        ),
    ],
)
def test_import_problems_flags_bad_imports(module, is_package, source):
    problems = import_problems(source, module, is_package)
    assert len(problems) == 1, problems
    statement = ast.unparse(ast.parse(source)).splitlines()[-1].strip()
    assert problems[0].startswith(f"{module}:{len(source.splitlines())}: {statement} (")


@pytest.mark.parametrize(
    "module, is_package, source",
    [
        pytest.param(
            "ganaug.mixing",
            False,
            "from .config import GANConfig\nfrom . import _version, datasets\nimport ganaug.io\n"
            "from ganaug.classical import AffineElastic\n\ndef f():\n    from .scaling import model_size\n",
            id="core-module",
        ),
        pytest.param(
            "ganaug.evaluation.compare",
            False,
            "from . import stats\nfrom .report import AugmentationReport\nfrom ..classifier import fit_classifier\n"
            "from .. import config\n\ndef f():\n    from ganaug.evaluation import metrics\n",
            id="evaluation-module",
        ),
        pytest.param(
            "ganaug.evaluation",
            True,
            "from ..classical import AffineElastic\nfrom .compare import compare_augmentation\n",
            id="evaluation-init",
        ),
    ],
)
def test_import_problems_passes_imports_of_modules(module, is_package, source):
    assert import_problems(source, module, is_package) == []


def test_version_is_the_one_in_ganaug_version():
    assert ganaug.__version__ == ganaug._version.__version__
    assert "__version__" in ganaug.__all__


@pytest.mark.parametrize("package", ["ganaug", "ganaug.evaluation"])
def test_every_name_in_all_is_importable(package):
    module = importlib.import_module(package)
    assert len(set(module.__all__)) == len(module.__all__) > 0
    namespace = {}
    exec(f"from {package} import *", namespace)
    assert sorted(set(module.__all__) - set(namespace)) == []
