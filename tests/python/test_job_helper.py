"""user_batch.job: the helpers users call inside their job code."""

from pathlib import Path

from user_batch import job


def test_helpers_read_the_batch_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BATCH_JOB_ID", "abc")
    monkeypatch.setenv("BATCH_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("BATCH_NOTEBOOK_DIR", str(tmp_path / "nb"))
    assert job.in_batch() and job.job_id() == "abc"
    assert job.output_dir() == tmp_path / "out"
    assert job.notebook_dir() == tmp_path / "nb"


def test_helpers_fall_back_to_the_cwd_outside_a_job(monkeypatch, tmp_path):
    for name in ("BATCH_JOB_ID", "BATCH_OUTPUT_DIR", "BATCH_NOTEBOOK_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert not job.in_batch() and job.job_id() is None
    assert job.output_dir() == Path(tmp_path) == job.notebook_dir()
