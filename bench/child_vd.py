"""Child: VisiData loading a CSV in batch mode, and proof that it loaded every row.

    python -m bench.child_vd FILE ENCODING

Runs what the `vd` command runs (`visidata.main.main_vd`) with
`vd -N -b --motd-url '' -f csv --encoding ENCODING FILE`: no config or plugins (-N), batch mode
(-b: no interface, loading is synchronous), no network fetch of the message of the day. Started
with a terminal as stdout, batch mode loads the sheet and exits; with a pipe it would also write
the whole sheet to stdout, which is not loading. Afterwards the rows of the loaded sheet are
counted, and the process ends with `os._exit`, as `vd` does (tearing down 100,000 rows is not
part of loading).
"""

from __future__ import annotations

import time

T_START = time.clock_gettime(time.CLOCK_MONOTONIC)  # before any other import

import os  # noqa: E402
import sys  # noqa: E402

from bench.childlib import clock, emit, peak_rss_bytes  # noqa: E402


def main(path: str, encoding: str) -> int:
    from visidata import vd
    from visidata.main import main_vd

    sys.argv = ["vd", "-N", "-b", "--motd-url", "", "-f", "csv", "--encoding", encoding, path]
    rc = main_vd()
    t_loaded = clock()
    sheets = [s for s in vd.sheets if getattr(s, "source", None) is not None]
    emit(
        {
            "t_start": T_START,
            "t_loaded": t_loaded,
            "rc": rc,
            "rows": len(sheets[0].rows) if sheets else -1,
            "peak_rss": peak_rss_bytes(),
        }
    )
    return int(rc or 0)


if __name__ == "__main__":
    sys.stderr.flush()
    os._exit(main(sys.argv[1], sys.argv[2]))
