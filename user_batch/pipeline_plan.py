"""The pipeline planner: ``python -m user_batch.pipeline_plan DIR``.

Builds the quantum graph of a pipeline run before anything is submitted, with the middleware's
own ``pipetask qgraph`` steps (``lsst.ctrl.mpexec.cli.script.build`` then ``.qgraph``) called
in this process: the same work as ``pipetask qgraph -b REPO -i IN -o OUT --output-run RUN
-p PIPELINE.yaml#LABELS -c label:field=value -C label:file -d QUERY -q DIR/pipeline.qg``, without
a second interpreter importing the stack, and with the middleware's exceptions as objects, so
that a user error becomes a sentence. The graph written here is the one that runs
(:mod:`user_batch.pipeline_run`): its output RUN is fixed now.

Input ``DIR/pipeline.json`` (PipelineFile, written by the proxy; paths absolute)::

    {"jobId", "butlerRepo", "pipeline": "/abs/pipeline.yaml", "labels": null | [...],
     "inputCollections": [...], "outputCollection", "outputRun", "dataQuery",
     "configOverrides": [{"label", "field", "value"}], "configFiles": [{"label", "path"}], ...}

Writes in DIR:

* ``pipeline.qg``         the quantum graph;
* ``pipeline-plan.json``  quanta per label (from the graph file's header), the output run, the
  graph's sha256, the expanded pipeline (every override applied), seconds, middleware versions,
  and (beyond the contract's fields) ``pipelineFile`` ``{path, sha256, content}`` and
  ``configFileContents`` ``[{label, path, sha256, content}]`` as read now, for the provenance;
  written last: its presence means the plan is complete;
* ``pipeline-plan-error.json``  ``{message, detail}`` instead, when no graph was built:
  ``message`` is one sentence the user can act on, ``detail`` the middleware's own words.

Exit codes: 0 planned; 2 the request cannot be planned (a user error, said in
``pipeline-plan-error.json``); 1 the planner itself failed (also said there).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import time
from importlib import metadata

from user_batch.jobdir import RunnerError, read_json_object, sha256_file, write_json_atomic
from user_batch.jobfiles import (
    PIPELINE_GRAPH,
    PIPELINE_JSON,
    PIPELINE_PLAN_ERROR_JSON,
    PIPELINE_PLAN_JSON,
)

EXIT_PLANNED = 0
EXIT_PLANNER_FAILED = 1
EXIT_USER_ERROR = 2

#: the distributions whose versions a plan and a run record
VERSION_PACKAGES = (
    "lsst-daf-butler",
    "lsst-pipe-base",
    "lsst-ctrl-mpexec",
    "lsst-pex-config",
    "lsst-resources",
    "lsst-utils",
)
#: the longest middleware text kept as ``detail``
DETAIL_CHARS = 4000


class PlanError(Exception):
    """The request cannot be planned: ``message`` for the user, ``detail`` from the middleware."""

    def __init__(self, message: str, detail: str = ""):
        super().__init__(message)
        self.message = message
        self.detail = detail


def versions() -> dict[str, str | None]:
    import platform

    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in VERSION_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def file_record(path: str) -> dict:
    with open(path, "rb") as f:
        data = f.read()
    return {
        "path": path,
        "sha256": hashlib.sha256(data).hexdigest(),
        "content": data.decode("utf-8", errors="replace"),
    }


def trim(text: str) -> str:
    text = text.strip()
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


# --------------------------------------------------------------------------- input


def _strings(spec: dict, key: str) -> list[str]:
    value = spec.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RunnerError(f"{PIPELINE_JSON} needs '{key}' as a list of strings")
    return value


def load_spec(folder: str) -> dict:
    """pipeline.json, checked for the fields the planner and the runner use."""
    spec = read_json_object(folder, PIPELINE_JSON)
    for key in ("butlerRepo", "pipeline", "outputCollection", "outputRun"):
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise RunnerError(f"{PIPELINE_JSON} needs '{key}' as a string")
    if not isinstance(spec.get("dataQuery") or "", str):
        raise RunnerError(f"{PIPELINE_JSON} needs 'dataQuery' as a string")
    spec["dataQuery"] = spec.get("dataQuery") or ""
    _strings(spec, "inputCollections")
    if spec.get("labels") is not None:
        _strings(spec, "labels")
    for key, fields in (
        ("configOverrides", ("label", "field", "value")),
        ("configFiles", ("label", "path")),
    ):
        items = spec.get(key) or []
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and all(isinstance(i.get(f), str) for f in fields) for i in items
        ):
            raise RunnerError(f"{PIPELINE_JSON} needs '{key}' as a list of {{{', '.join(fields)}}}")
        spec[key] = items
    return spec


def pipeline_uri(spec: dict) -> str:
    """The pipeline file, with "#label,subset" when only some labels run (pipetask's syntax)."""
    labels = spec.get("labels")
    return f"{spec['pipeline']}#{','.join(labels)}" if labels else spec["pipeline"]


def check_files(spec: dict) -> None:
    """Files the user named: say which one is missing before the middleware does, in its words."""
    path = spec["pipeline"]
    if not os.path.isfile(path):
        raise PlanError(
            f"The pipeline file {path} does not exist; choose an existing pipeline YAML file.",
            f"No such file: {path}",
        )
    for item in spec["configFiles"]:
        if not os.path.isfile(item["path"]):
            raise PlanError(
                f"The config override file {item['path']} for task {item['label']} does not "
                "exist; choose an existing Python file or remove it from the overrides.",
                f"No such file: {item['path']}",
            )
    if not os.path.isfile(os.path.join(spec["butlerRepo"], "butler.yaml")) and not os.path.isfile(
        spec["butlerRepo"]
    ):
        raise PlanError(
            f"{spec['butlerRepo']} is not a butler repository (it has no butler.yaml); "
            "choose the folder of an existing repository.",
            f"No butler.yaml in {spec['butlerRepo']}",
        )


# --------------------------------------------------------------------------- the middleware


class LogCapture(logging.Handler):
    """The middleware's warnings and errors while planning: the ``detail`` of an empty graph."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")
        except Exception:
            pass


def build_pipeline(spec: dict):
    """The pipeline with the labels chosen and every override applied, as ``pipetask build``
    applies ``-p``, ``-c`` and ``-C`` (in that order)."""
    from lsst.pipe.base import Pipeline

    uri = pipeline_uri(spec)
    try:
        pipeline = Pipeline.from_uri(uri)
    except Exception as e:
        raise classify_pipeline_error(e, spec) from e
    for o in spec["configOverrides"]:
        check_label(
            pipeline, spec, o["label"], f"The override {o['label']}:{o['field']}={o['value']}"
        )
        pipeline.addConfigOverride(o["label"], o["field"], o["value"])
    for f in spec["configFiles"]:
        check_label(pipeline, spec, f["label"], f"The override file {f['path']}")
        pipeline.addConfigFile(f["label"], f["path"])
    return pipeline


def check_label(pipeline, spec: dict, label: str, what: str) -> None:
    """An override for a task that does not run would be dropped without a word: refuse it."""
    labels = list(pipeline.task_labels)
    if label not in labels:
        chosen = " with the labels chosen" if spec.get("labels") else ""
        raise PlanError(
            f"{what} names task {label!r}, which is not in the pipeline{chosen}; "
            f"use one of its labels: {', '.join(labels)}.",
            f"Task label {label!r} not found; labels: {', '.join(labels)}",
        )


def make_graph(spec: dict, folder: str, capture: LogCapture):
    """Build and save the graph; returns the pipeline (overrides applied) and its graph."""
    from lsst.ctrl.mpexec.cli import script
    from lsst.ctrl.mpexec.showInfo import ShowInfo

    pipeline = build_pipeline(spec)
    show = ShowInfo([])
    try:
        factory = script.build(
            pipeline=pipeline,
            pipeline_actions=[],
            pipeline_dot="",
            pipeline_mermaid="",
            save_pipeline="",
            show=show,
        )
        # Every task is imported and configured here: a config error shows now, not mid-query.
        pipeline_graph = factory(resolve=False)
    except PlanError:
        raise
    except Exception as e:
        raise classify_config_error(e, spec) from e
    graph_path = os.path.join(folder, PIPELINE_GRAPH)
    try:
        qg = script.qgraph(
            factory,
            qgraph=None,
            qgraph_id=None,
            qgraph_node_id=None,
            qgraph_datastore_records=False,
            skip_existing_in=None,
            skip_existing=False,
            save_qgraph=graph_path,
            qgraph_dot=None,
            qgraph_mermaid=None,
            butler_config=spec["butlerRepo"],
            input=spec["inputCollections"],
            output=spec["outputCollection"],
            output_run=spec["outputRun"],
            extend_run=False,
            replace_run=False,
            prune_replaced=None,
            data_query=spec["dataQuery"],
            data_id_table=(),
            show=show,
            clobber_outputs=False,
            dataset_query_constraint="all",
            rebase=False,
            unmocked_dataset_types=(),
            mock_failure={},
        )
    except PlanError:
        raise
    except Exception as e:
        raise classify_graph_error(e, spec) from e
    if qg is None:
        remove(graph_path)
        raise PlanError(
            "The query selects no data: no quanta could be made from the input collections "
            f"{', '.join(spec['inputCollections'])}"
            + (f" with the data query {spec['dataQuery']!r}" if spec["dataQuery"] else "")
            + "; widen the query or choose collections that hold the pipeline's inputs.",
            "\n".join(capture.lines) or "QuantumGraph was empty.",
        )
    return pipeline, pipeline_graph


# --------------------------------------------------------------------------- errors as sentences


def words(e: BaseException) -> str:
    """The middleware's own words: the exception and the ones it was raised from."""
    parts, seen = [], set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        parts.append(f"{type(e).__name__}: {e}")
        e = e.__cause__ or e.__context__
    return trim("\n".join(parts))


def chain(e: BaseException):
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        e = e.__cause__ or e.__context__


def is_a(e: BaseException, *names: str) -> bool:
    """Whether ``e`` is an instance of a class with one of these names (by name: the classes
    live in several middleware modules, some private)."""
    return any(c.__name__ in names for c in type(e).__mro__)


def classify_pipeline_error(e: Exception, spec: dict) -> PlanError:
    path = spec["pipeline"]
    text = str(e)
    labels = spec.get("labels") or []
    if labels and ("labels" in text.lower() or "subset" in text.lower()):
        return PlanError(
            f"The pipeline {os.path.basename(path)} has no task or subset named "
            f"{', '.join(repr(label) for label in missing_labels(text, labels))}; "
            "choose labels that it defines.",
            words(e),
        )
    return PlanError(
        f"{path} is not a pipeline that can be read ({reason(e)}); fix the file or choose "
        "another one (a pipeline YAML has a 'tasks:' section).",
        words(e),
    )


def reason(e: BaseException) -> str:
    """The middleware's first line; for a YAML error, what and where."""
    mark = getattr(e, "problem_mark", None)
    if getattr(e, "problem", None) and mark is not None:
        return f"YAML: {e.problem} at line {mark.line + 1}"
    return first_line(e)


def missing_labels(text: str, labels: list[str]) -> list[str]:
    named = [label for label in labels if re.search(rf"['\"]{re.escape(label)}['\"]", text)]
    return named or labels


def classify_config_error(e: Exception, spec: dict) -> PlanError:
    """An error while importing and configuring the tasks: a bad override, or a bad task."""
    if isinstance(e, ImportError):
        m = re.search(r"importing '([^']+)'", str(e))
        what = f"The task class {m.group(1)!r}" if m else f"A task class ({first_line(e)})"
        return PlanError(
            f"{what} of the pipeline cannot be imported; fix the class name in the pipeline "
            "or make its package importable.",
            words(e),
        )
    for f in spec["configFiles"]:
        line = line_in_file(e, f["path"])
        if line is not None:
            return PlanError(
                f"The config override file {f['path']} for task {f['label']} failed at line "
                f"{line}: {first_line(e)}; fix the file.",
                words(e),
            )
    text = "\n".join(str(x) for x in chain(e))
    for o in spec["configOverrides"]:
        if re.search(rf"\b{re.escape(o['field'].split('.')[-1])}\b", text):
            return PlanError(
                f"The config override {o['label']}:{o['field']}={o['value']} cannot be applied: "
                f"{first_line(e)}; fix the field name or the value.",
                words(e),
            )
    if spec["configOverrides"] or spec["configFiles"]:
        return PlanError(
            f"The pipeline's tasks could not be configured with the overrides given: "
            f"{first_line(e)}; check the override fields and values.",
            words(e),
        )
    return PlanError(
        f"The pipeline's tasks could not be loaded or configured: {first_line(e)}; "
        "fix the pipeline file.",
        words(e),
    )


def line_in_file(e: BaseException, path: str) -> int | None:
    """The line of ``path`` (a config override file) where ``e`` arose, if it arose there."""
    for x in chain(e):
        if isinstance(x, SyntaxError) and x.filename == path:
            return x.lineno
        tb, line = x.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == path:
                line = tb.tb_lineno
            tb = tb.tb_next
        if line is not None:
            return line
    return None


def first_line(e: BaseException) -> str:
    line = (str(e).strip().splitlines() or [type(e).__name__])[0].rstrip(".")
    return line if len(line) <= 300 else line[:299] + "…"


def classify_graph_error(e: Exception, spec: dict) -> PlanError:
    """An error while resolving dataset types, reading collections or querying data IDs."""
    errors = list(chain(e))
    query = spec["dataQuery"]

    def find(*names: str):
        return next((x for x in errors if is_a(x, *names)), None)

    if x := find("MissingCollectionError"):
        name = quoted(str(x)) or ", ".join(spec["inputCollections"])
        return PlanError(
            f"The input collection {name} does not exist in the butler repository; "
            "choose existing collections (butler query-collections lists them).",
            words(e),
        )
    if x := find("IncompatibleDatasetTypeError", "ConflictingDefinitionError"):
        return PlanError(
            f"The dataset type {quoted(str(x)) or ''} is already defined differently in this "
            "butler repository (by another pipeline); rename it in this pipeline (a "
            "connections override) or use another repository.".replace("type  is", "type is"),
            words(e),
        )
    if x := find("MissingDatasetTypeError"):
        return PlanError(
            f"The pipeline reads dataset type {quoted(str(x)) or '?'}, which this butler "
            "repository does not know; choose a repository that holds the pipeline's inputs, "
            "or fix the dataset type name in the pipeline.",
            words(e),
        )
    if x := find(
        "ParserYaccError", "ParserEOFError", "ParserLexError", "UserExpressionSyntaxError"
    ):
        return PlanError(
            f"The data query {query!r} is not valid: {first_line(x)}; fix its syntax "
            "(e.g. instrument='DEMO' AND detector IN (0, 1)).",
            words(e),
        )
    if x := find(
        "UserExpressionError", "InvalidQueryError", "DataIdValueError", "DimensionNameError"
    ):
        return PlanError(
            f"The data query {query!r} cannot be used: {first_line(x)}; "
            "use dimensions and values that exist in the repository.",
            words(e),
        )
    text = str(e)
    if "--extend-run" in text:
        return PlanError(
            f"The output run {spec['outputRun']} already exists; choose another output collection.",
            words(e),
        )
    if "--rebase" in text:
        return PlanError(
            f"The output collection {spec['outputCollection']} already exists with other input "
            "collections; choose another output collection or the same inputs.",
            words(e),
        )
    raise e


def quoted(text: str) -> str | None:
    """The first name in single quotes in a middleware message."""
    m = re.search(r"'([^'\s]+)'", text)
    return repr(m.group(1)) if m else None


# --------------------------------------------------------------------------- the plan


def label_quanta(graph_path: str, pipeline_graph) -> list[dict]:
    """Quanta per label from the saved graph's header, in the pipeline's order."""
    from lsst.pipe.base.pipeline_graph import TaskImportMode
    from lsst.pipe.base.quantum_graph import PredictedQuantumGraph

    with PredictedQuantumGraph.open(graph_path, import_mode=TaskImportMode.DO_NOT_IMPORT) as reader:
        counts = dict(reader.header.n_task_quanta)
    return [
        {
            "label": label,
            "taskClass": task.task_class_name,
            "quanta": int(counts.get(label, 0)),
            # what BPS can cluster this label's quanta by
            "dimensions": sorted(task.dimensions.names),
        }
        for label, task in pipeline_graph.tasks.items()
    ]


def plan(folder: str) -> dict:
    started = time.monotonic()
    spec = load_spec(folder)
    check_files(spec)
    capture = LogCapture()
    logging.getLogger().addHandler(capture)
    try:
        pipeline, pipeline_graph = make_graph(spec, folder, capture)
    finally:
        logging.getLogger().removeHandler(capture)
    graph_path = os.path.join(folder, PIPELINE_GRAPH)
    labels = label_quanta(graph_path, pipeline_graph)
    return {
        "outputCollection": spec["outputCollection"],
        "outputRun": spec["outputRun"],
        "inputCollections": spec["inputCollections"],
        "dataQuery": spec["dataQuery"],
        "labels": labels,
        "totalQuanta": sum(item["quanta"] for item in labels),
        "graphSha256": sha256_file(graph_path),
        "expandedPipeline": str(pipeline),
        # what was read now, for the run's provenance: the files may change before it runs
        "pipelineFile": file_record(spec["pipeline"]),
        "configFileContents": [dict(f, **file_record(f["path"])) for f in spec["configFiles"]],
        "seconds": round(time.monotonic() - started, 3),
        "versions": versions(),
    }


def remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m user_batch.pipeline_plan DIR", file=sys.stderr)
        return EXIT_PLANNER_FAILED
    folder = os.path.abspath(argv[0])
    if not os.path.isdir(folder):
        print(f"[batch] planner error: {folder} does not exist", file=sys.stderr)
        return EXIT_PLANNER_FAILED
    # a plan made before in this folder is not this plan's
    for name in (PIPELINE_PLAN_JSON, PIPELINE_PLAN_ERROR_JSON, PIPELINE_GRAPH):
        remove(os.path.join(folder, name))
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s: %(message)s")
    try:
        result = plan(folder)
    except PlanError as e:
        return fail(folder, EXIT_USER_ERROR, e.message, trim(e.detail))
    except RunnerError as e:
        return fail(folder, EXIT_PLANNER_FAILED, f"The planner's input is not usable: {e}.", str(e))
    except Exception as e:  # the planner's own failure: still a file the proxy can show
        import traceback

        traceback.print_exc()
        return fail(
            folder,
            EXIT_PLANNER_FAILED,
            f"The quantum graph could not be built: {type(e).__name__}: {first_line(e)}.",
            words(e),
        )
    write_json_atomic(os.path.join(folder, PIPELINE_PLAN_JSON), result)
    counts = ", ".join(f"{item['label']}: {item['quanta']}" for item in result["labels"])
    print(
        f"[batch] planned {result['totalQuanta']} quanta ({counts}) into "
        f"{result['outputRun']} in {result['seconds']} s",
        flush=True,
    )
    return EXIT_PLANNED


def fail(folder: str, code: int, message: str, detail: str) -> int:
    remove(os.path.join(folder, PIPELINE_GRAPH))
    write_json_atomic(
        os.path.join(folder, PIPELINE_PLAN_ERROR_JSON), {"message": message, "detail": detail}
    )
    print(f"[batch] no plan: {message}", file=sys.stderr, flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
