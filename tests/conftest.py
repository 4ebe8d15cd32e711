"""Shared test setup: a private config directory for the whole run, the test-only plugins, and the
cottoncandy fixtures."""

import os
import sys
import tempfile
import tomllib
from pathlib import Path

# Before anything loads a config: tests never read or write the user's real config.
os.environ["CC_CONFIG_DIR"] = tempfile.mkdtemp(prefix="cc-test-config-")
for variable in [v for v in os.environ if v.startswith(("CC_LOGIN_", "CC_BASIC_", "CC_PIPELINE_", "CC_COMPRESSION_"))]:
    del os.environ[variable]


def _put_test_plugins_on_path() -> None:
    """Make the test-only plugins (tests/plugins/*) discoverable in this process and its children.

    They are not installed into the project's environment, so the README's commands never meet the
    deliberately broken one; instead each gets a ``*.dist-info`` with its entry points in a temporary
    folder on ``sys.path`` (as numcodecs' tests do), next to its ``src`` folder.
    """
    site = Path(tempfile.mkdtemp(prefix="cc-test-plugins-"))
    paths = [str(site)]
    for project in sorted((Path(__file__).parent / "plugins").glob("*/pyproject.toml")):
        spec = tomllib.loads(project.read_text())["project"]
        info = site / f"{spec['name'].replace('-', '_')}-{spec['version']}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {spec['name']}\nVersion: {spec['version']}\n")
        groups = spec.get("entry-points", {})
        (info / "entry_points.txt").write_text("".join(
            f"[{group}]\n" + "".join(f"{name} = {target}\n" for name, target in entries.items())
            for group, entries in groups.items()
        ))
        paths.append(str(project.parent / "src"))
    sys.path[:0] = paths
    os.environ["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [os.environ.get("PYTHONPATH")] if p])


_put_test_plugins_on_path()

pytest_plugins = ["cc_core.testing.fixtures"]


_AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def _bare_worker_environment(config_dir: Path) -> dict[str, str]:
    """What worker processes on other machines have: their own empty config folder, no keys."""
    return {"CC_CONFIG_DIR": str(config_dir), "AWS_SHARED_CREDENTIALS_FILE": str(config_dir / "no-aws-credentials"),
            "AWS_CONFIG_FILE": str(config_dir / "no-aws-config"), "AWS_EC2_METADATA_DISABLED": "true"}


import pytest  # noqa: E402  (after the environment is set up above)


@pytest.fixture(scope="session")
def bare_cluster(tmp_path_factory):
    """A dask.distributed LocalCluster of 2 worker processes (loopback only) that get no credentials
    and no keys: their own empty ``CC_CONFIG_DIR`` (``cluster.worker_config_dir``), no ``CC_LOGIN_*``
    or AWS variables, no AWS files."""
    distributed = pytest.importorskip("distributed")
    import logging

    worker_config = tmp_path_factory.mktemp("worker-config")
    with pytest.MonkeyPatch.context() as patch:
        for variable in _AWS_VARIABLES:  # inherited by the worker processes otherwise
            patch.delenv(variable, raising=False)
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None,
                                           host="127.0.0.1", silence_logs=logging.ERROR,
                                           env=_bare_worker_environment(worker_config))
    cluster.worker_config_dir = worker_config
    with cluster:
        yield cluster


@pytest.fixture
def cluster_client(bare_cluster):
    """A Client of :func:`bare_cluster` (the default scheduler during the test); whatever the test
    handed to the workers is taken back afterwards."""
    import distributed

    from cc_core import distributed as cc_distributed

    with distributed.Client(bare_cluster) as client:
        yield client
        cc_distributed.teardown(client)
