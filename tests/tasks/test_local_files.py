"""LocalFiles: Kestra's deprecated inputs/outputs task inside a WorkingDirectory."""

from __future__ import annotations

HEADER = "id: lf\nnamespace: company.team\n"


def test_inputs_are_written_and_outputs_captured_as_uris(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: inputs
        type: io.kestra.plugin.core.storage.LocalFiles
        inputs:
          requirements.txt: |
            pandas>=1.3.5
      - id: make
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["cp requirements.txt out.csv", "echo x > out.parquet"]
      - id: output
        type: io.kestra.plugin.core.storage.LocalFiles
        outputs:
          - "*.csv"
          - "*.parquet"
""")
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("inputs").outputs == {"uris": {}}
    uris = result.run_of("output").outputs["uris"]
    assert sorted(uris) == ["out.csv", "out.parquet"]
    assert any("LocalFiles is deprecated" in line for line in result.logs())


def test_inputs_string_rendering_to_json_object(engine):
    result = engine.run(HEADER + """
tasks:
  - id: wdir
    type: io.kestra.core.tasks.flows.WorkingDirectory
    tasks:
      - id: inputs
        type: io.kestra.core.tasks.storages.LocalFiles
        inputs: '{"a.txt": "from json"}'
      - id: show
        type: io.kestra.plugin.scripts.shell.Commands
        commands: ["cat a.txt"]
""")
    assert result.logs("show") == ["from json"]


def test_local_files_outside_working_directory_fails_clearly(engine):
    result = engine.run(HEADER + """
tasks:
  - id: inputs
    type: io.kestra.plugin.core.storage.LocalFiles
    inputs:
      a.txt: x
""")
    assert result.state == "FAILED"
    assert any("must be inside a WorkingDirectory" in line for line in result.logs("inputs"))
