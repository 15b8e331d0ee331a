"""A flow never reads or writes outside its directories: `..`, absolute paths, and symlinks
placed inside the working directory (or the namespace folder, or storage) pointing outside.

Each case is a real `roost run`: a first task plants the symlinks the way a user's script
could, the next one tries to go through them; the attempt must fail with a message naming
the path, and the files outside must be untouched and never copied into storage.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.reliability.conftest import roost

PATHS = pytest.mark.reliability("Security: path escapes",
                                "inputFiles, outputFiles, LocalFiles, Clone, namespace files, read(), "
                                "storage get stay inside their root")

SECRET_CONTENT = "OUTSIDE-CONTENT-must-never-be-read"

PLANT = """
      - id: plant
        type: io.kestra.plugin.scripts.shell.Commands
        commands:
          - ln -s {outside}/secret.txt link.txt
          - ln -s {outside} linkdir
          - ln -s {outside}/missing.txt dangling.txt
"""

# (case id, the attacking task inside the WorkingDirectory, words its error must hold)
WORKDIR_CASES = [
    ("inputFiles-through-file-symlink", """
      - id: attack
        type: io.kestra.plugin.scripts.shell.Commands
        inputFiles:
          link.txt: overwritten
        commands: ["true"]
""", "property 'inputFiles': 'link.txt' goes through a symlink to"),
    ("inputFiles-through-dangling-symlink", """
      - id: attack
        type: io.kestra.plugin.scripts.shell.Commands
        inputFiles:
          dangling.txt: created outside
        commands: ["true"]
""", "property 'inputFiles': 'dangling.txt' goes through a symlink to"),
    ("inputFiles-through-folder-symlink", """
      - id: attack
        type: io.kestra.plugin.scripts.shell.Commands
        inputFiles:
          linkdir/new.txt: created outside
        commands: ["true"]
""", "property 'inputFiles': 'linkdir/new.txt' goes through a symlink to"),
    ("inputFiles-dotdot", """
      - id: attack
        type: io.kestra.plugin.scripts.shell.Commands
        inputFiles:
          ../../../../escape.txt: x
        commands: ["true"]
""", "property 'inputFiles': '../../../../escape.txt' leads outside with '..'"),
    ("inputFiles-absolute", """
      - id: attack
        type: io.kestra.plugin.scripts.shell.Commands
        inputFiles:
          "{outside}/abs.txt": x
        commands: ["true"]
""", "is an absolute path; it must stay inside the directory"),
    ("inputFiles-key-from-template", """
      - id: attack
        type: io.kestra.plugin.scripts.shell.Commands
        inputFiles:
          "{{{{ '..' ~ '/' ~ '..' }}}}/t.txt": x
        commands: ["true"]
""", "leads outside with '..'"),
    ("LocalFiles-inputs-through-symlink", """
      - id: attack
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          linkdir/new.txt: created outside
""", "property 'inputs': 'linkdir/new.txt' goes through a symlink to"),
    ("Clone-directory-through-symlink", """
      - id: attack
        type: io.kestra.plugin.git.Clone
        url: file:///nonexistent/repo.git
        directory: linkdir/clone
""", "property 'directory': 'linkdir/clone' goes through a symlink to"),
    ("Clone-directory-dotdot", """
      - id: attack
        type: io.kestra.plugin.git.Clone
        url: file:///nonexistent/repo.git
        directory: ../../elsewhere
""", "property 'directory': '../../elsewhere' leads outside with '..'"),
]


def outside_folder(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET_CONTENT)
    return outside


def assert_outside_untouched(outside: Path, home: Path) -> None:
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == SECRET_CONTENT
    for stored in (home / "storage").rglob("*"):
        if stored.is_file():
            assert SECRET_CONTENT not in stored.read_text(errors="replace"), stored


def task_states(result_stdout: str) -> dict[str, str]:
    return {r["taskId"]: r["state"]["current"] for r in json.loads(result_stdout)["taskRunList"]}


@PATHS
@pytest.mark.parametrize(("attack", "expected"), [c[1:] for c in WORKDIR_CASES],
                         ids=[c[0] for c in WORKDIR_CASES])
def test_writing_through_symlinks_or_dotdot_in_the_working_directory_is_refused(
        attack, expected, home, flows, tmp_path):
    outside = outside_folder(tmp_path)
    flow = flows / "escape.yml"
    flow.write_text(f"""
id: escape
namespace: reliability.paths
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
{PLANT.format(outside=outside)}
{attack.format(outside=outside)}
""")
    result = roost("run", str(flow), "--json", home=home)
    assert result.returncode == 1, result.stderr
    assert task_states(result.stdout)["attack"] == "FAILED"
    error_lines = [line for line in result.stderr.splitlines() if " attack ERROR " in line]
    assert any(expected in line for line in error_lines), result.stderr
    assert_outside_untouched(outside, home)


@PATHS
def test_output_files_and_local_files_outputs_never_follow_symlinks_out(home, flows, tmp_path):
    outside = outside_folder(tmp_path)
    flow = flows / "capture.yml"
    flow.write_text(f"""
id: capture
namespace: reliability.paths
tasks:
  - id: wd
    type: io.kestra.plugin.core.flow.WorkingDirectory
    outputFiles: ["**", "*.txt", "{outside}/secret.txt"]
    tasks:
{PLANT.format(outside=outside)}
      - id: script
        type: io.kestra.plugin.scripts.shell.Commands
        outputFiles: ["**", "link.txt", "linkdir/*", "../**", "{outside}/*"]
        commands:
          - echo mine > own.txt
          - ln -s {outside}/secret.txt link2.txt
      - id: local
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs: ["**", "linkdir/secret.txt"]
""")
    result = roost("run", str(flow), "--json", home=home)
    assert result.returncode == 0, result.stderr
    runs = {r["taskId"]: r for r in json.loads(result.stdout)["taskRunList"]}
    assert list(runs["script"]["outputs"]["outputFiles"]) == ["own.txt"]
    assert runs["local"]["outputs"]["uris"] == {}
    assert runs["wd"]["outputs"].get("outputFiles", {}) == {}
    assert_outside_untouched(outside, home)


@PATHS
def test_read_and_namespace_files_stay_in_the_namespace_folder_and_this_execution(home, flows, tmp_path):
    outside = outside_folder(tmp_path)
    namespace = flows / "namespaces" / "reliability.paths"
    namespace.mkdir(parents=True)
    (namespace / "ok.txt").write_text("namespace file")
    (namespace / "link.txt").symlink_to(outside / "secret.txt")
    (namespace / "linkdir").symlink_to(outside)
    first = flows / "producer.yml"
    first.write_text("""
id: producer
namespace: reliability.paths
tasks:
  - id: make
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["data.txt"]
    commands: ["echo other execution > data.txt"]
""")
    produced = roost("run", str(first), "--json", home=home)
    assert produced.returncode == 0, produced.stderr
    foreign_uri = json.loads(produced.stdout)["taskRunList"][0]["outputs"]["outputFiles"]["data.txt"]

    reads = {
        "fine": ("ok.txt", None),
        "symlink": ("link.txt", "goes through a symlink to"),
        "symlinkdir": ("linkdir/secret.txt", "goes through a symlink to"),
        "dotdot": ("../../outside/secret.txt", "leads outside with '..'"),
        "absolute": (str(outside / "secret.txt"), "No such file"),
        "foreign": (foreign_uri, "does not belong to this execution; a flow may only read its own files"),
        "dotdot-uri": ("kestra:///../../../etc/passwd", "does not belong to this execution"),
    }
    tasks = "".join(f"""
  - id: read-{name}
    type: io.kestra.plugin.core.log.Log
    allowFailure: true
    message: "got {{{{ read('{path}') }}}}"
""" for name, (path, _) in reads.items())
    flow = flows / "reader.yml"
    flow.write_text(f"""
id: reader
namespace: reliability.paths
tasks:{tasks}
  - id: copy
    type: io.kestra.plugin.scripts.shell.Commands
    namespaceFiles:
      enabled: true
    commands: ["ls -R"]
""")
    result = roost("run", str(flow), "--json", home=home)
    states = task_states(result.stdout)
    assert states.pop("read-fine") == "SUCCESS"
    assert "read-fine INFO  got namespace file" in result.stderr
    for name, (_path, expected) in reads.items():
        if expected is None:
            continue
        assert states[f"read-{name}"] == "WARNING", name  # failed, allowed to
        line = next(line for line in result.stderr.splitlines() if f"read-{name} ERROR" in line)
        assert expected in line, line
    # Copying namespace files skips the symlinks: only the regular file arrives.
    assert states["copy"] == "SUCCESS"
    listed = [line.split(" copy INFO  ")[1] for line in result.stderr.splitlines() if " copy INFO  " in line]
    assert "ok.txt" in listed and "link.txt" not in listed and not any("linkdir" in x for x in listed)
    assert SECRET_CONTENT not in result.stderr + result.stdout
    assert_outside_untouched(outside, home)


@PATHS
def test_storage_get_refuses_uris_leaving_storage_and_symlinks_inside_it(home, flows, tmp_path):
    outside = outside_folder(tmp_path)
    flow = flows / "f.yml"
    flow.write_text("""
id: f
namespace: reliability.paths
tasks:
  - id: make
    type: io.kestra.plugin.scripts.shell.Commands
    outputFiles: ["data.txt"]
    commands: ["echo stored > data.txt"]
""")
    made = roost("run", str(flow), "--json", home=home)
    uri = json.loads(made.stdout)["taskRunList"][0]["outputs"]["outputFiles"]["data.txt"]
    assert roost("storage", "get", uri, home=home).stdout == "stored\n"
    planted = home / "storage" / "reliability" / "paths" / "f" / "link.txt"
    planted.symlink_to(outside / "secret.txt")
    (home / "storage" / "reliability" / "linkdir").symlink_to(outside)
    for bad, expected in [
        ("kestra:///../../../../etc/passwd", "is not a valid storage path"),
        ("kestra:///reliability/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "is not a valid storage path"),
        ("kestra:///reliability/paths/f/link.txt", "points outside internal storage"),
        ("kestra:///reliability/linkdir/secret.txt", "points outside internal storage"),
        (f"kestra://{outside}/secret.txt", "no file in internal storage"),
        (f"file://{outside}/secret.txt", "is not an internal storage URI"),
        ("kestra:///a/b%00c", "is not a valid storage path"),
    ]:
        result = roost("storage", "get", bad, home=home)
        assert result.returncode == 2, bad
        assert expected in result.stderr, (bad, result.stderr)
        assert SECRET_CONTENT not in result.stdout
    out = tmp_path / "copy.txt"
    result = roost("storage", "get", "kestra:///reliability/paths/f/link.txt", "-o", str(out), home=home)
    assert result.returncode == 2 and not out.exists()
