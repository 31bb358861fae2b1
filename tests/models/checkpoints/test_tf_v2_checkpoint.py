"""TensorFlow V2 checkpoints (MusicVAE's format) read without TensorFlow.

The checkpoints are made at test time by TensorFlow itself, in the magenta environment
(.venv-magenta), with tf.compat.v1 variables and `Saver`, the way MusicVAE's training
saves them; every value is compared with what TensorFlow reads back from the same files.
Importing TensorFlow costs about 10 s, so one subprocess makes everything for the module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

from bridge.models.checkpoints import crc32c as crc_module
from bridge.models.checkpoints import tf_v2
from bridge.models.checkpoints.crc32c import crc32c
from bridge.models.checkpoints.errors import CheckpointError
from bridge.models.checkpoints.sstable import read_table
from bridge.models.checkpoints.tf_v2 import read_v2_checkpoint
from bridge.models.magenta_backend.backend import MagentaBackendError, magenta_python
from bridge.models.music_vae.checkpoint import is_model_variable, load_tf_checkpoint
from bridge.models.music_vae.config import config_named

TRIO = Path(__file__).parents[2] / "fixtures" / "music_vae" / "hierdec-trio_16bar"

# Run by the magenta environment's python with the output folder as its argument. Device
# placement on two CPUs plus `sharded=True` is what makes the Saver write two data shards.
MAKE_CHECKPOINTS = r"""
import json, os, sys
import numpy as np
import tensorflow as tf

tf1 = tf.compat.v1
tf1.disable_eager_execution()
out = os.path.abspath(sys.argv[1])
rng = np.random.default_rng(7)


def save(folder, build, step=None, sharded=False, write_state=True, name="model.ckpt"):
    os.makedirs(os.path.join(out, folder), exist_ok=True)
    graph = tf.Graph()
    with graph.as_default():
        build()
        saver = tf1.train.Saver(sharded=sharded, max_to_keep=None)
        config = tf1.ConfigProto(device_count={"CPU": 2})
        with tf1.Session(graph=graph, config=config) as session:
            session.run(tf1.global_variables_initializer())
            return saver.save(
                session, os.path.join(out, folder, name), global_step=step,
                write_state=write_state, write_meta_graph=False,
            )


def model():
    with tf.device("/cpu:0"):
        tf1.get_variable("dense/kernel", initializer=rng.standard_normal((64, 32)).astype("f4"))
        tf1.get_variable("dense/bias", initializer=rng.standard_normal(32))
        tf1.get_variable("global_step", initializer=np.int64(44629))
        tf1.get_variable("counts", initializer=rng.integers(-9, 9, (3, 4)).astype("i4"))
        tf1.get_variable("mask", initializer=rng.random(5) > 0.5)
        tf1.get_variable("half", initializer=rng.standard_normal(6).astype("f2"))
        tf1.get_variable("empty", initializer=np.zeros((0, 3), "f4"))
        tf1.Variable([b"tag", b"\x00\xffbytes"], name="names")
    with tf.device("/cpu:1"):
        tf1.get_variable("big", initializer=rng.standard_normal((1024, 1024)).astype("f4"))
        tf1.get_variable("bytes", initializer=rng.integers(0, 255, 300).astype("u1"))
        tf1.get_variable(
            "decoder/embedding", shape=(7, 5), initializer=tf1.random_normal_initializer(seed=3),
            partitioner=tf1.fixed_size_partitioner(3),
        )


def small():
    tf1.get_variable("w", initializer=rng.standard_normal((4, 3)).astype("f4"))


def bfloat16():
    tf1.get_variable("w", initializer=tf.zeros((2, 2), tf.bfloat16))


# A MusicVAE checkpoint as magenta's training saves it: the model, Adam's two slots per
# variable, its beta powers and the step counter.
def training(fixture):
    def build():
        reader = tf.train.load_checkpoint(fixture)
        names = sorted(n for n in reader.get_variable_to_shape_map() if n != "global_step")
        weights = [tf1.get_variable(n, initializer=reader.get_tensor(n)) for n in names]
        loss = tf.add_n([tf.reduce_sum(tf.square(w)) for w in weights])
        step = tf1.train.get_or_create_global_step()
        tf1.train.AdamOptimizer(1e-3).minimize(loss, global_step=step)
    return build


prefixes = {
    "sharded": save("sharded", model, step=44629, sharded=True),
    "single": save("single", model, write_state=False, name="cat-mel_2bar_big.ckpt"),
    "two_1": save("two", small, step=1),
    "two_2": save("two", small, step=2),
    "training": save("training", training(sys.argv[2]), step=400),
}
save("bfloat16", bfloat16)
reference, arrays = {}, []
for label, prefix in prefixes.items():
    reader = tf.train.load_checkpoint(prefix)
    names, strings = [], []
    for name, dtype in sorted(reader.get_variable_to_dtype_map().items()):
        if dtype == tf.string:
            strings.append(name)
        else:
            names.append(name)
            arrays.append(reader.get_tensor(name))
    reference[label] = {"prefix": os.path.relpath(prefix, out), "names": names, "strings": strings}
np.savez(os.path.join(out, "reference.npz"), *arrays)
with open(os.path.join(out, "reference.json"), "w") as file:
    json.dump(reference, file)
"""


class Made:
    """The checkpoints TensorFlow wrote and the tensors TensorFlow read back from them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        info = json.loads((folder / "reference.json").read_text())
        arrays = iter(np.load(folder / "reference.npz", allow_pickle=False).values())
        self.prefixes = {label: folder / entry["prefix"] for label, entry in info.items()}
        self.strings = {label: entry["strings"] for label, entry in info.items()}
        self.tensors = {
            label: {name: next(arrays) for name in entry["names"]} for label, entry in info.items()
        }

    def copy(self, name: str, destination: Path) -> Path:
        return Path(shutil.copytree(self.folder / name, destination / name))


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Made:
    try:
        python = magenta_python()
    except MagentaBackendError as error:
        pytest.skip(f"Google's magenta environment is missing: {error}")
    folder = tmp_path_factory.mktemp("tf_v2")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [str(python), "-c", MAKE_CHECKPOINTS, str(folder), str(TRIO / "checkpoint")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return Made(folder)


def assert_as_tensorflow_reads(got: dict[str, np.ndarray], expected: dict[str, np.ndarray]):
    assert sorted(got) == sorted(expected)
    for name, want in expected.items():
        assert got[name].dtype == want.dtype, name
        assert got[name].shape == want.shape, name
        np.testing.assert_array_equal(got[name], want, err_msg=name)


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# -- what TensorFlow wrote, read as TensorFlow reads it ------------------------------------


@pytest.mark.parametrize("label", ["sharded", "single", "two_1", "two_2", "training"])
def test_every_tensor_matches_tensorflow(made, label):
    got = read_v2_checkpoint(made.prefixes[label])
    assert_as_tensorflow_reads(got, made.tensors[label])


def test_kinds_of_tensor_covered(made):
    """The sharded checkpoint holds what the reader must handle, and skips strings."""
    index = made.prefixes["sharded"].with_name("model.ckpt-44629.index")
    keys = [key for key, _ in read_table(index.read_bytes(), str(index))]
    assert sum(key.startswith(b"\x00decoder/embedding\x00\x01") for key in keys) == 3  # slices
    assert sorted(made.prefixes["sharded"].parent.glob("*.data-*")) == [
        made.prefixes["sharded"].with_name(f"model.ckpt-44629.data-0000{i}-of-00002")
        for i in range(2)
    ]
    got = read_v2_checkpoint(made.prefixes["sharded"])
    assert made.strings["sharded"] == ["names"] and "names" not in got
    assert got["global_step"].shape == () and got["global_step"] == 44629
    assert got["empty"].shape == (0, 3)
    assert got["big"].nbytes == 4 << 20
    assert {str(got[n].dtype) for n in got} >= {"float32", "float64", "int64", "bool", "uint8"}
    assert all(array.flags.writeable for array in got.values())


def test_prefix_index_shard_and_folder_name_the_same_checkpoint(made, tmp_path):
    # Moved away from where it was saved: the `checkpoint` file's absolute path is stale.
    folder = made.copy("sharded", tmp_path)
    assert str(made.folder) in (folder / "checkpoint").read_text()
    expected = made.tensors["sharded"]
    for source in (
        folder,
        str(folder / "model.ckpt-44629"),
        folder / "model.ckpt-44629.index",
        folder / "model.ckpt-44629.data-00001-of-00002",
    ):
        assert_as_tensorflow_reads(read_v2_checkpoint(source), expected)


def test_folder_reads_the_checkpoint_its_checkpoint_file_names(made, tmp_path):
    folder = made.copy("two", tmp_path)
    assert_as_tensorflow_reads(read_v2_checkpoint(folder), made.tensors["two_2"])
    assert_as_tensorflow_reads(read_v2_checkpoint(folder / "model.ckpt-1"), made.tensors["two_1"])
    (folder / "checkpoint").unlink()
    with pytest.raises(
        CheckpointError, match=r"several checkpoints \(model\.ckpt-1, model\.ckpt-2\)"
    ):
        read_v2_checkpoint(folder)
    (folder / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-3"\n')
    with pytest.raises(CheckpointError, match=r"model\.ckpt-3\.index is not in"):
        read_v2_checkpoint(folder)


@pytest.mark.parametrize(
    ("archive", "mode", "inside"),
    [
        ("cat-mel_2bar_big.tar", "w", None),  # bare files, no `checkpoint`: Magenta's layout
        ("groovae.tar.gz", "w:gz", "groovae_4bar"),  # in a folder, with a `checkpoint` file
        ("model.tgz", "w:gz", "./nested/model"),
    ],
)
def test_archives_are_read_in_place(made, tmp_path, archive, mode, inside):
    label = "single" if inside is None else "sharded"
    path = tmp_path / archive
    with tarfile.open(path, mode) as tar:
        if inside is not None:
            tar.add(made.folder / label, arcname=inside)
        else:
            for file in sorted((made.folder / label).iterdir()):
                tar.add(file, arcname=file.name)
    assert_as_tensorflow_reads(read_v2_checkpoint(path), made.tensors[label])
    assert not list(tmp_path.glob("*.index")), "nothing is extracted"


def test_a_training_checkpoints_optimizer_state_is_never_read(made, monkeypatch):
    """Only the tensors kept are read and checked: a MusicVAE loads from a training
    checkpoint as from its inference variables alone, reading none of Adam's slots."""
    everything = made.tensors["training"]
    kept = {name: tensor for name, tensor in everything.items() if is_model_variable(name)}
    skipped = set(everything) - set(kept)
    assert {"global_step", "beta1_power", "beta2_power"} < skipped
    assert len(kept) == 42 and len(skipped) == 3 + 2 * len(kept)
    checked: list[int] = []
    monkeypatch.setattr(tf_v2, "crc32c", lambda raw: checked.append(raw.nbytes) or crc32c(raw))
    assert_as_tensorflow_reads(
        read_v2_checkpoint(made.prefixes["training"], is_model_variable), kept
    )
    assert sum(checked) == sum(tensor.nbytes for tensor in kept.values())
    config = config_named("hierdec-trio_16bar")
    network = load_tf_checkpoint(made.prefixes["training"], config)
    reference = load_tf_checkpoint(TRIO / "checkpoint", config)
    for (name, ours), theirs in zip(
        network.state_dict().items(), reference.state_dict().values(), strict=True
    ):
        assert np.array_equal(ours.numpy(), theirs.numpy()), name


# -- damaged and hostile files -------------------------------------------------------------


def test_a_flipped_byte_fails_the_tensors_crc(made, tmp_path):
    folder = made.copy("single", tmp_path)
    shard = folder / "cat-mel_2bar_big.ckpt.data-00000-of-00001"
    flip_byte(shard, shard.stat().st_size // 2)  # inside `big`, the bulk of the shard
    with pytest.raises(CheckpointError, match=r"data-00000-of-00001: tensor 'big' fails its CRC"):
        read_v2_checkpoint(folder)


def test_a_damaged_index_is_reported(made, tmp_path):
    folder = made.copy("single", tmp_path)
    index = folder / "cat-mel_2bar_big.ckpt.index"
    flip_byte(index, 20)
    with pytest.raises(CheckpointError, match=r"cat-mel_2bar_big\.ckpt\.index: .*CRC-32C"):
        read_v2_checkpoint(folder)
    index.write_bytes(b"not a table")
    with pytest.raises(CheckpointError, match=r"\.index: too short"):
        read_v2_checkpoint(folder)


def test_a_missing_or_truncated_shard_is_named(made, tmp_path):
    folder = made.copy("sharded", tmp_path)
    shard = folder / "model.ckpt-44629.data-00001-of-00002"
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"data-00001-of-00002 is truncated: 'big' needs"):
        read_v2_checkpoint(folder)
    shard.unlink()
    with pytest.raises(CheckpointError, match=r"data shard .*data-00001-of-00002 is missing"):
        read_v2_checkpoint(folder)


def test_a_missing_member_of_an_archive_is_named(made, tmp_path):
    path = tmp_path / "partial.tar"
    with tarfile.open(path, "w") as tar:
        tar.add(
            made.folder / "sharded" / "model.ckpt-44629.index", arcname="model.ckpt-44629.index"
        )
    with pytest.raises(CheckpointError, match=r"member model\.ckpt-44629\.data-00000-of-00002 is"):
        read_v2_checkpoint(path)


@pytest.mark.parametrize("name", ["../escape.txt", "/etc/escape.txt", "ok/../../escape.txt"])
def test_archives_with_paths_leaving_them_are_refused(made, tmp_path, name):
    path = tmp_path / "hostile.tar"
    with tarfile.open(path, "w") as tar:
        for file in sorted((made.folder / "single").iterdir()):
            tar.add(file, arcname=file.name)
        member = tarfile.TarInfo(name)  # addfile keeps the name as given, leading "/" too
        tar.addfile(member)
    with pytest.raises(CheckpointError, match=r"points outside the archive"):
        read_v2_checkpoint(path)


def test_links_among_an_archives_checkpoint_files_are_refused(made, tmp_path):
    path = tmp_path / "linked.tar"
    with tarfile.open(path, "w") as tar:
        tar.add(
            made.folder / "single" / "cat-mel_2bar_big.ckpt.data-00000-of-00001",
            "m.data-00000-of-00001",
        )
        link = tarfile.TarInfo("m.index")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(CheckpointError, match=r"member m\.index is a link"):
        read_v2_checkpoint(path)


def test_unsupported_dtypes_are_named(made):
    with pytest.raises(CheckpointError, match=r"tensor 'w' has dtype code 14"):
        read_v2_checkpoint(made.folder / "bfloat16")


def test_things_that_are_not_checkpoints(tmp_path):
    with pytest.raises(CheckpointError, match=r"checkpoint not found: neither .*nothing"):
        read_v2_checkpoint(tmp_path / "nothing")
    with pytest.raises(CheckpointError, match=r"holds no TensorFlow V2 checkpoint"):
        read_v2_checkpoint(tmp_path)
    stray = tmp_path / "notes.txt"
    stray.write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"notes\.txt is not a TensorFlow V2 checkpoint"):
        read_v2_checkpoint(stray)
    fake = tmp_path / "fake.index"
    fake.write_bytes(bytes(100))
    with pytest.raises(CheckpointError, match=r"fake\.index: not a TensorFlow checkpoint table"):
        read_v2_checkpoint(fake)
    broken = tmp_path / "broken.tar"
    broken.write_bytes(b"\x00" * 10)
    with pytest.raises(CheckpointError, match=r"broken\.tar"):
        read_v2_checkpoint(broken)


# -- the checksum --------------------------------------------------------------------------


def test_crc32c_known_values():
    # RFC 3720 (iSCSI) test vectors, and the customary check value.
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_crc32c_lanes_agree_with_the_byte_loop(monkeypatch):
    data = np.random.default_rng(0).integers(0, 256, 70_001, dtype=np.uint8)
    sizes = [2047, 2048, 2049, 16_384, 16_387, 16_388, 40_000, 70_001]
    monkeypatch.setattr(crc_module, "SHORT_INPUT", 1 << 30)
    expected = [crc32c(data[:size]) for size in sizes]
    monkeypatch.setattr(crc_module, "SHORT_INPUT", 2048)
    monkeypatch.setattr(crc_module, "MAX_LANES", 128)  # 16 KiB chunks: several folds
    monkeypatch.setattr(crc_module, "CHUNK_BYTES", 128 * crc_module.LANE_BYTES)
    assert [crc32c(data[:size]) for size in sizes] == expected
    assert crc32c(data.tobytes()) == crc32c(data.view(np.int8)) == expected[-1]
