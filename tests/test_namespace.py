"""One installed namespace: every import of the project's folders goes through ``exgen.``,
and ``import exgen`` alone registers the env ids."""

from __future__ import annotations

import ast
import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The folders installed as ``exgen.<name>``: never importable under their own name.
INSTALLED_AS_EXGEN = ("envs", "agents", "physics_baseline", "experiments", "scripts")
#: The folders whose Python files are checked.
CHECKED = (*INSTALLED_AS_EXGEN, "examples", "exgen", "tests")
#: A module path in a string (``"agents.zoo.ppo"``, ``"envs.lunar.env:LunarLanding"``)
#: that starts with one of those folders.
MODULE_STRING = re.compile(rf"^(?:{'|'.join(INSTALLED_AS_EXGEN)})(?:\.[A-Za-z_]\w*)+(?::[\w.]+)?$")


def python_files() -> Iterator[Path]:
    for folder in CHECKED:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def bare_imports(source: str) -> list[str]:
    """``line: what`` for every import of an installed folder by its own name in
    ``source``: ``import``/``from`` statements (relative ones are fine), module paths
    in strings, and the module after ``"-m"`` in a literal command list."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {alias.name}" for alias in node.names
                      if _top(alias.name) in INSTALLED_AS_EXGEN]
        elif (isinstance(node, ast.ImportFrom) and node.level == 0
              and _top(node.module or "") in INSTALLED_AS_EXGEN):
            found.append(f"{node.lineno}: from {node.module} import ...")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and MODULE_STRING.match(node.value)):
            found.append(f"{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.List | ast.Tuple):
            found += _after_dash_m(node.elts)
    return found


def _after_dash_m(elements: list[ast.expr]) -> list[str]:
    """The bare installed folder named right after a ``"-m"`` in a command's elements
    (a dotted one is already caught as a module string)."""
    values = [e.value if isinstance(e, ast.Constant) else None for e in elements]
    return [f"{elements[i].lineno}: -m {module}"
            for i, (flag, module) in enumerate(itertools.pairwise(values))
            if flag == "-m" and module in INSTALLED_AS_EXGEN]


def test_no_module_imports_a_project_folder_outside_the_exgen_namespace():
    files = list(python_files())
    assert len(files) > 50
    offenders = {str(path.relative_to(ROOT)): found for path in files
                 if (found := bare_imports(path.read_text(encoding="utf-8")))}
    assert not offenders, f"import these as exgen.<folder>: {offenders}"


@pytest.mark.parametrize("source", [
    "import agents.sb3\n",
    "from envs.city import public\n",
    "import exgen, physics_baseline\n",
    "command = ['python', '-m', 'experiments.scheduler']\n",
    "command = ('python', '-m', 'scripts')\n",
    "gym.register('X-v0', entry_point='envs.lunar.env:LunarLanding')\n",
])
def test_the_check_catches_each_kind_of_bare_import(source):
    assert len(bare_imports(source)) == 1


@pytest.mark.parametrize("source", [
    "import exgen.agents.sb3\n",
    "from exgen.envs.city import public\n",
    "from . import env\n",
    "command = ['python', '-m', 'exgen.scripts.cli']\n",
    "path = 'agents/hyperparams/ppo.toml'\n",
    "names = ('envs', 'agents')\n",
])
def test_the_check_lets_namespaced_imports_and_other_strings_pass(source):
    assert bare_imports(source) == []


IMPORT_REGISTERS = """
import importlib.util
import gymnasium as gym
ids = {"LunarLanding-v0", "CityDriving-v0"}
assert not ids & set(gym.registry)
import exgen
assert ids <= set(gym.registry)
assert all(importlib.util.find_spec(name) is None for name in FOLDERS), "a bare folder"
print("ok")
"""
#: Gymnasium imports the module before the colon: no ``import exgen`` needed.
MAKE_WITH_PREFIX = """
import gymnasium as gym
for env_id in ("exgen:CityDriving-v0", "exgen:LunarLanding-v0"):
    env = gym.make(env_id)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    env.step(env.action_space.sample())
print("ok")
"""


@pytest.mark.parametrize("code", [IMPORT_REGISTERS, MAKE_WITH_PREFIX],
                         ids=["import-registers", "make-with-prefix"])
def test_the_ids_work_in_a_fresh_process(code, tmp_path):
    # Run outside the repository, so its folders are not on sys.path by accident.
    code = code.replace("FOLDERS", repr(INSTALLED_AS_EXGEN))
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120,
                            env={**os.environ, "SDL_VIDEODRIVER": "dummy", "PYTHONPATH": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
