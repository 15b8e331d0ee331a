"""Kestra's namespace-file tasks (engine/tasks/namespace_files.py) on local namespace folders."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Engine

NS = "company.team"


def _folder(engine: Engine) -> Path:
    return engine.flow_dir / "namespaces" / NS


def _seed(engine: Engine, files: dict[str, str]) -> Path:
    root = _folder(engine)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def _upload(content: str, extra: str = "", key: str = "/path/file.txt") -> str:
    return f"""
id: upload
namespace: {NS}
tasks:
  - id: source
    type: io.kestra.plugin.core.storage.Write
    content: {content}
  - id: upload
    type: io.kestra.plugin.core.namespace.UploadFiles
    namespace: "{{{{ flow.namespace }}}}"
    filesMap:
      "{key}": "{{{{ outputs.source.uri }}}}"
    destination: /folder
{extra}"""


def test_upload_files_map_puts_storage_files_under_the_destination(engine: Engine) -> None:
    result = engine.run(_upload("first"))
    assert result.state == "SUCCESS", result.logs()
    assert (_folder(engine) / "folder" / "path" / "file.txt").read_text() == "first"


def test_upload_with_conflict_error_fails_when_the_file_exists(engine: Engine) -> None:
    _seed(engine, {"folder/path/file.txt": "old"})
    result = engine.run(_upload("new", "    conflict: ERROR"))
    assert result.state == "FAILED"
    assert any("File '/folder/path/file.txt' already exists in namespace 'company.team' and conflict "
               "is set to ERROR" in line for line in result.logs("upload"))
    assert (_folder(engine) / "folder" / "path" / "file.txt").read_text() == "old"


def test_upload_overwrites_an_existing_file_by_default(engine: Engine) -> None:
    _seed(engine, {"folder/path/file.txt": "old"})
    assert engine.run(_upload("new")).state == "SUCCESS"
    assert (_folder(engine) / "folder" / "path" / "file.txt").read_text() == "new"


def test_upload_with_conflict_skip_keeps_the_existing_file(engine: Engine) -> None:
    _seed(engine, {"folder/path/file.txt": "old"})
    assert engine.run(_upload("new", "    conflict: SKIP")).state == "SUCCESS"
    assert (_folder(engine) / "folder" / "path" / "file.txt").read_text() == "old"


def test_upload_files_globs_the_working_directory(engine: Engine) -> None:
    result = engine.run(f"""
id: upload
namespace: {NS}
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      dbt/models/a.sql: select 1
      dbt/readme.md: hi
      other.txt: not me
    tasks:
      - id: upload
        type: io.kestra.plugin.core.namespace.UploadFiles
        namespace: {NS}
        files:
          - "glob:**/dbt/**"
        destination: /projects
""")
    assert result.state == "SUCCESS", result.logs()
    root = _folder(engine)
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "projects/dbt/models/a.sql", "projects/dbt/readme.md"]


def test_upload_refuses_a_files_map_key_that_leads_outside_the_namespace(engine: Engine) -> None:
    result = engine.run(_upload("evil", key="../../escaped.txt"))
    assert result.state == "FAILED"
    assert any("property 'filesMap'" in line and "'..'" in line for line in result.logs("upload"))
    assert not (engine.flow_dir / "namespaces" / "escaped.txt").exists()
    assert not list(engine.flow_dir.rglob("escaped.txt"))


def test_upload_refuses_a_destination_that_leads_outside_the_namespace(engine: Engine) -> None:
    result = engine.run(_upload("evil").replace("destination: /folder", "destination: /../../up"))
    assert result.state == "FAILED"
    assert any("property 'filesMap'" in line and "leads outside" in line for line in result.logs("upload"))
    assert not list(engine.flow_dir.rglob("file.txt"))


def test_upload_refuses_a_local_absolute_path_as_source(engine: Engine) -> None:
    result = engine.run(f"""
id: upload
namespace: {NS}
tasks:
  - id: upload
    type: io.kestra.plugin.core.namespace.UploadFiles
    namespace: {NS}
    filesMap:
      passwd: /etc/passwd
""")
    assert result.state == "FAILED"
    assert any("must be a kestra:// storage URI" in line for line in result.logs("upload"))
    assert not (_folder(engine) / "passwd").exists()


def test_upload_refuses_a_namespace_that_is_a_path(engine: Engine) -> None:
    result = engine.run(_upload("x").replace('namespace: "{{ flow.namespace }}"', "namespace: ../../x"))
    assert result.state == "FAILED"
    assert any("'../../x' is not a namespace name" in line for line in result.logs("upload"))


def test_upload_without_files_or_files_map_is_refused_at_load(engine: Engine) -> None:
    from engine.core.errors import InvalidFlowError

    try:
        engine.load(f"""
id: upload
namespace: {NS}
tasks:
  - id: upload
    type: io.kestra.plugin.core.namespace.UploadFiles
    namespace: {NS}
""")
    except InvalidFlowError as exc:
        assert "files or filesMap is required" in str(exc)
    else:
        raise AssertionError("an UploadFiles without files loaded")


def _download(files: str, extra: str = "") -> str:
    return f"""
id: download
namespace: other.ns
tasks:
  - id: download
    type: io.kestra.plugin.core.namespace.DownloadFiles
    namespace: {NS}
    files: {files}
{extra}"""


def test_download_files_stores_matching_files_keyed_by_namespace_path(engine: Engine) -> None:
    _seed(engine, {"a/b/test1.txt": "1", "a/b/test2.txt": "2"})
    result = engine.run(_download('["**test1.txt"]'))
    assert result.state == "SUCCESS", result.logs()
    files = dict(result.run_of("download").outputs or {})["files"]
    assert list(files) == ["/a/b/test1.txt"]
    assert engine.runtime.storage.read_bytes(files["/a/b/test1.txt"]) == b"1"
    assert files["/a/b/test1.txt"].endswith("/a/b/test1.txt")


def test_download_files_puts_files_under_the_destination_prefix(engine: Engine) -> None:
    _seed(engine, {"x.txt": "x"})
    result = engine.run(_download("x.txt", "    destination: copies"))
    files = dict(result.run_of("download").outputs or {})["files"]
    assert files["/x.txt"].endswith("/copies/x.txt")


def test_download_files_refuses_a_destination_with_dotdot(engine: Engine) -> None:
    _seed(engine, {"x.txt": "x"})
    result = engine.run(_download("x.txt", "    destination: ../../elsewhere"))
    assert result.state == "FAILED"
    assert any("property 'destination'" in line and "'..'" in line for line in result.logs("download"))


def test_download_files_refuses_a_pattern_leading_outside(engine: Engine) -> None:
    _seed(engine, {"x.txt": "x"})
    result = engine.run(_download('["../secrets/*"]'))
    assert result.state == "FAILED"
    assert any("'../secrets/*' leads outside" in line for line in result.logs("download"))


def test_delete_files_deletes_only_matching_files(engine: Engine) -> None:
    root = _seed(engine, {"a/b/test1.txt": "1", "a/b/test2.txt": "2"})
    result = engine.run(f"""
id: delete
namespace: {NS}
tasks:
  - id: delete
    type: io.kestra.plugin.core.namespace.DeleteFiles
    namespace: {NS}
    files:
      - "**test1*"
""")
    assert result.state == "SUCCESS", result.logs()
    assert not (root / "a/b/test1.txt").exists()
    assert (root / "a/b/test2.txt").read_text() == "2"


def test_delete_files_never_follows_a_symlink_out_of_the_namespace(engine: Engine, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    root = _seed(engine, {"own.txt": "mine"})
    (root / "link").symlink_to(outside, target_is_directory=True)
    result = engine.run(f"""
id: delete
namespace: {NS}
tasks:
  - id: delete
    type: io.kestra.plugin.core.namespace.DeleteFiles
    namespace: {NS}
    files: "**"
""")
    assert result.state == "SUCCESS", result.logs()
    assert not (root / "own.txt").exists()
    assert (outside / "keep.txt").read_text() == "keep"


def test_delete_files_refuses_a_pattern_leading_outside(engine: Engine) -> None:
    _seed(engine, {"x.txt": "x"})
    result = engine.run(f"""
id: delete
namespace: {NS}
tasks:
  - id: delete
    type: io.kestra.plugin.core.namespace.DeleteFiles
    namespace: {NS}
    files: ["glob:/../**"]
""")
    assert result.state == "FAILED"
    assert any("leads outside with '..'" in line for line in result.logs("delete"))


def test_download_files_from_a_namespace_without_folder_warns_and_downloads_nothing(engine: Engine) -> None:
    result = engine.run(_download('["**"]'))
    assert result.state == "SUCCESS"
    assert dict(result.run_of("download").outputs or {})["files"] == {}
    assert any("namespace 'company.team' has no files folder" in line
               for line in result.logs("download", "WARN"))


def _delete(extra: str) -> str:
    return f"""
id: delete
namespace: {NS}
tasks:
  - id: delete
    type: io.kestra.plugin.core.namespace.DeleteFiles
    namespace: {NS}
    files: ["/a/**"]
{extra}"""


def test_delete_files_keeps_emptied_folders_by_default(engine: Engine) -> None:
    root = _seed(engine, {"a/b/c.txt": "c", "keep.txt": "k"})
    assert engine.run(_delete("")).state == "SUCCESS"
    assert (root / "a" / "b").is_dir() and not (root / "a" / "b" / "c.txt").exists()


def test_delete_files_with_delete_parent_folder_removes_emptied_folders(engine: Engine) -> None:
    root = _seed(engine, {"a/b/c.txt": "c", "keep.txt": "k"})
    assert engine.run(_delete("    deleteParentFolder: true")).state == "SUCCESS"
    assert not (root / "a").exists()
    assert root.is_dir() and (root / "keep.txt").read_text() == "k"


def test_upload_skips_a_files_map_entry_whose_storage_file_is_missing(engine: Engine) -> None:
    result = engine.run(_upload("x").replace('"{{ outputs.source.uri }}"', '"{{ outputs.source.uri }}.gone"'))
    assert result.state == "SUCCESS", result.logs()
    assert any("no file in internal storage" in line for line in result.logs("upload", "WARN"))
    assert not (_folder(engine) / "folder" / "path" / "file.txt").exists()


def test_downloaded_files_concatenate_through_a_jq_list_like_kestras_example(engine: Engine) -> None:
    _seed(engine, {"parts/1.txt": "one\n", "parts/2.txt": "two\n"})
    result = engine.run(f"""
id: download
namespace: {NS}
tasks:
  - id: download
    type: io.kestra.plugin.core.namespace.DownloadFiles
    namespace: {NS}
    files: "parts/*.txt"
  - id: concat
    type: io.kestra.plugin.core.storage.Concat
    files: "{{{{ outputs.download.files | jq('.[]') }}}}"
""")
    assert result.state == "SUCCESS", result.logs()
    uri = dict(result.run_of("concat").outputs or {})["uri"]
    assert sorted(engine.runtime.storage.read_bytes(uri).decode().splitlines()) == ["one", "two"]
