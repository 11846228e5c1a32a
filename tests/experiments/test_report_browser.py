"""The HTML report in a real browser: headless Chromium loads every figure and GIF,
shows no error, and leaves a screenshot.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe`` (the
browser reads commands on its fd 3 and writes replies and events on fd 4, each a JSON
message ended by NUL), so the test needs no Python package and no network port. Without
a ``chromium`` executable (Debian's package; ``.ci/run`` installs it) the test is skipped.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from exgen.experiments.report import write_report
from tests.experiments.test_gallery import tiny_experiment

CHROMIUM = shutil.which("chromium")
#: Flags for a headless browser on a closed machine: no GPU, no sandbox (root in CI),
#: no first-run, sync, update or QUIC traffic.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
         "--disable-quic", "--no-first-run", "--no-default-browser-check",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio", "--window-size=1200,900")
#: Longest wait for one reply or event [s]; generous for a busy shared machine.
TIMEOUT_S = 60.0

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless check needs Debian's `chromium` on PATH "
                             "(apt-get install chromium; .ci/run installs it)")


class DevTools:
    """A minimal DevTools-protocol client of a Chromium started over a pipe."""

    def __init__(self, executable: str, profile: Path, log: Path) -> None:
        browser_in, self.writer = os.pipe()
        self.reader, browser_out = os.pipe()
        # The browser's ends moved to fds >= 10, so that dup2 onto 3 and 4 cannot clash.
        browser_in, browser_out = (_above_ten(fd) for fd in (browser_in, browser_out))
        self.pid = os.posix_spawn(
            executable, [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            os.environ, setsid=True, file_actions=[
                (os.POSIX_SPAWN_DUP2, browser_in, 3), (os.POSIX_SPAWN_DUP2, browser_out, 4),
                (os.POSIX_SPAWN_OPEN, 1, str(log), os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                 0o644), (os.POSIX_SPAWN_DUP2, 1, 2)])
        os.close(browser_in)
        os.close(browser_out)
        self.log = log
        self.buffer = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Call ``method`` and return its result; events that arrive meanwhile are kept."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self.writer, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, **params: Any) -> dict[str, Any]:
        """The first event ``method`` with these ``params``, kept or still to come."""
        def matches(event: dict[str, Any]) -> bool:
            return event.get("method") == method and all(
                event["params"].get(k) == v for k, v in params.items())

        while True:
            found = next((e for e in self.events if matches(e)), None)
            if found is not None:
                return found
            self.events.append(self._receive())

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + TIMEOUT_S
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.reader], [], [], left)[0]:
                raise TimeoutError(f"no message from Chromium in {TIMEOUT_S:g} s (its log: "
                                   f"{self.log})")
            chunk = os.read(self.reader, 1 << 20)
            if not chunk:
                raise ConnectionError(f"Chromium closed its DevTools pipe (its log: "
                                      f"{self.log})")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        """Close the browser; kill its process group if it lingers."""
        with contextlib.suppress(OSError, RuntimeError, TimeoutError, ConnectionError):
            self.send("Browser.close")
        deadline = time.monotonic() + 10
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.killpg(self.pid, signal.SIGKILL)  # its own session: only its processes
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.1)
        os.close(self.writer)
        os.close(self.reader)


def _above_ten(fd: int) -> int:
    """``fd`` moved to a number >= 10 (still closed on exec)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


#: Every image of the page: its kind (``data:image/png``; a URL when not inlined), and
#: whether it decoded.
IMAGES_JS = """JSON.stringify(Array.from(document.images).map(image => ({
  kind: image.src.startsWith('data:') ? image.src.split(';')[0] : image.src, alt: image.alt,
  complete: image.complete, width: image.naturalWidth})))"""


def browse(page: Path, screenshot: Path, profile: Path) -> tuple[list[dict[str, Any]],
                                                                 list[str]]:
    """Open ``page`` in headless Chromium; return its images and the errors it showed,
    and save a full-page PNG screenshot."""
    assert CHROMIUM is not None
    browser = DevTools(CHROMIUM, profile, profile.parent / "chromium.log")
    try:
        target = next(t["targetId"] for t in browser.send("Target.getTargets")["targetInfos"]
                      if t["type"] == "page")
        session = browser.send("Target.attachToTarget", targetId=target,
                               flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session)
        browser.send("Page.setLifecycleEventsEnabled", session, enabled=True)
        browser.events.clear()  # about:blank's
        loader = browser.send("Page.navigate", session, url=page.as_uri())["loaderId"]
        browser.wait_for("Page.lifecycleEvent", name="load", loaderId=loader)
        images = json.loads(browser.send("Runtime.evaluate", session, expression=IMAGES_JS,
                                         returnByValue=True)["result"]["value"])
        size = browser.send("Page.getLayoutMetrics", session)["cssContentSize"]
        shot = browser.send("Page.captureScreenshot", session, format="png",
                            captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": size["width"],
                                  "height": size["height"], "scale": 1})
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        errors = [_error(e) for e in browser.events if _error(e)]
    finally:
        browser.close()
    return images, errors


def _error(event: dict[str, Any]) -> str:
    """The error an event reports, or ''."""
    method, params = event.get("method"), event.get("params", {})
    if method == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        return (f"exception: {details.get('text')} "
                f"{details.get('exception', {}).get('description', '')}")
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        return f"console.{params['type']}: {params.get('args')}"
    if method == "Log.entryAdded" and params["entry"].get("level") == "error":
        return f"log: {params['entry'].get('text')} ({params['entry'].get('url', '')})"
    return ""


def test_the_report_shows_every_figure_and_gif_without_errors(tmp_path: Path) -> None:
    spec, store = tiny_experiment(tmp_path)
    report = write_report(spec, store, tmp_path / "report", gifs=True)
    expected = sum(line.startswith("![") for line in report.read_text().splitlines())
    screenshot = tmp_path / "report.png"
    images, errors = browse(report.parent / "report.html", screenshot, tmp_path / "profile")
    print(f"screenshot of the report: {screenshot}")
    assert errors == []
    assert len(images) == expected
    assert {i["kind"] for i in images} == {"data:image/png", "data:image/gif"}
    broken = [i["alt"] for i in images if not (i["complete"] and i["width"] > 0)]
    assert broken == []
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
