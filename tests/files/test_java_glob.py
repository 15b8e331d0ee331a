"""outputFiles matching: each case is a rule of Java's `glob:` PathMatcher as Kestra applies it."""

from __future__ import annotations

import pytest

from engine.store.files.java_glob import GlobPatternError, glob_to_regex, match_output_files

TREE = [
    "a.csv", "b.txt", ".hidden.csv", "report,final.txt", "odd*name.txt", "oddXname.txt",
    "data/x.csv", "data/y.json", "data/deep/z.csv", "data/deep/w.CSV",
    "logs/2024/app.log",
]


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "work"
    for name in TREE:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def names(root, paths):
    return [p.relative_to(root).as_posix() for p in paths]


CASES = [
    # (rule, patterns, expected)
    ("* stays in the top component and matches dot files", ["*.csv"], [".hidden.csv", "a.csv"]),
    ("**/ needs at least one directory: no top-level match", ["**/*.csv"], ["data/deep/z.csv", "data/x.csv"]),
    ("** alone crosses / and also matches the top level", ["**.csv"],
     [".hidden.csv", "a.csv", "data/deep/z.csv", "data/x.csv"]),
    ("dir/** is the whole subtree", ["data/**"],
     ["data/deep/w.CSV", "data/deep/z.csv", "data/x.csv", "data/y.json"]),
    ("dir/* is one level only", ["data/*"], ["data/x.csv", "data/y.json"]),
    ("dir/**/x needs a directory between", ["data/**/*.csv"], ["data/deep/z.csv"]),
    ("? is exactly one character", ["?.csv"], ["a.csv"]),
    ("[ab] is a class", ["[ab].*"], ["a.csv", "b.txt"]),
    ("[!a] negates a class", ["[!a].csv"], []),
    ("[!a-c] negates a range", ["[!a-c]ata/x.csv", "[!.]*.csv"], ["a.csv", "data/x.csv"]),
    ("{a,b} alternates", ["*.{csv,json}"], [".hidden.csv", "a.csv"]),
    ("alternatives may hold wildcards and slashes", ["{data/*.json,logs/**}"], ["data/y.json", "logs/2024/app.log"]),
    ("a comma outside a group is literal", ["report,final.txt"], ["report,final.txt"]),
    ("\\ escapes a wildcard", ["odd\\*name.txt"], ["odd*name.txt"]),
    ("matching is case-sensitive", ["*.CSV", "**/*.CSV"], ["data/deep/w.CSV"]),
    ("a leading / is the working directory", ["/a.csv"], ["a.csv"]),
    ("several patterns: union, each file once, sorted", ["*.csv", "a.*", "**/*.csv"],
     [".hidden.csv", "a.csv", "data/deep/z.csv", "data/x.csv"]),
    ("a pattern matching nothing is not an error", ["nothing/*.zip"], []),
    ("only files match, never directories", ["data", "data/deep"], []),
    ("regex metacharacters are literal", ["a.c+v", "(a).csv"], []),
]


@pytest.mark.parametrize(("rule", "patterns", "expected"), CASES, ids=[c[0] for c in CASES])
def test_java_glob_rule(tree, rule, patterns, expected):
    assert names(tree, match_output_files(tree, patterns)) == expected


def test_glob_prefix_matches_the_absolute_path(tree):
    patterns = [f"glob:{tree}/data/*.json", "glob:**/deep/*.csv"]
    assert names(tree, match_output_files(tree, patterns)) == ["data/deep/z.csv", "data/y.json"]


def test_glob_prefix_with_a_relative_pattern_matches_nothing(tree):
    assert match_output_files(tree, ["glob:a.csv", "glob:*.csv"]) == []


def test_regex_prefix_is_a_full_match_on_the_absolute_path(tree):
    assert names(tree, match_output_files(tree, [r"regex:.*/deep/[a-z]\.csv"])) == ["data/deep/z.csv"]
    assert match_output_files(tree, ["regex:deep"]) == []


def test_symlinks_are_never_followed(tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("s")
    (tree / "link.csv").symlink_to(tree / "a.csv")
    (tree / "linkdir").symlink_to(tree / "data")
    (tree / "escape").symlink_to(outside)
    found = names(tree, match_output_files(tree, ["**", "*"]))
    assert found == sorted(TREE)
    assert not any(n.startswith(("link", "escape")) for n in found)


def test_returned_paths_sit_under_the_given_directory(tree):
    (path,) = match_output_files(tree, ["data/y.json"])
    assert path == tree / "data" / "y.json"
    assert path.read_text() == "data/y.json"


def test_missing_directory_or_no_patterns_give_nothing(tmp_path):
    assert match_output_files(tmp_path / "missing", ["*"]) == []
    assert match_output_files(tmp_path, []) == []


@pytest.mark.parametrize(("pattern", "reason"), [
    ("{a,{b,c}}", "cannot nest groups"),
    ("{a,b", "missing '}'"),
    ("[abc", "missing ']'"),
    ("a\\", "no character to escape"),
    ("[a/b]", "name separator"),
    ("[z-a]", "invalid range"),
])
def test_patterns_java_rejects_fail_clearly(tree, pattern, reason):
    with pytest.raises(GlobPatternError) as caught:
        match_output_files(tree, [pattern])
    assert reason in caught.value.message
    assert pattern in caught.value.message


@pytest.mark.parametrize(("glob", "regex"), [
    ("*.csv", r"[^/]*\.csv"),
    ("**/x", r".*/x"),
    ("[!a-c]", r"(?!/)[^a-c]"),
    ("[^a]", r"(?!/)[\^a]"),
    ("{a,b}", r"(?:(?:a)|(?:b))"),
])
def test_translation_mirrors_the_jdk(glob, regex):
    assert glob_to_regex(glob) == regex


def test_class_never_matches_a_slash_even_through_a_range(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b").write_text("x")
    (tmp_path / "a0b").write_text("x")
    # '.'-'0' spans '/', but Java intersects every class with [^/].
    assert names(tmp_path, match_output_files(tmp_path, ["a[.-0]b"])) == ["a0b"]
