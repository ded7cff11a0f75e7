"""Fault points for the crash tests: with WORKSPACE_BUILDERS_FAULT=<point>, the process kills itself
with SIGKILL when it reaches that point, as a power cut or `kill -9` would stop it there.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "WORKSPACE_BUILDERS_FAULT"


def point(name: str) -> None:
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
