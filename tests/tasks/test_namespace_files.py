"""namespaceFiles: a namespace's local folder copied into the working directory."""

from __future__ import annotations

from engine.execution.runtime import RunOptions

HEADER = "id: nsf\nnamespace: company.team\n"


def make_namespace(root):
    ns = root / "namespaces" / "company.team"
    (ns / "scripts" / "deep").mkdir(parents=True)
    (ns / "scripts" / "main.py").write_text("print('main')\n")
    (ns / "scripts" / "deep" / "util.py").write_text("X = 1\n")
    (ns / "notes.txt").write_text("notes\n")
    (ns / "secret.key").write_text("nope\n")
    (ns / ".kestraignore").write_text("*.key\n")
    return ns


def test_namespace_files_are_copied_with_include_and_kestraignore(engine):
    make_namespace(engine.flow_dir)
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    namespaceFiles:
      enabled: true
      include: ["scripts/**"]
    tasks:
      - id: ls
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["find . -type f | sort"]
""")
    assert result.state == "SUCCESS", result.logs()
    assert result.logs("ls") == ["./scripts/deep/util.py", "./scripts/main.py"]


def test_exclude_and_disabled(engine):
    make_namespace(engine.flow_dir)
    result = engine.run(HEADER + """
tasks:
  - id: a
    type: io.kestra.plugin.scripts.shell.Commands
    namespaceFiles:
      enabled: true
      exclude: ["**/deep/**"]
    commands: ["find . -type f -not -name '.roost*' | sort"]
  - id: b
    type: io.kestra.plugin.scripts.shell.Commands
    namespaceFiles:
      enabled: false
    commands: ["find . -type f | wc -l"]
""")
    assert result.logs("a") == ["./notes.txt", "./scripts/main.py"]
    assert result.logs("b") == ["0"]


def test_namespace_files_option_points_at_any_folder(engine, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "only.txt").write_text("from option\n")
    result = engine.run(HEADER + """
tasks:
  - id: a
    type: io.kestra.plugin.scripts.shell.Commands
    namespaceFiles:
      enabled: true
    commands: ["cat only.txt"]
""", options=RunOptions(namespace_dirs={"company.team": other}))
    assert result.logs("a") == ["from option"]


def test_read_function_reads_namespace_files(engine):
    make_namespace(engine.flow_dir)
    result = engine.run(HEADER + """
tasks:
  - id: r
    type: io.kestra.plugin.core.debug.Return
    format: "{{ read('notes.txt') | trim }}"
""")
    assert result.run_of("r").outputs["value"] == "notes"
