"""Headless Chromium driven over the DevTools protocol on a pipe: a page opened from a file, every request it
makes recorded (and any that would leave the machine failed before it is sent), console errors collected,
and JavaScript evaluated in it. No browser driver package: Chromium speaks the protocol on fds 3 and 4.
"""

import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: the flags the machine's notes give: without the background-networking ones Chromium calls Google's hosts
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-pipe",
]
#: what a self-contained page may load: itself and what it embeds
LOCAL_SCHEMES = ("file:", "data:", "about:")


class Browser:
    """One Chromium with one page; `open` waits (bounded) for the load event."""

    def __init__(self, timeout: float = 60) -> None:
        if not os.path.exists(CHROMIUM):
            raise RuntimeError(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        # fds 3 and 4 in the child; copied high first so that neither dup2 clobbers the other's source
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]

        def wire_fds() -> None:
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=wire_fds,
        )
        for fd in (to_browser, from_browser, *high):
            os.close(fd)
        self._buffer, self._next_id, self._events = b"", 0, []
        self.requests: List[str] = []
        self.errors: List[str] = []
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=self.session)
        self.call("Fetch.enable", session=self.session, patterns=[{"urlPattern": "*"}])

    def open(self, path: Path) -> None:
        self.call("Page.navigate", session=self.session, url=path.resolve().as_uri())
        self._wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        reply = self.call("Runtime.evaluate", session=self.session, expression=expression, returnByValue=True)
        if "exceptionDetails" in reply:
            raise AssertionError(f"{expression!r} threw: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def call(self, method: str, session: Optional[str] = None, **params: Any) -> Dict[str, Any]:
        self._next_id += 1
        message: Dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        reply = self._wait_for(self._next_id)
        if "error" in reply:
            raise AssertionError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _wait_for(self, want: Any) -> Dict[str, Any]:
        """Read messages until the reply with id `want` (or the event named `want`), handling events."""
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._read], [], [], left)[0]:
                    raise TimeoutError(f"Chromium: no {want!r} within {self.timeout:.0f}s")
                chunk = os.read(self._read, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"Chromium exited (code {self.process.poll()}) while waiting for {want!r}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            message = json.loads(raw)
            if message.get("id") == want or message.get("method") == want:
                return message
            self._on_event(message)

    def _on_event(self, message: Dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Fetch.requestPaused":
            url, verdict = params["request"]["url"], {"requestId": params["requestId"]}
            local = url.startswith(LOCAL_SCHEMES)
            self._send("Fetch.continueRequest" if local else "Fetch.failRequest", verdict, local)
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            self.errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"])

    def _send(self, method: str, params: Dict[str, Any], local: bool) -> None:
        """A reply-less command from inside the read loop (its answer is read and dropped later)."""
        if not local:
            params = {**params, "errorReason": "BlockedByClient"}
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params, "sessionId": self.session}
        os.write(self._write, json.dumps(message).encode() + b"\0")

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)
        os.close(self._write)
        os.close(self._read)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
