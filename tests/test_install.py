"""A plain ``pip install`` of the project (no extras) into a fresh virtual environment
makes both worlds, from a folder outside the repository. Needs PyPI; about a minute."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: What ``pip install`` must never see of the working tree (as a clean clone lacks it).
LOCAL_ONLY = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
              ".ruff_cache", ".hypothesis", "runs", "reports", "demo_output", "bench_output")
#: Pip's time limits: the test fails rather than hangs where PyPI does not answer.
PIP_TIMEOUT_S = 600

#: Run by the fresh environment's Python: both worlds reset and step.
SMOKE = """
import gymnasium as gym
import exgen
for env_id in ("exgen:LunarLanding-v0", "exgen:CityDriving-v0"):
    env = gym.make(env_id)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation), env_id
    for _ in range(5):
        env.step(env.action_space.sample())
    env.close()
print(exgen.__file__)
"""


def copy_checkout(destination: Path) -> Path:
    """The project's files as a clean clone has them (git's tracked and unignored files;
    a copy without the local-only folders where git cannot say), under ``destination``."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
        capture_output=True, check=False)
    if listing.returncode != 0:
        shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(*LOCAL_ONLY))
        return destination
    for name in listing.stdout.decode().split("\0"):
        source = ROOT / name
        if name and source.is_file():  # a file deleted but still in the index is left out
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def fresh_python(folder: Path) -> Path:
    """The Python of a new virtual environment in ``folder`` (with pip, no packages)."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    scripts = folder / ("Scripts" if os.name == "nt" else "bin")
    return scripts / ("python.exe" if os.name == "nt" else "python")


def test_a_plain_install_makes_and_steps_both_worlds(tmp_path):
    source = copy_checkout(tmp_path / "exgen-source")
    python = fresh_python(tmp_path / "venv")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-c", str(source / "constraints.txt"), str(source)],
        capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    assert install.returncode == 0, install.stderr[-3000:]
    elsewhere = tmp_path / "elsewhere"  # not the repository: only the install can answer
    elsewhere.mkdir()
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([str(python), "-c", SMOKE], cwd=elsewhere, capture_output=True,
                            text=True, timeout=300,
                            env={**environment, "SDL_VIDEODRIVER": "dummy"})
    assert result.returncode == 0, result.stderr[-3000:]
    installed = Path(result.stdout.strip().splitlines()[-1])
    assert (tmp_path / "venv") in installed.parents  # the installed copy, not the repo's
