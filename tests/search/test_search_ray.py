"""The search through Ray Tune on a real local cluster: a head and a second worker node on
loopback, started and stopped by the test."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

BIN = Path(sys.executable).parent
RAY = BIN / "ray"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    if not RAY.exists():
        pytest.skip("the ray CLI is not installed in this environment")
    # ray's sockets live under its temp dir, and an AF_UNIX path may not exceed 107 bytes:
    # pytest's (xdist) tmp paths are too long, so use a short one under /tmp
    tmp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus", "1", "--disable-usage-stats"]
    try:
        head = subprocess.run([RAY, "start", "--head", "--node-ip-address", "127.0.0.1",
                               "--port", str(port), "--include-dashboard", "false",
                               "--temp-dir", str(tmp / "t"), *common], env=env,
                              capture_output=True, text=True, timeout=180)
        if head.returncode != 0:
            pytest.fail(f"ray start --head failed: {head.stderr[-2000:]}")
        for _attempt in range(3):  # a loaded 2-core machine can miss the head's first reply
            worker = subprocess.run([RAY, "start", "--address", address, "--node-ip-address",
                                     "127.0.0.1", *common], env=env, capture_output=True,
                                    text=True, timeout=180)
            if worker.returncode == 0:
                break
            time.sleep(5)
        else:
            pytest.fail(f"ray start (worker node) failed: {worker.stderr[-2000:]}")
        yield address, env
    finally:
        _stop_cluster(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def _cluster_pids(tmp: Path) -> list[int]:
    """Processes whose command line names ``tmp`` (every Ray process of the test's cluster
    names its session folder under it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if str(tmp).encode() in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:  # gone, or not ours
            continue
    return pids


def _stop_cluster(tmp: Path) -> None:
    """Stop the processes of the cluster this test started, and only those (``ray stop
    --force`` would kill every Ray process of the user on the machine)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = _cluster_pids(tmp)
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + 30
        while pids and time.monotonic() < deadline:
            time.sleep(0.5)
            pids = _cluster_pids(tmp)
        if not pids:
            return


def test_ray_runner_on_a_two_node_cluster(tmp_path, cluster, tiny_args):
    address, env = cluster
    profile = tmp_path / "cluster.yaml"
    profile.write_text(f"kind: ray\naddress: '{address}'\nmax_concurrent: 2\n"
                       "resources_per_trial:\n  cpu: 1\n")
    run = tmp_path / "r"
    proc = subprocess.run(
        [BIN / "nas", "search", *tiny_args, "--trials", "3", "--strategy", "random",
         "--runner", str(profile), "--name", "r", "--out", str(run)],
        capture_output=True, text=True, env={**env, "OMP_WAIT_POLICY": "PASSIVE"},
        timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("study.db", "study.journal", "trials.parquet", "trials.csv", "run.json",
                 "search.log"):
        assert (run / name).is_file(), name
    df = pd.read_parquet(run / "trials.parquet")
    assert df["number"].is_unique and "RUNNING" not in set(df["state"])
    assert (df["state"] == "COMPLETE").sum() >= 3
    assert df.loc[df["state"] == "COMPLETE", "miou"].notna().all()
    assert df["pareto"].any() and any((run / "pareto").glob("trial-*.yaml"))
    import json

    assert json.loads((run / "run.json").read_text())["runner"] == "cluster"
