"""safe_join: names from a flow never lead outside their directory, symlinks included."""

from __future__ import annotations

import os

import pytest

from engine.store.files.safe_paths import UnsafePathError, safe_join


@pytest.mark.parametrize(("name", "expected"), [
    ("a.txt", "a.txt"),
    ("sub/dir/note.txt", "sub/dir/note.txt"),
    ("sub/../b.txt", "b.txt"),
    ("./c.txt", "c.txt"),
    ("a//b.txt", "a/b.txt"),
])
def test_relative_names_land_inside_the_root(tmp_path, name, expected):
    assert safe_join(tmp_path, name) == tmp_path / expected


def test_dot_is_the_root_itself(tmp_path):
    assert safe_join(tmp_path, ".") == tmp_path


@pytest.mark.parametrize(("name", "reason"), [
    ("/etc/passwd", "absolute"),
    ("../escape.txt", ".."),
    ("a/../../escape.txt", ".."),
    ("..", ".."),
    ("bad\0name", "NUL"),
    ("", "empty"),
    ("   ", "empty"),
])
def test_unsafe_names_are_refused_with_a_message_naming_them(tmp_path, name, reason):
    with pytest.raises(UnsafePathError) as caught:
        safe_join(tmp_path, name)
    message = str(caught.value)
    assert "inside the directory" in message
    assert reason in message
    if name.strip() and "\0" not in name:
        assert f"'{name}'" in message


def test_nul_byte_is_shown_escaped_not_raw(tmp_path):
    with pytest.raises(UnsafePathError) as caught:
        safe_join(tmp_path, "bad\0name")
    assert "\0" not in str(caught.value)
    assert "bad\\0name" in str(caught.value)


def test_symlinked_folder_pointing_outside_is_refused(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="symlink"):
        safe_join(root, "link/new.txt")
    assert not (outside / "new.txt").exists()


def test_symlinked_file_pointing_outside_is_refused_even_when_dangling(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("s")
    (root / "existing").symlink_to(tmp_path / "secret.txt")
    (root / "dangling").symlink_to(tmp_path / "not-yet.txt")
    for name in ("existing", "dangling"):
        with pytest.raises(UnsafePathError):
            safe_join(root, name)


def test_symlink_staying_inside_the_root_is_fine(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert safe_join(tmp_path, "alias/x.txt") == tmp_path / "alias" / "x.txt"


def test_root_reached_through_a_symlink_still_works(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "via").symlink_to(tmp_path / "real")
    assert safe_join(tmp_path / "via", "deep/new.txt") == tmp_path / "via" / "deep" / "new.txt"


def test_missing_parents_are_fine(tmp_path):
    target = safe_join(tmp_path, "not/there/yet.txt")
    assert target == tmp_path / "not" / "there" / "yet.txt"
    assert not os.path.exists(target.parent)
