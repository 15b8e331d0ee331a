"""Internal storage: Kestra's URI shape, and no way out of the storage root."""

from __future__ import annotations

import pytest

from engine.store.storage import InternalStorage, StorageError


def test_task_file_uri_has_kestra_shape(tmp_path):
    storage = InternalStorage(tmp_path)
    uri = storage.task_file_uri("company.team", "pip", "E1", "wdir", "TR1", "out.csv")
    assert uri == "kestra:///company/team/pip/executions/E1/tasks/wdir/TR1/out.csv"
    source = tmp_path / "src.csv"
    source.write_text("a,b\n")
    assert storage.put_file(uri, source, move=True) == 4
    assert not source.exists()
    assert storage.read_bytes(uri) == b"a,b\n"
    assert (tmp_path / "company/team/pip/executions/E1/tasks/wdir/TR1/out.csv").is_file()


@pytest.mark.parametrize("uri", [
    "kestra:///../etc/passwd",
    "kestra:///a/../../etc/passwd",
    "kestra:///a/%2e%2e/%2e%2e/x",
    "kestra:///",
    "http://example.com/x",
])
def test_uris_escaping_storage_are_refused(tmp_path, uri):
    with pytest.raises(StorageError):
        InternalStorage(tmp_path / "s").path_of(uri)


def test_symlink_inside_storage_pointing_out_is_refused(tmp_path):
    root = tmp_path / "s"
    (root / "ns").mkdir(parents=True)
    (root / "ns" / "link").symlink_to(tmp_path)
    with pytest.raises(StorageError):
        InternalStorage(root).path_of("kestra:///ns/link/secret.txt")


def test_a_file_in_storage_that_is_a_link_out_of_it_is_refused(tmp_path):
    root = tmp_path / "s"
    (root / "ns").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("outside")
    (root / "ns" / "out.txt").symlink_to(tmp_path / "secret.txt")
    with pytest.raises(StorageError, match="points outside internal storage"):
        InternalStorage(root).path_of("kestra:///ns/out.txt")


def test_a_link_that_stays_inside_storage_is_followed(tmp_path):
    root = tmp_path / "s"
    (root / "ns" / "real").mkdir(parents=True)
    (root / "ns" / "real" / "f.txt").write_text("inside")
    (root / "ns" / "alias").symlink_to(root / "ns" / "real")
    assert InternalStorage(root).read_bytes("kestra:///ns/alias/f.txt") == b"inside"


def test_a_storage_root_reached_through_a_link_holds_its_files(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "home").symlink_to(tmp_path / "real")
    storage = InternalStorage(tmp_path / "home")
    source = tmp_path / "src.txt"
    source.write_text("x")
    uri = "kestra:///ns/f/executions/E/tasks/t/r/src.txt"
    storage.put_file(uri, source)
    assert storage.read_bytes(uri) == b"x"
    assert (tmp_path / "real/ns/f/executions/E/tasks/t/r/src.txt").read_text() == "x"
