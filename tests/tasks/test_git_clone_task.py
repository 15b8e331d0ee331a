"""The Clone task on real repositories, pointed at local mirrors as a Kestra server config would."""

from __future__ import annotations

from pathlib import Path

from engine.core.config import RoostConfig
from tests.gitrepos import examples_repo

HEADER = "id: gc\nnamespace: company.team\n"
CLONE_GITHUB_EXAMPLES = HEADER + """
tasks:
  - id: clone
    type: io.kestra.plugin.git.Clone
    url: https://github.com/kestra-io/examples
    branch: main
    directory: src
"""


def assert_github_examples_cloned(engine) -> None:
    """The flow names github.com; the rewrite in force must have cloned the local examples repo."""
    result = engine.run(CLONE_GITHUB_EXAMPLES)
    assert result.state == "SUCCESS", result.logs()
    assert (Path(result.run_of("clone").outputs["directory"]) / "scripts" / "clean_messy_dataset.py").is_file()


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
    assert_github_examples_cloned(engine)


def test_a_relative_rewrite_target_in_roost_toml_is_relative_to_that_file(engine, tmp_path, monkeypatch):
    config_dir = tmp_path / "project"
    (config_dir / "mirrors").mkdir(parents=True)
    examples_repo(config_dir / "mirrors")
    (config_dir / "roost.toml").write_text(
        '[git.urlRewrites]\n"https://github.com/kestra-io/examples" = "mirrors/examples.git"\n')
    monkeypatch.chdir(tmp_path)  # neither the cwd nor git's working directory is the file's folder
    config = RoostConfig.load(config_dir / "roost.toml")
    assert config.git_url_rewrites == (
        ("https://github.com/kestra-io/examples", (config_dir / "mirrors" / "examples.git").as_uri()),)
    engine.with_config(config)
    assert_github_examples_cloned(engine)


def test_a_missing_local_mirror_says_how_to_create_it(engine, tmp_path):
    (tmp_path / "roost.toml").write_text(
        '[git]\nmissingMirrorHint = "run `make mirrors` first"\n'
        '[git.urlRewrites]\n"https://github.com/kestra-io/examples" = ".repos/examples.git"\n')
    engine.with_config(RoostConfig.load(tmp_path / "roost.toml"))
    result = engine.run(HEADER + """
tasks:
  - id: clone
    type: io.kestra.plugin.git.Clone
    url: https://github.com/kestra-io/examples
    branch: main
""")
    assert result.state == "FAILED"
    assert result.logs("clone")[-1] == (
        f"the local mirror {(tmp_path / '.repos' / 'examples.git').as_uri()}, which roost.toml's "
        "[git.urlRewrites] puts in place of https://github.com/kestra-io/examples, does not exist: "
        "run `make mirrors` first")


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
