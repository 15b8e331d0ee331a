"""LocalFiles: Kestra's deprecated inputs/outputs task, inside a WorkingDirectory or on its own."""

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


def test_local_files_outside_working_directory_stores_its_own_inputs(engine):
    result = engine.run(HEADER + """
tasks:
  - id: inputs
    type: io.kestra.plugin.core.storage.LocalFiles
    inputs:
      a.txt: "{{ flow.id }} content"
      data/b.csv: x,y
      skip.log: not captured
    outputs:
      - "**.txt"
      - "data/*.csv"
  - id: show
    type: io.kestra.plugin.core.log.Log
    message: "{{ read(outputs.inputs.uris['a.txt']) }}"
""")
    assert result.state == "SUCCESS", result.logs()
    uris = result.run_of("inputs").outputs["uris"]
    assert sorted(uris) == ["a.txt", "data/b.csv"]
    assert engine.runtime.storage.read_bytes(uris["data/b.csv"]) == b"x,y"
    assert result.logs("show") == ["lf content"]


def test_local_files_outside_working_directory_leaves_no_directory_behind(engine):
    result = engine.run(HEADER + """
tasks:
  - id: inputs
    type: io.kestra.plugin.core.storage.LocalFiles
    inputs:
      a.txt: x
""")
    assert result.state == "SUCCESS", result.logs()
    assert result.run_of("inputs").outputs == {"uris": {}}
    workdirs = engine.home.workdirs
    assert not workdirs.exists() or not any(workdirs.rglob("a.txt"))


def test_local_files_outside_working_directory_refuses_an_escaping_input_name(engine):
    result = engine.run(HEADER + """
tasks:
  - id: inputs
    type: io.kestra.plugin.core.storage.LocalFiles
    inputs:
      ../escaped.txt: x
""")
    assert result.state == "FAILED"
    assert any("property 'inputs'" in line and "'..'" in line for line in result.logs("inputs"))
