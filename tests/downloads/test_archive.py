"""Unpacking archives from the network: plain files and folders only, all inside the target."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest
from served_files import coconet_zip, vae_tar

from bridge.downloads.archive import unpack
from bridge.downloads.errors import ArchiveError


def tar_with(path: Path, *members: tuple[tarfile.TarInfo, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as archive:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            archive.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return path


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.fixture
def into(tmp_path: Path) -> Path:
    folder = tmp_path / "sandbox" / "into"
    folder.mkdir(parents=True)
    return folder


@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_a_tar_in_any_compression_unpacks_its_files_and_folders(tmp_path, into, mode):
    archive = tar_with(
        tmp_path / "a.tar",
        (member("ckpt", tarfile.DIRTYPE), b""),
        (member("ckpt/model.index"), b"index"),
        (member("ckpt/sub/data"), b"x" * 5000),
        mode=mode,
    )
    unpack(archive, into, "tar")
    assert (into / "ckpt" / "model.index").read_bytes() == b"index"
    assert (into / "ckpt" / "sub" / "data").read_bytes() == b"x" * 5000


def test_magentas_checkpoints_unpack_as_they_were_packed(tmp_path, into):
    (tmp_path / "c.zip").write_bytes(coconet_zip())
    (tmp_path / "v.tar").write_bytes(vae_tar())
    (into / "c").mkdir()
    unpack(tmp_path / "c.zip", into / "c", "zip")
    unpack(tmp_path / "v.tar", into, "tar")
    assert (into / "c" / "checkpoint" / "coconet-64layers-128filters" / "config").is_file()
    assert len(list((into / "cat-mel_2bar_big").glob("*.index"))) == 1


@pytest.mark.parametrize(
    "bad",
    [
        member("../escaped"),
        member("ckpt/../../escaped"),
        member("/tmp/escaped-absolute"),
        member("ckpt/link", tarfile.SYMTYPE, "/etc/passwd"),
        member("ckpt/hard", tarfile.LNKTYPE, "ckpt/model.index"),
        member("ckpt/device", tarfile.CHRTYPE),
        member("ckpt/fifo", tarfile.FIFOTYPE),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink", "hardlink", "device", "fifo"],
)
def test_a_tar_member_that_could_escape_refuses_the_whole_archive(tmp_path, into, bad):
    archive = tar_with(tmp_path / "evil.tar", (member("ckpt/model.index"), b"index"), (bad, b"x"))
    with pytest.raises(ArchiveError, match=f"member '{bad.name}'"):
        unpack(archive, into, "tar")
    assert not (tmp_path / "sandbox" / "escaped").exists()
    assert not (into / "ckpt" / "model.index").exists()  # checked before anything is written


@pytest.mark.parametrize("name", ["../escaped", "/escaped", "a/../../escaped", "C:/escaped"])
def test_a_zip_member_outside_the_target_refuses_the_archive(tmp_path, into, name):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(name, b"x")
    with pytest.raises(ArchiveError, match="points outside"):
        unpack(path, into, "zip")
    assert not (tmp_path / "sandbox" / "escaped").exists()


def test_a_zip_symlink_refuses_the_archive(tmp_path, into):
    path = tmp_path / "evil.zip"
    link = zipfile.ZipInfo("config")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(ArchiveError, match="'config' is a link"):
        unpack(path, into, "zip")
    assert not (into / "config").exists()


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_a_corrupt_archive_is_a_clear_error(tmp_path, into, kind):
    path = tmp_path / f"corrupt.{kind}"
    path.write_bytes(b"<html>502 Bad Gateway</html>" * 40)
    with pytest.raises(ArchiveError, match=f"not a readable {kind} archive"):
        unpack(path, into, kind)


def test_a_truncated_archive_is_a_clear_error(tmp_path, into):
    whole = tmp_path / "whole.tar.gz"
    tar_with(whole, (member("data"), bytes(range(256)) * 4000))
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with pytest.raises(ArchiveError, match="not a readable tar archive"):
        unpack(cut, into, "tar")


def test_an_archive_unpacking_beyond_its_bound_is_refused(tmp_path, into):
    archive = tar_with(tmp_path / "big.tar.gz", (member("zeros"), bytes(100_000)))
    with pytest.raises(ArchiveError, match="declares 100000 bytes, more than 1000"):
        unpack(archive, into, "tar", max_bytes=1000)
    with pytest.raises(ArchiveError, match="holds 1 members, more than 0"):
        unpack(archive, into, "tar", max_members=0)


def test_a_member_named_twice_is_refused(tmp_path, into):
    archive = tar_with(tmp_path / "twice.tar", (member("a"), b"1"), (member("./a"), b"2"))
    with pytest.raises(ArchiveError, match="appears twice"):
        unpack(archive, into, "tar")
