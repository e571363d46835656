"""A request held inside a sandbox until the test lets it go: a subprocess in a known phase, without a race
against the clock (what `time.sleep` margins get wrong on a loaded machine)."""

import threading
from typing import Any, Callable

#: the longest a held call waits for `release` (a test that fails before releasing must not hang the server)
HOLD_LIMIT_SECONDS = 120.0


class HeldCall:
    """Replaces `owner.<name>` and holds its `at`-th call that `matches` until `release` is set.

    Hold a sandbox's `run` (called after the token and the rate limit are checked) or a data method
    such as `create_voicemail`: the client has sent its request and waits for the answer. `entered` is
    set when the call is held, `done` when it has returned. As a context manager it releases on exit.
    """

    def __init__(self, owner: Any, name: str, at: int = 1, matches: Callable[..., bool] = lambda *a, **k: True) -> None:
        self.call = getattr(owner, name)
        self.at, self.matches = at, matches
        self.calls = 0
        self.lock = threading.Lock()
        self.entered, self.release, self.done = threading.Event(), threading.Event(), threading.Event()
        setattr(owner, name, self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            if self.matches(*args, **kwargs):
                self.calls += 1
                held = self.calls == self.at
            else:
                held = False
        if not held:
            return self.call(*args, **kwargs)
        self.entered.set()
        self.release.wait(HOLD_LIMIT_SECONDS)
        try:
            return self.call(*args, **kwargs)
        finally:
            self.done.set()

    def __enter__(self) -> "HeldCall":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()


def api_request(prefix: str = "/v1/") -> Callable[..., bool]:
    """`matches` for a sandbox's `run(req, ...)`: API requests whose path starts with `prefix`."""
    return lambda req, *args, **kwargs: req.path.startswith(prefix)
