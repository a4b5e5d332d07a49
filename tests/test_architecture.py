"""The package's shape: imports point one way, the engine stands alone, the front door is lazy,
and training state lives in one place (issue 9; docs/architecture.md)."""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import micrograd_like
from micrograd_like import MLP, Value, datasets

PACKAGE = Path(micrograd_like.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """The modules ``module`` imports anywhere (functions included), except under ``if
    TYPE_CHECKING:``; ``from p import x`` counts as importing p and, if it is one, p.x."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if _is_type_checking_block(node):
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else node.module or base
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _import_graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {_module_name(f): f for f in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = _imports(tree, name, path.name == "__init__.py")
        # a module's own packages are always initialised before it: no edge to them
        graph[name] = {
            t for t in targets if t in modules and not (name == t or name.startswith(f"{t}."))
        }
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports as a list of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    for start in graph:
        if start in state:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(child) == 1:
                return path[path.index(child) :] + [child]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert _find_cycle(graph) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_among_the_package_modules() -> None:
    graph = _import_graph()
    assert len(graph) > 30  # every module was read
    # the front door imports nothing at run time: its names are resolved lazily
    assert graph["micrograd_like"] == set()
    assert _find_cycle(graph) is None


def test_function_level_imports_are_seen() -> None:
    graph = _import_graph()
    # Module.fit imports the training layer inside a method
    assert "micrograd_like.training" in graph["micrograd_like.nn.module"]


def test_engine_imports_only_the_standard_library_and_itself() -> None:
    for path in (PACKAGE / "engine").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1, f"{path.name} imports from outside the engine"
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                for name in names or [node.module]:
                    top = name.split(".")[0]
                    assert top in sys.stdlib_module_names or top == "__future__", (path, name)


def test_no_module_outside_the_engine_reads_a_values_private_fields() -> None:
    private = ("._parents", "._rule", "value._made", "import _made")
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "engine":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {p}" for p in private if p in text]
    assert offenders == []


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_importing_the_engine_loads_no_third_party_module() -> None:
    code = (
        "import sys\n"
        "before = set(sys.modules)  # what the interpreter's site hooks loaded\n"
        "from micrograd_like.engine import Value\n"
        "from micrograd_like.nn import MLP\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - set(sys.stdlib_module_names) - {'micrograd_like'}))"
    )
    assert _run(code) == "[]"


def test_importing_nn_loads_neither_training_nor_the_model_file_code() -> None:
    code = (
        "import sys\n"
        "import micrograd_like.nn\n"
        "print([m for m in ('micrograd_like.training', 'micrograd_like.serialization', "
        "'dataclasses', 'tempfile', 'secrets') if m in sys.modules])"
    )
    assert _run(code) == "[]"


def test_the_grad_command_does_not_import_numpy() -> None:
    code = (
        "import sys\n"
        "from micrograd_like.cli import main\n"
        "main(['grad', 'x*y', 'x=1', 'y=2'])\n"
        "print('numpy' in sys.modules, 'graphviz' in sys.modules)"
    )
    assert _run(code).splitlines()[-1] == "False False"


def test_every_public_name_resolves_lazily() -> None:
    for name in micrograd_like.__all__:
        assert getattr(micrograd_like, name) is not None, name
    assert micrograd_like.Value is Value
    with pytest.raises(AttributeError, match="no attribute 'Valeu'"):
        micrograd_like.Valeu  # noqa: B018


def test_micrograds_import_paths() -> None:
    from micrograd_like.engine import Value as EngineValue
    from micrograd_like.nn import MLP as NnMLP
    from micrograd_like.nn import Layer, Module, Neuron

    assert EngineValue is Value and NnMLP is MLP
    assert issubclass(Neuron, Module) and issubclass(Layer, Module)


# ---------------------------------------------------------------- training state


def _fitted_model() -> tuple[MLP, np.ndarray]:
    X, y = datasets.make_moons(60, noise=0.1, random_state=0)
    model = MLP(2, [8, 1], seed=0)
    before = set(model.__dict__)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(X, y, epochs=2, batch_size=16, verbose=0, seed=0)
    assert len(set(model.__dict__) - before) <= 1
    return model, X


def test_a_fitted_model_holds_one_attribute_more_and_pickles() -> None:
    model, X = _fitted_model()
    assert set(model.__dict__) == {"layers", "_training"}
    assert model._training.replays  # fit recorded its replay ...
    copy = pickle.loads(pickle.dumps(model))
    assert copy._training.replays == {}  # ... which is not pickled: it is recorded again
    np.testing.assert_array_equal(copy.predict(X), model.predict(X))
    assert copy.optimizer is not None and copy.loss.name == "binary_crossentropy"


def test_keras_visible_properties_read_the_training_state() -> None:
    model, _ = _fitted_model()
    state = model._training
    assert model.optimizer is state.optimizer and model.history is state.history
    assert [m.name for m in model.metrics] == ["accuracy"]
    model.stop_training = True
    assert state.stop_training is True


# ---------------------------------------------------------------- one lookup for names


@pytest.mark.parametrize(
    "compile_args, message",
    [
        ((("sgd", "msee")), "unknown loss 'msee' (did you mean 'mse'?)"),
        ((("adamm", "mse")), "unknown optimizer 'adamm' (did you mean 'adam'?)"),
    ],
)
def test_unknown_names_suggest_the_closest(compile_args, message) -> None:
    with pytest.raises(ValueError) as error:
        MLP(2, [1], seed=0).compile(*compile_args)
    assert message in str(error.value)


def test_unknown_metric_and_activation_suggest_the_closest() -> None:
    with pytest.raises(ValueError, match=r"unknown metric 'acuracy' \(did you mean 'accuracy'"):
        MLP(2, [1], seed=0).compile("sgd", "mse", metrics=["acuracy"])
    with pytest.raises(ValueError, match=r"did you mean 'sigmoid'\?"):
        MLP(2, [1], activation="sigmod", seed=0)


def test_names_are_case_insensitive_everywhere() -> None:
    model = MLP(2, [3, 1], activation="TanH", seed=0)
    assert model.layers[0].activation == "tanh"
    model.compile("Adam", "MSE", metrics=["Accuracy"])
    assert model.loss.name == "mse" and [m.name for m in model.metrics] == ["accuracy"]
