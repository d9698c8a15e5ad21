"""Peak memory of the running process, as the benchmarks report it (standard library only, so a
benchmark's child process can import it before timing anything)."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """This process's peak resident memory (MB): ``VmHWM`` of ``/proc/self/status``, not
    ``ru_maxrss``, which on Linux also holds the RSS of the parent that started the process
    (it survives the fork and exec: a benchmark child of a 900 MB parent read 900 MB)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB; not Linux
