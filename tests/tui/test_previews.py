"""Artifact previews: each kind from real files, reading only the head of big ones."""

from __future__ import annotations

import builtins
import json
import struct
import threading
import zlib
from pathlib import Path
from typing import Any

import pytest

from tui.models.artifacts import Artifact, ArtifactError, external_command, save_artifact
from tui.models.previews import (
    DUCKDB_HINT,
    HEAD_BYTES,
    BinaryPreview,
    ImagePreview,
    JsonPreview,
    MessagePreview,
    TablePreview,
    TextPreview,
    build_preview,
    infer_column_type,
)


def test_csv_becomes_a_table_with_column_types(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("id,name,score,joined,active\n1,Ada,9.5,2024-01-02,true\n2,Grace,,2024-03-04,false\n")
    preview = build_preview(path)
    assert isinstance(preview, TablePreview)
    assert preview.kind == "csv"
    assert preview.columns == ["id", "name", "score", "joined", "active"]
    assert preview.types == ["int", "string", "float", "date", "bool"]
    assert preview.rows[1] == ["2", "Grace", "", "2024-03-04", "false"]
    assert preview.total_rows == 2 and not preview.truncated


def test_tsv_uses_tabs(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("a\tb\n1\thello, world\n")
    preview = build_preview(path)
    assert isinstance(preview, TablePreview) and preview.kind == "tsv"
    assert preview.rows == [["1", "hello, world"]]


def test_a_big_csv_is_read_from_its_first_64_kb_only(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("n,square\n")
        for n in range(200_000):
            out.write(f"{n},{n * n}\n")
    preview = build_preview(path)
    assert isinstance(preview, TablePreview)
    assert preview.truncated and preview.total_rows is None
    assert len(preview.rows) == 199  # TABLE_ROWS minus the header
    assert preview.size == path.stat().st_size > HEAD_BYTES


def test_json_becomes_a_tree(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps({"rows": 2, "names": ["Ada", "Grace"]}))
    preview = build_preview(path)
    assert isinstance(preview, JsonPreview)
    assert preview.value == {"rows": 2, "names": ["Ada", "Grace"]}


def test_text_and_code_are_highlighted_with_a_lexer(tmp_path: Path) -> None:
    path = tmp_path / "clean.py"
    path.write_text("import os\nprint(os.getcwd())\n")
    preview = build_preview(path)
    assert isinstance(preview, TextPreview)
    assert preview.lexer == "python"
    plain = tmp_path / "notes"
    plain.write_text("just words\n")
    assert isinstance(build_preview(plain), TextPreview)


def test_images_are_described(tmp_path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 640, 480, 8, 2, 0, 0, 0))
           + chunk(b"IEND", b""))
    path = tmp_path / "chart.png"
    path.write_bytes(png)
    preview = build_preview(path)
    assert preview == ImagePreview("PNG", 640, 480, len(png))


def test_binary_is_shown_as_hex(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 40)
    preview = build_preview(path)
    assert isinstance(preview, BinaryPreview)
    assert preview.hex_lines[0].startswith("00000000  00 01 02 03")
    assert preview.hex_lines[2].endswith("| !\"#$%&'()*+,-./|")
    assert len(preview.hex_lines) == 128  # the first 2 KB


def write_parquet(path: Path, select: str) -> Path:
    """A real Parquet file written by DuckDB (no pyarrow involved)."""
    import duckdb

    duckdb.connect().execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
    return path


def test_parquet_is_a_table_with_duckdb_types_and_its_row_count(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "t.parquet",
                         "SELECT i AS id, CASE WHEN i = 3 THEN NULL ELSE chr(CAST(96 + i AS INTEGER)) END AS name "
                         "FROM range(1, 4) t(i)")
    preview = build_preview(path)
    assert isinstance(preview, TablePreview) and preview.kind == "parquet"
    assert preview.columns == ["id", "name"]
    assert preview.types == ["BIGINT", "VARCHAR"]
    assert preview.rows == [["1", "a"], ["2", "b"], ["3", ""]]
    assert preview.total_rows == 3 and preview.path == path


def test_a_large_parquet_previews_its_first_rows_and_counts_all_from_metadata(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "big.parquet", "SELECT i, i * 2 AS twice FROM range(500000) t(i)")
    preview = build_preview(path)
    assert isinstance(preview, TablePreview)
    assert len(preview.rows) == 200 and preview.total_rows == 500000 and preview.truncated


def test_json_lines_are_a_table(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"id": 1, "kind": "a"}\n{"id": 2, "kind": null}\n')
    preview = build_preview(path)
    assert isinstance(preview, TablePreview) and preview.kind == "jsonl"
    assert preview.columns == ["id", "kind"] and preview.rows == [["1", "a"], ["2", ""]]


def test_parquet_without_duckdb_says_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 32 + b"PAR1")
    real_import = builtins.__import__

    def no_duckdb(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("duckdb"):
            raise ImportError("No module named 'duckdb'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_duckdb)
    monkeypatch.setattr("tui.models.table_profile._local", threading.local())
    preview = build_preview(path)
    assert preview == MessagePreview(DUCKDB_HINT, "warning")


def test_a_damaged_parquet_is_a_message_not_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1" + b"\0" * 32 + b"PAR1")
    preview = build_preview(path)
    assert isinstance(preview, MessagePreview) and preview.severity == "error"
    assert "not a readable Parquet file" in preview.message


def test_profile_counts_rows_nulls_distinct_min_and_max_per_column(tmp_path: Path) -> None:
    from tui.models.table_profile import profile_table

    path = tmp_path / "people.csv"
    path.write_text("name,age,city\nada,36,paris\nbob,,paris\ncy,41,\ndee,29,rome\n")
    profile = profile_table(path, "csv")
    assert profile.rows == 4
    by_name = {c.name: c for c in profile.columns}
    assert by_name["age"].type == "BIGINT" and by_name["age"].nulls == 1
    assert (by_name["age"].minimum, by_name["age"].maximum) == ("29", "41")
    assert by_name["city"].nulls == 1 and by_name["city"].distinct == 2
    assert by_name["name"].distinct == 4


def test_profile_of_parquet_reads_every_row(tmp_path: Path) -> None:
    from tui.models.table_profile import profile_table

    path = write_parquet(tmp_path / "p.parquet",
                         "SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE i % 3 END AS m FROM range(100000) t(i)")
    profile = profile_table(path, "parquet")
    assert profile.rows == 100000
    m = next(c for c in profile.columns if c.name == "m")
    assert m.nulls == 10000 and (m.minimum, m.maximum) == ("0", "2")


def test_an_unreadable_file_is_a_message(tmp_path: Path) -> None:
    preview = build_preview(tmp_path / "missing.csv")
    assert isinstance(preview, MessagePreview) and preview.severity == "error"


def test_column_types() -> None:
    assert infer_column_type(["1", " 2 ", ""]) == "int"
    assert infer_column_type(["1", "2.5"]) == "float"
    assert infer_column_type(["2024-01-01T10:00:00Z"]) == "datetime"
    assert infer_column_type(["", " "]) == "empty"
    assert infer_column_type(["1", "x"]) == "string"


def test_save_artifact_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    source.write_text("x\n")
    artifact = Artifact("a.csv", source)
    folder = tmp_path / "out"
    folder.mkdir()
    assert save_artifact(artifact, folder) == folder / "a.csv"
    with pytest.raises(ArtifactError, match="already exists"):
        save_artifact(artifact, folder / "a.csv")
    source.write_text("y\n")
    save_artifact(artifact, folder / "a.csv", overwrite=True)
    assert (folder / "a.csv").read_text() == "y\n"


def test_pager_and_editor_commands_come_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGER", "cat -n")
    monkeypatch.setenv("EDITOR", "true")
    monkeypatch.delenv("VISUAL", raising=False)
    assert external_command("pager", tmp_path / "f")[:2] == ["cat", "-n"]
    assert external_command("editor", tmp_path / "f")[0] == "true"
    monkeypatch.setenv("PAGER", "no-such-pager-here")
    with pytest.raises(ArtifactError, match="PAGER"):
        external_command("pager", tmp_path / "f")
