"""The notebook a ``cells`` or ``notebook`` job runs, built from its ``run.json``.

* kind ``cells``: the setup cells, then a cell that assigns the job's parameters (tagged
  ``injected-parameters``), then the main cells; each cell keeps its id when it is a valid,
  unused one, else gets a fresh id with the given one in ``metadata.user_batch.sourceCellId``;
* kind ``notebook``: ``JOBDIR/input.ipynb`` (``inputNotebook``) with the parameters cell
  inserted after the cell tagged ``parameters`` (first when there is none), as papermill does.

Parameter values are JSON data written as Python literals; names must be identifiers that are
not keywords. Nothing the user typed is ever pasted into code as text.
"""

from __future__ import annotations

import os

from user_batch.jobdir import RunnerError
from user_batch.jobfiles import INPUT_NOTEBOOK

INJECTED_TAG = "injected-parameters"
PARAMETERS_TAG = "parameters"


def python_literal(value) -> str:
    """A Python literal for a decoded JSON value (never pastes text into code)."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"float({str(value)!r})"
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise RunnerError(f"parameter value of type {type(value).__name__} is not JSON data")


def check_parameter_name(name) -> None:
    import keyword

    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise RunnerError(
            f"invalid parameter name {name!r}: parameter names must be Python identifiers "
            "and not keywords"
        )


def parameters_source(parameters: dict) -> str:
    if not isinstance(parameters, dict):
        raise RunnerError("run.json 'parameters' must be an object of name -> value")
    lines = ["# Parameters"]
    for name, value in parameters.items():
        check_parameter_name(name)
        lines.append(f"{name} = {python_literal(value)}")
    return "\n".join(lines)


def _valid_cell_id(cell_id) -> bool:
    import re

    return isinstance(cell_id, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", cell_id) is not None


def _fresh_id(taken: set) -> str:
    import uuid

    while True:
        new = uuid.uuid4().hex[:8]
        if new not in taken:
            return new


def injected_cell(parameters: dict, taken: set):
    import nbformat

    cell = nbformat.v4.new_code_cell(parameters_source(parameters))
    cell.id = INJECTED_TAG if INJECTED_TAG not in taken else _fresh_id(taken)
    cell.metadata["tags"] = [INJECTED_TAG]
    cell.metadata["user_batch"] = {"role": "parameters"}
    return cell


def build_cells_notebook(run: dict):
    """Kind ``cells``: setup cells, then the injected parameters cell, then main cells."""
    import nbformat

    cells = run.get("cells")
    if not isinstance(cells, list) or not cells:
        raise RunnerError("run.json of kind 'cells' needs a non-empty 'cells' list")
    parameters = run.get("parameters") or {}
    setup, main = [], []
    taken: set = set()
    for i, spec in enumerate(cells):
        if not isinstance(spec, dict) or not isinstance(spec.get("source", ""), str):
            raise RunnerError(f"cell #{i} in run.json is not {{id, role, source}}")
        role = spec.get("role", "main")
        if role not in ("setup", "main"):
            raise RunnerError(f"cell #{i} has role {role!r}; expected 'setup' or 'main'")
        cell = nbformat.v4.new_code_cell(spec.get("source", ""))
        given = spec.get("id")
        meta = {"role": role}
        if _valid_cell_id(given) and given not in taken:
            cell.id = given
        else:
            cell.id = _fresh_id(taken)
            if given is not None:
                meta["sourceCellId"] = given
        taken.add(cell.id)
        cell.metadata["user_batch"] = meta
        (setup if role == "setup" else main).append(cell)
    ordered = list(setup)
    if parameters:
        ordered.append(injected_cell(parameters, taken))
    ordered.extend(main)
    nb = nbformat.v4.new_notebook()
    nb.cells = ordered
    return nb


def build_notebook_notebook(run: dict, jobdir: str):
    """Kind ``notebook``: the input notebook with parameters injected after ``parameters``."""
    import nbformat

    name = run.get("inputNotebook") or INPUT_NOTEBOOK
    path = name if os.path.isabs(name) else os.path.join(jobdir, name)
    try:
        nb = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        raise RunnerError(f"input notebook {path} does not exist") from None
    except Exception as e:  # nbformat raises many kinds for bad JSON
        raise RunnerError(f"input notebook {path} cannot be read: {e}") from None
    # ids are required from nbformat 4.5 on; give cells of older notebooks one
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 0))
    taken: set = set()
    for cell in nb.cells:
        cid = cell.get("id")
        if not _valid_cell_id(cid) or cid in taken:
            cell["id"] = _fresh_id(taken)
        taken.add(cell["id"])
    # a rerun of an executed notebook: drop the previous injection (as papermill does)
    nb.cells = [c for c in nb.cells if INJECTED_TAG not in c.get("metadata", {}).get("tags", [])]
    parameters = run.get("parameters") or {}
    if parameters:
        cell = injected_cell(parameters, taken)
        where = 0
        for i, c in enumerate(nb.cells):
            if PARAMETERS_TAG in c.get("metadata", {}).get("tags", []):
                where = i + 1
                break
        nb.cells.insert(where, cell)
    return nb


def build_notebook(run: dict, jobdir: str):
    kind = run.get("kind")
    if kind == "cells":
        nb = build_cells_notebook(run)
    elif kind == "notebook":
        nb = build_notebook_notebook(run, jobdir)
    else:
        raise RunnerError(f"run.json 'kind' must be 'cells' or 'notebook', not {kind!r}")
    nb.metadata.setdefault("user_batch", {}).update(
        {
            "jobId": run.get("jobId"),
            "kind": kind,
            "notebookPath": run.get("notebookPath"),
            "parameters": run.get("parameters") or {},
        }
    )
    return nb
