"""JupyterLab for the UI tests: Galata's test settings, one throw-away workspace and data dir."""

import os

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 (c is the config object Jupyter passes in)
c.ServerApp.port = int(os.environ.get("UI_TEST_PORT", "8899"))  # noqa: F821
c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.root_dir = os.environ["JUPYTERLAB_GALATA_ROOT_DIR"]  # noqa: F821
