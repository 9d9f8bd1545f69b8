"""User Batch: run what is open in JupyterLab as batch jobs.

This package ships the prebuilt JupyterLab extension, registers the Node proxy with
jupyter-server-proxy (see :mod:`user_batch.serverproxy`) and carries the small runtime used
inside jobs (:mod:`user_batch.runner`).
"""

__version__ = "0.1.0"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "user-batch"}]


def dask_client(*args, **kwargs):
    """The Dask client for this job or notebook; see :func:`user_batch.dask.dask_client`.
    Imported on first use so that ``import user_batch`` works (and stays fast) without Dask."""
    from .dask import dask_client as _dask_client

    return _dask_client(*args, **kwargs)
