"""Python `dependencies` in a container: installed inside it (uv when the image has it, else pip)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

HEADER = "id: deps\nnamespace: company.team\n"
PROCESS = "    taskRunner:\n      type: io.kestra.plugin.core.runner.Process\n"


def write_wheel(folder: Path, name: str = "roost_probe", version: str = "1.0") -> Path:
    """A minimal pure-Python wheel, so a container can install it with no index reachable."""
    import base64
    import hashlib
    import zipfile

    files = {f"{name}/__init__.py": f"VALUE = 'probe {version}'\n",
             f"{name}-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{name}-{version}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: roost-tests\n"
                                                  "Root-Is-Purelib: true\nTag: py3-none-any\n"}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{name}-{version}.dist-info/RECORD,,")
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
        archive.writestr(f"{name}-{version}.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def test_in_a_container_dependencies_are_installed_inside_it_with_uv_or_pip(engine, docker, tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    write_wheel(wheels)
    script = "import os, roost_probe\\nprint(roost_probe.VALUE, roost_probe.__file__)\\nprint(os.environ.get('UV_CACHE_DIR'))"
    def in_container(task_id: str, manager: str) -> str:
        return f"""
      - id: {task_id}
        type: io.kestra.plugin.scripts.python.Script
        taskRunner:
          type: io.kestra.plugin.scripts.runner.docker.Docker
        containerImage: python:3.11-slim
        packageManager: {manager}
        dependencies: [roost-probe]
        env:   # the wheel copied into the bind-mounted working directory; no index
          UV_FIND_LINKS: "{{{{ workingDir }}}}"
          UV_OFFLINE: "1"
          PIP_FIND_LINKS: "{{{{ workingDir }}}}"
          PIP_NO_INDEX: "1"
        script: "{script}"
"""
    result = engine.run(HEADER + f"""
tasks:
  - id: wdir
    type: io.kestra.plugin.core.flow.WorkingDirectory
    tasks:
      - id: copy
        type: io.kestra.plugin.scripts.shell.Commands
{PROCESS.replace("    ", "        ", 1).replace("      type", "          type")}        commands: [cp {wheels}/*.whl .]
{in_container("with_uv", "UV")}{in_container("with_pip", "PIP")}""")
    assert result.state == "SUCCESS", result.logs()
    for task_id in ("with_uv", "with_pip"):
        assert result.run_of(task_id).runner == "docker python:3.11-slim"
        value_line = next(m for m in result.logs(task_id) if m.startswith("probe 1.0 "))
        assert "/usr/" in value_line   # installed into the container's python, not a host env
        assert result.logs(task_id)[-1] == "/var/cache/roost-python/uv"
    assert any("+ roost-probe==1.0" in m for m in result.logs("with_uv"))        # uv's words
    assert any("Successfully installed roost-probe" in m or "Successfully installed roost_probe" in m
               for m in result.logs("with_pip"))                                  # pip's
    assert importlib.util.find_spec("roost_probe") is None
    assert not (engine.home.cache / "python" / "envs").exists()
