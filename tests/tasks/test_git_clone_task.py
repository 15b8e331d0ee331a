"""The Clone task on real repositories, pointed at local mirrors as a Kestra server config would."""

from __future__ import annotations

from pathlib import Path

from engine.core.config import RoostConfig
from tests.gitrepos import examples_repo

HEADER = "id: gc\nnamespace: company.team\n"


def test_clone_into_shared_directory_keeps_input_files(engine, tmp_path):
    repo = examples_repo(tmp_path)
    result = engine.run(HEADER + f"""
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    inputFiles:
      data.csv: "Name,Age\\nA,1\\n"
    tasks:
      - id: clone
        type: io.kestra.plugin.git.Clone
        url: file://{repo}
        branch: main
      - id: ls
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["ls"]
""")
    assert result.state == "SUCCESS", result.logs()
    assert result.logs("ls") == ["README.md", "data.csv", "scripts"]
    assert result.run_of("clone").outputs["directory"] == result.run_of("ls").working_dir


def test_github_url_is_rewritten_to_a_local_mirror_from_roost_toml(engine, tmp_path):
    repo = examples_repo(tmp_path)
    engine.with_config(RoostConfig(git_url_rewrites=(("https://github.com/kestra-io/examples", f"file://{repo}"),)))
    result = engine.run(HEADER + """
tasks:
  - id: clone
    type: io.kestra.plugin.git.Clone
    url: https://github.com/kestra-io/examples
    branch: main
    directory: src
""")
    assert result.state == "SUCCESS", result.logs()
    assert (Path(result.run_of("clone").outputs["directory"]) / "scripts" / "clean_messy_dataset.py").is_file()


def test_forced_plugin_defaults_override_the_url(engine, tmp_path):
    repo = examples_repo(tmp_path)
    engine.with_config(RoostConfig(plugin_defaults=(
        {"type": "io.kestra.plugin.git.Clone", "forced": True, "values": {"url": f"file://{repo}"}},)))
    result = engine.run(HEADER + """
tasks:
  - id: clone
    type: io.kestra.plugin.git.Clone
    url: https://github.com/kestra-io/examples
""")
    assert result.state == "SUCCESS", result.logs()


def test_bad_branch_fails_with_a_clear_message(engine, tmp_path):
    repo = examples_repo(tmp_path)
    result = engine.run(HEADER + f"""
tasks:
  - id: clone
    type: io.kestra.plugin.git.Clone
    url: file://{repo}
    branch: nope
""")
    assert result.state == "FAILED"
    assert any("nope" in line for line in result.logs("clone"))
    assert not any("Traceback" in line for line in result.logs())


def test_directory_escaping_the_working_directory_is_refused(engine, tmp_path):
    repo = examples_repo(tmp_path)
    result = engine.run(HEADER + f"""
tasks:
  - id: clone
    type: io.kestra.plugin.git.Clone
    url: file://{repo}
    directory: ../../outside
""")
    assert result.state == "FAILED"
    assert not (engine.home.root / "outside").exists()
