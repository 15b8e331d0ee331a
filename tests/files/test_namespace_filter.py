"""Namespace files: Kestra's include/exclude matching on `/path` and `.kestraignore` rules."""

from __future__ import annotations

import pytest

from engine.store.files.namespace_filter import (
    KestraIgnore,
    NamespaceFileFilter,
    list_namespace_files,
)

FILES = [
    "notes.txt", "secret.key", "main.py",
    "scripts/main.py", "scripts/deep/util.py", "scripts/deep/cache.pyc",
    "lib/scripts/helper.py", "build/out.bin", "build/keep/me.txt", "docs/guide.md",
]


def make_folder(root, ignore: str | None = None):
    for name in FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    if ignore is not None:
        (root / ".kestraignore").write_text(ignore)
    return root


def listed(root, include=(), exclude=()):
    return list_namespace_files(root, NamespaceFileFilter(tuple(include), tuple(exclude)))


def test_no_filter_lists_every_regular_file_sorted(tmp_path):
    make_folder(tmp_path)
    assert listed(tmp_path) == sorted(FILES)


CASES = [
    ("a word-first pattern gets an implicit **/ and matches at any depth",
     ["scripts/**"], [], ["lib/scripts/helper.py", "scripts/deep/cache.pyc", "scripts/deep/util.py", "scripts/main.py"]),
    ("a /-anchored pattern matches from the root only",
     ["/scripts/**"], [], ["scripts/deep/cache.pyc", "scripts/deep/util.py", "scripts/main.py"]),
    ("a word-first file name matches at any depth", ["main.py"], [], ["main.py", "scripts/main.py"]),
    ("a pattern starting with * gets no prefix and cannot match the leading slash",
     ["*.py"], [], []),
    ("**/ reaches every level including the top", ["**/*.py"], [],
     ["lib/scripts/helper.py", "main.py", "scripts/deep/util.py", "scripts/main.py"]),
    ("exclude alone removes matches", [], ["**/deep/**", "build/**"],
     ["docs/guide.md", "lib/scripts/helper.py", "main.py", "notes.txt", "scripts/main.py", "secret.key"]),
    ("include and exclude both apply", ["/scripts/**"], ["**.pyc"],
     ["scripts/deep/util.py", "scripts/main.py"]),
    ("regex: is used as is, on the /-prefixed path", ["regex:/docs/.*\\.md"], [], ["docs/guide.md"]),
]


@pytest.mark.parametrize(("rule", "include", "exclude", "expected"), CASES, ids=[c[0] for c in CASES])
def test_kestra_include_exclude_rule(tmp_path, rule, include, exclude, expected):
    make_folder(tmp_path)
    assert listed(tmp_path, include, exclude) == expected


def test_kestraignore_is_honoured_and_never_listed(tmp_path):
    make_folder(tmp_path, ignore="# secrets\n\n*.key\n*.pyc\nbuild/\n!build/keep/me.txt\n")
    assert listed(tmp_path) == ["docs/guide.md", "lib/scripts/helper.py", "main.py", "notes.txt",
                                "scripts/deep/util.py", "scripts/main.py"]


def test_kestraignore_and_include_together(tmp_path):
    make_folder(tmp_path, ignore="deep/\n")
    assert listed(tmp_path, include=["scripts/**"]) == ["lib/scripts/helper.py", "scripts/main.py"]


def test_negation_reincludes_a_file_when_its_folder_is_not_ignored(tmp_path):
    make_folder(tmp_path, ignore="*.txt\n!notes.txt\n")
    found = listed(tmp_path)
    assert "notes.txt" in found
    assert "build/keep/me.txt" not in found


@pytest.mark.parametrize(("rules", "path", "is_dir", "ignored"), [
    ("*.key", "a/b/secret.key", False, True),          # no slash: any depth
    ("/notes.txt", "notes.txt", False, True),           # leading slash: root only
    ("/notes.txt", "sub/notes.txt", False, False),
    ("docs/guide.md", "x/docs/guide.md", False, False),  # a middle slash anchors too
    ("build/", "build", True, True),                     # trailing slash: folders only
    ("build/", "build", False, False),
    ("**/cache", "a/b/cache", True, True),
    ("logs/**", "logs/x/y.log", False, True),
    ("a/**/z", "a/z", False, True),
    ("a/**/z", "a/b/c/z", False, True),
    ("\\#hash", "#hash", False, True),                   # escaped leading '#'
    ("\\!bang", "!bang", False, True),                   # escaped leading '!'
    ("trailing  ", "trailing", False, True),             # unescaped trailing spaces dropped
    ("file[0-9].txt", "file7.txt", False, True),
    ("file[!0-9].txt", "file7.txt", False, False),
    ("*.log\n!important.log", "important.log", False, False),  # the last match wins
])
def test_gitignore_rules(rules, path, is_dir, ignored):
    assert KestraIgnore(rules).is_ignored(path, is_dir=is_dir) is ignored


def test_symlinks_are_not_listed(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "alias.txt").symlink_to(tmp_path / "notes.txt")
    (tmp_path / "aliasdir").symlink_to(tmp_path / "scripts")
    assert listed(tmp_path) == sorted(FILES)
