"""shendu.distributed under MPI (textbook 12.1.3): each test launches ``mpiexec -n 2`` on a script of scripts/
(the script asserts, exits non-zero on failure and prints one ``RESULT {json}`` line on rank 0).

The scripts honour SHENDU_TEST_DEVICE (inherited), so the strict-device pass runs them on the GPU stand-in."""
import json
import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("mpi4py")

from shendu.distributed.launch import find_mpiexec  # noqa: E402

MPIEXEC = find_mpiexec()
pytestmark = pytest.mark.skipif(MPIEXEC is None, reason="no mpiexec (pip install mpich)")
HERE = os.path.join(os.path.dirname(__file__), "scripts")
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def launch(script, *args, n=2, timeout=90, ok=True):
    cmd = ([MPIEXEC, "-n", str(n)] if n else []) + [sys.executable, os.path.join(HERE, script), *map(str, args)]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV, cwd=HERE)
    r.seconds = time.monotonic() - t0
    if ok:
        assert r.returncode == 0, f"{script} failed (exit {r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
    r.result = json.loads(lines[-1][7:]) if lines else None
    return r


def test_collectives_w12_9_ddp_no_sync_and_sampler():
    """Collectives on tensors; W12.9: 2 workers x B == 1 worker x 2B (float64, SGD/Adam, 1, 2 and 4 buckets);
    DDP + DistributedSampler == one process step for step; no_sync; unused parameters; sampler coverage."""
    res = launch("core.py").result
    assert res["collectives"] == "ok"
    assert res["w12_9_max_abs_diff"] < 1e-12
    assert res["ddp_steps"] == 8 and res["ddp_max_abs_diff_f32"] < 1e-5
    assert res["sampler_sizes"] == {"10": 10, "11": 12, "11_drop": 10}


def test_pipeline_predict_and_parameter_server():
    """GPipe micro-batches == one process; predict over shards in order; Downpour parameter server reaches the
    single-process digits loss within 0.1 with staleness 0..3 (fetch every 4 steps)."""
    res = launch("parallel.py").result
    assert res["pipeline_max_abs_diff"] < 1e-12
    ps = res["ps"]
    assert ps["max_staleness"] == 3 and 1.0 < ps["mean_staleness"] < 2.0
    assert ps["loss"] < ps["single_loss"] + 0.1


def test_fit_distributed_checkpoint_resumes_at_world_size_1(tmp_path):
    """fit(distributed=True) on 2 ranks: replicas identical, logs identical, checkpoint written once (rank 0);
    it resumes in one process; accuracy as with one process (global batch 64 both)."""
    r = launch("fit_ckpt.py", "train", tmp_path)
    two = r.result
    assert (r.stdout + r.stderr).count("Epoch 3/3") == 1  # progress printed by rank 0 only
    assert two["loss"][-1] < two["loss"][0] / 3
    one = launch("fit_ckpt.py", "resume", tmp_path, n=0).result
    assert one["weights_sum_loaded"] == pytest.approx(two["weights_sum"], rel=1e-6)
    assert one["loss_resumed"][:3] == pytest.approx(two["loss"])
    assert one["loss_resumed"][4] < one["loss_resumed"][2]
    assert abs(two["acc"] - one["acc_single"]) < 0.05 and two["acc"] > 0.85


def test_worker_that_exits_early_gives_an_error_not_a_hang():
    """Rank 1 exits before DDP's gradient all-reduce: rank 0 raises a RuntimeError naming the op and rank after
    the 1 s timeout and the job is aborted (exit code != 0), instead of hanging."""
    r = launch("dead_peer.py", "ddp", 1, ok=False, timeout=60)
    assert r.returncode != 0
    assert r.seconds < 30
    msg = "DistributedDataParallel all_reduce: rank 0 of 2 timed out after 1 s waiting for its peers"
    assert msg in r.stderr, r.stderr[-2000:]
    assert "aborting the job" in r.stderr
    assert "no error was raised" not in r.stdout


def test_shendu_train_nproc(tmp_path):
    """`shendu train RECIPE --nproc 2`: files and output from rank 0 only (`shendu run` runs the README example)."""
    shendu = [sys.executable, "-m", "shendu"]
    out = tmp_path / "run"
    r = subprocess.run(shendu + ["train", "digits-mlp", "--nproc", "2", "--quick", "--verbose", "2", "--out", str(out)],
                       capture_output=True, text=True, timeout=120, env=ENV)
    assert r.returncode == 0, r.stderr[-2000:]
    both = r.stdout + r.stderr
    assert both.count("digits-mlp: test") == 1 and both.count("Epoch 1/1") == 1, both
    assert sorted(os.listdir(out)) == ["checkpoint.safetensors", "history.csv", "history.png"]


def test_readme_example_runs_on_two_processes(tmp_path):
    """README 'Several processes and machines': the example trains on 2 processes through `shendu run -n 2`."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", readme.split("## Several processes and machines", 1)[1], re.S).group(1)
    script = tmp_path / "train_ddp.py"
    script.write_text(code)
    r = subprocess.run([sys.executable, "-m", "shendu", "run", "-n", "2", str(script)], capture_output=True, text=True,
                       timeout=120, env=ENV, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    world, acc = r.stdout.split()
    assert world == "2" and float(acc) > 0.85
