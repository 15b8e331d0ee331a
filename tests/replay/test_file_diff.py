"""file_diff: text is diffed like git shows it, binary is not, long diffs are cut."""

from __future__ import annotations

import pytest

from engine.workdir.file_diff import is_probably_text, text_diff


@pytest.mark.parametrize(("data", "expected"), [
    (b"plain ascii\n", True),
    ("héllo wörld ✓\n".encode(), True),
    (b"", True),
    (b"abc\x00def", False),
    (b"\x89PNG\r\n\x1a\n\x00\x00", False),
    (b"caf\xe9 latin-1", False),
    ("ab✓".encode()[:-1], True),  # a multibyte character cut at the end
    (b"a" * 8191 + "✓".encode(), True),  # cut by the 8 KiB sniff window
    (b"a" * 9000 + b"\x00", True),  # a NUL past the window is not looked at
])
def test_is_probably_text(data, expected):
    assert is_probably_text(data) is expected


def test_text_diff_is_a_unified_diff_with_git_style_headers():
    old = b"one\ntwo\nthree\nfour\nfive\nsix\nseven\n"
    new = b"one\ntwo\nthree\nFOUR\nfive\nsix\nseven\n"
    assert text_diff(old, new, "out/list.txt", context=1) == [
        "--- a/out/list.txt",
        "+++ b/out/list.txt",
        "@@ -3,3 +3,3 @@",
        " three",
        "-four",
        "+FOUR",
        " five",
    ]


def test_added_and_deleted_files_diff_against_dev_null():
    assert text_diff(None, b"new\n", "n.txt") == ["--- /dev/null", "+++ b/n.txt", "@@ -0,0 +1 @@", "+new"]
    assert text_diff(b"old\n", None, "o.txt") == ["--- a/o.txt", "+++ /dev/null", "@@ -1 +0,0 @@", "-old"]


def test_a_missing_final_newline_is_shown_like_git():
    assert text_diff(b"a\nb\n", b"a\nb", "f.txt") == [
        "--- a/f.txt", "+++ b/f.txt", "@@ -1,2 +1,2 @@", " a", "-b", "+b",
        "\\ No newline at end of file",
    ]


def test_equal_content_gives_no_lines():
    assert text_diff(b"same\n", b"same\n", "f.txt") == []


@pytest.mark.parametrize(("old", "new"), [
    (b"text\n", b"\x00\x01binary"),
    (b"\x00\x01binary", b"text\n"),
    (None, b"\xff\xfe\x00"),
])
def test_binary_on_either_side_gives_none(old, new):
    assert text_diff(old, new, "data.bin") is None


def test_long_diffs_are_cut_with_a_count_of_the_rest():
    old = b"".join(f"line {i}\n".encode() for i in range(100))
    new = b"".join(f"LINE {i}\n".encode() for i in range(100))
    full = text_diff(old, new, "big.txt")
    cut = text_diff(old, new, "big.txt", max_lines=10)
    assert len(full) == 3 + 200
    assert cut == [*full[:10], "… 193 more lines"]


def test_only_newlines_split_lines():
    old = b"a\x0cb\r\nc\n"
    new = b"a\x0cb\r\nC\n"
    assert text_diff(old, new, "f", context=0) == ["--- a/f", "+++ b/f", "@@ -2 +2 @@", "-c", "+C"]
