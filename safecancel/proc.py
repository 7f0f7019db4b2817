"""Who holds a job's lease, and whether that process is provably gone.

A lease names its holder as ``host:pid:nonce`` (``jobs.lease_owner``) and, beside it, what makes the pid
unambiguous on that host (``jobs.lease_proc``): the kernel's boot id, the pid namespace, and the
process's start time in clock ticks since boot. A runner on the same host may then take a job over at
once when the holder is *provably* dead:

- the host has rebooted since the lease was taken (another boot id), or
- no process has that pid in the same pid namespace, or it is a zombie, or
- a process has that pid but started at another time (the pid was reused).

Anything short of proof -- another host, another pid namespace (a container), a platform without
``/proc`` where a live pid cannot be told from a reused one, a lease written without this information
-- counts as alive, and the lease is waited for until it expires. Being wrong the other way would
let two runners work one job at once.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_PROC = Path("/proc")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/PID/stat`` split after the command name (which may itself hold spaces and parentheses)."""
    raw = _read(_PROC / str(pid) / "stat")
    if raw is None or ")" not in raw:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def _start_ticks(pid: int) -> str:
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else ""  # field 22, starttime


def _pid_ns(pid: int | str = "self") -> str:
    try:
        link = os.readlink(_PROC / str(pid) / "ns" / "pid")  # "pid:[4026531836]"
    except OSError:
        return ""
    return link.partition("[")[2].rstrip("]")


@lru_cache(maxsize=1)
def _boot_id() -> str:
    return (_read(_PROC / "sys" / "kernel" / "random" / "boot_id") or "").replace("-", "")[:32]


def hostname() -> str:
    return socket.gethostname()[:60] or "localhost"


@dataclass(frozen=True, slots=True)
class Holder:
    """A lease holder as recorded: where, which process, and what makes its pid unambiguous."""

    host: str
    pid: int | None
    boot: str = ""
    pid_ns: str = ""
    start: str = ""

    @classmethod
    def parse(cls, owner: str | None, proc: str | None) -> Holder:
        host, pid = "?", None
        if owner:
            parts = owner.split(":")
            if len(parts) >= 3:
                host = ":".join(parts[:-2])
                pid = int(parts[-2]) if parts[-2].isdigit() else None
            else:
                host = owner
        boot, ns, start = ((proc or "").split("/") + ["", "", ""])[:3]
        return cls(host, pid, boot, ns, start)


def current(nonce: str) -> tuple[str, str]:
    """``(lease_owner, lease_proc)`` for this process."""
    pid = os.getpid()
    return f"{hostname()}:{pid}:{nonce}", f"{_boot_id()}/{_pid_ns()}/{_start_ticks(pid)}"


def holder_is_dead(owner: str | None, proc: str | None) -> bool:
    """True only when the holder provably no longer runs (see the module docstring)."""
    h = Holder.parse(owner, proc)
    if h.host != hostname() or h.pid is None or not proc:
        return False
    boot = _boot_id()
    if h.boot and boot and h.boot != boot:
        return True  # the host rebooted since: every process of that boot is gone
    if h.pid_ns != _pid_ns():
        return False  # another pid namespace (a container): its pids are not ours to look at
    if not _PROC.is_dir():
        # No /proc: a missing pid is proof; a present one may be a reused pid, so it counts as alive.
        try:
            os.kill(h.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False
    fields = _stat_fields(h.pid)
    if fields is None:
        return not (_PROC / str(h.pid)).exists()
    if fields[0] in ("Z", "X"):
        return True  # killed and not yet reaped by its parent: it will never run again
    return bool(h.start) and len(fields) > 19 and fields[19] != h.start
