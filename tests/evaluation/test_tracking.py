"""Training runs logged to MLflow: parameters, metrics per step, the exported model."""

import numpy as np
import pytest

from bridge.frontends.cli import main
from bridge.training.corpus import save_corpus
from bridge.training.music_vae.corpus import Slices
from bridge.training.music_vae.train import VaeTrainingOptions, train_music_vae
from bridge.training.tracking import RUN_FILE, tracking

mlflow = pytest.importorskip("mlflow")


@pytest.fixture
def melodies(tmp_path):
    rng = np.random.default_rng(0)
    tunes = [rng.choice([-2, -2, -1, 60, 62, 64, 67], size=64) for _ in range(6)]
    save_corpus(tmp_path / "train.npz", tunes)
    save_corpus(tmp_path / "valid.npz", tunes[:2])
    return tmp_path


def _train(folder, *extra):
    tiny = ["--config", "basic_rnn", "--layers", "8", "--batch-size", "4", "--window", "32"]
    data = [str(folder / "train.npz"), str(folder / "valid.npz")]
    out = ["--out", str(folder / "run"), "--export", str(folder / "tiny")]
    return main(["train", *data, *tiny, "--eval-every", "2", *out, *extra])


def test_a_training_run_is_logged_and_resumed(melodies):
    store = (melodies / "mlruns").as_uri()
    assert _train(melodies, "--steps", "2", "--tracking-uri", store) == 0
    client = mlflow.MlflowClient(store)
    [experiment] = [e for e in client.search_experiments() if e.name == "train basic_rnn"]
    [run] = client.search_runs([experiment.experiment_id])
    assert run.data.params["config"] == "basic_rnn" and run.data.params["layer_sizes"] == "8"
    assert run.data.params["train"].endswith("train.npz") and run.info.run_name == "run"
    losses = client.get_metric_history(run.info.run_id, "train_loss")
    assert [m.step for m in losses] == [1, 2]
    assert [m.step for m in client.get_metric_history(run.info.run_id, "valid_nll_per_step")] == [2]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"tiny.safetensors", "tiny.json", "history.json"} <= artifacts
    assert run.info.status == "FINISHED"
    # The same run folder, more steps: the same MLflow run goes on.
    assert _train(melodies, "--steps", "4", "--tracking-uri", store) == 0
    [resumed] = client.search_runs([experiment.experiment_id])
    assert resumed.info.run_id == run.info.run_id
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "train_loss")]
    assert steps == [1, 2, 3, 4]


def test_no_track_logs_nothing(melodies, monkeypatch):
    store = melodies / "default_store"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.as_uri())  # where tracking would log
    assert _train(melodies, "--steps", "2", "--no-track") == 0
    assert (melodies / "tiny.safetensors").exists()
    assert not store.exists() and not (melodies / "run" / RUN_FILE).exists()


def test_vae_training_logs_its_losses_and_model(tmp_path):
    from bridge.models.music_vae.config import config_named
    from bridge.models.music_vae.network import NetworkSizes

    rng = np.random.default_rng(0)
    windows = rng.choice([0, 0, 0, 1, 40, 42, 44], size=(8, 32))
    data = Slices(config_named("cat-mel_2bar_small"), windows)
    options = VaeTrainingOptions(sizes=NetworkSizes((8,), (8,), 4), steps=2, eval_every=2)
    store = (tmp_path / "mlruns").as_uri()
    params = {"config": options.config, "steps": options.steps}
    with tracking(True, store, "train-vae tiny", tmp_path / "run", params) as tracker:
        train_music_vae(data, data, tmp_path / "run", options, str(tmp_path / "vae"), tracker)
    client = mlflow.MlflowClient(store)
    [run] = client.search_runs([client.get_experiment_by_name("train-vae tiny").experiment_id])
    assert run.data.params == {"config": "cat-mel_2bar_small", "steps": "2"}
    assert {"train_r_loss", "train_kl_bits", "beta", "valid_kl_bits"} <= set(run.data.metrics)
    assert len(client.get_metric_history(run.info.run_id, "train_r_loss")) == 2
    assert "vae.safetensors" in {a.path for a in client.list_artifacts(run.info.run_id)}
