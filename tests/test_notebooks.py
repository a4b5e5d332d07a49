"""Every notebook in demos/ runs from top to bottom in a fresh Jupyter kernel, as a user
would run it, and shows its pictures and tables the way Jupyter displays them."""

from __future__ import annotations

import os
from pathlib import Path

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "demos").glob("*.ipynb"))


def test_the_demos_have_the_notebooks_the_readme_names() -> None:
    assert {path.name for path in NOTEBOOKS} >= {"lecture.ipynb", "micrograd_demo.ipynb"}


def run(path: Path, workdir: Path, monkeypatch) -> nbformat.NotebookNode:
    """Execute the notebook with this checkout's package; a failing cell raises."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel draws inline, as in Jupyter
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> list:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_notebook_runs_without_an_error(path, tmp_path, monkeypatch) -> None:
    notebook = run(path, tmp_path, monkeypatch)
    assert not [out for out in outputs(notebook) if out.output_type == "error"]
    assert all(cell.execution_count for cell in notebook.cells if cell.cell_type == "code")
    shown = [kind for out in outputs(notebook) for kind in out.get("data", {})]
    if path.name == "lecture.ipynb":
        assert "image/svg+xml" in shown  # draw_dot's graph
        # the backpropagation page, the model's summary and the History
        assert shown.count("text/html") == 3
    if path.name == "micrograd_demo.ipynb":
        assert "image/png" in shown  # the decision boundary


def test_a_failing_cell_fails_the_run(tmp_path, monkeypatch) -> None:
    broken = nbformat.v4.new_notebook()
    broken.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    broken.cells = [nbformat.v4.new_code_cell("from micrograd_like import Value\nValue(1.0) / 0")]
    path = tmp_path / "broken.ipynb"
    nbformat.write(broken, path)
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="ZeroDivisionError"):
        run(path, tmp_path, monkeypatch)
