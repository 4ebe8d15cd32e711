"""Client time of S3 uploads and downloads beside obstore, on the in-memory stub (http, https) and on moto.

Run from the repository root::

    UV_PYTHON_DOWNLOADS=never uv run --all-packages --all-extras python benchmarks/upload_cpu.py
    ... benchmarks/upload_cpu.py --servers stub --reps 3 --only cc-raw-s3,obstore-s3

For each server (``--servers``, default ``moto,stub,stub-https``: see ``s3stub.py``) one server process and one
bucket; each contestant (``--only``, default the boto3 floor, obstore, and this project's raw path with its
defaults and with the requests it sent before issue #19) runs in its own client process (``client.py``), as in
``run.py``: a warm-up, then ``--reps`` uploads and downloads of one array, medians of wall time and of the
client's CPU time (``process_time``, all threads). Prints one markdown table, with each time also as a multiple
of obstore's on the same server.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from contestants import CONTESTANTS  # noqa: E402
from run import ENV_DIR, SERVERS, client_environment, peer_pythons, run_client, start_server  # noqa: E402

DEFAULT_CONTESTANTS = ("floor-boto3-s3", "obstore-s3", "cc-raw-s3", "cc-raw-signed-crc32-s3")
REFERENCE = "obstore-s3"


def measure(servers: list[str], contestants: list[str], kind: str, mib: float, reps: int,
            log: Any) -> list[dict[str, Any]]:
    """One row per (server, contestant): the client's numbers (see ``client.py``) or why it failed."""
    pythons, unavailable = peer_pythons({CONTESTANTS[cid].env for cid in contestants}, log)
    if unavailable:
        raise SystemExit("cannot build the peer venvs: " + "; ".join(f"{e}: {r}" for e, r in unavailable.items()))
    workdir = Path(tempfile.mkdtemp(prefix="work-", dir=ENV_DIR))
    environment = client_environment(workdir)
    rows = []
    try:
        for kind_of_server in servers:
            server = start_server(kind_of_server)
            try:
                server.create_bucket("cc-bench")
                for cid in contestants:
                    log(f"{kind_of_server}: {cid} ...")
                    request = {"contestant": cid, "kind": kind, "mib": mib, "reps": reps, "budget": 60.0,
                               "workdir": str(workdir), "endpoint": server.endpoint, "ca_bundle": server.ca_bundle,
                               "bucket": "cc-bench", "prewarm": True}
                    row = {"server": kind_of_server, "id": cid, **run_client(pythons[CONTESTANTS[cid].env], request,
                                                                           environment)}
                    server.stored_bytes_and_clear("cc-bench", f"{cid}/")
                    if "failed" in row:
                        log(f"    failed: {row['failed']}\n{row.get('log', '')}")
                    rows.append(row)
            finally:
                server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    lines = ["| server | contestant | up s | up CPU s | up x obstore (wall / CPU) | down s | down CPU s "
             "| down x obstore (wall / CPU) | reps |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        if "upload" not in row:
            lines.append(f"| {row['server']} | `{row['id']}` | {row.get('failed') or row.get('skipped')} |" + " |" * 6)
            continue
        reference = next((r for r in rows if r["server"] == row["server"] and r["id"] == REFERENCE and "upload" in r),
                         None)
        cells = [row["server"], f"`{row['id']}`"]
        for phase in ("upload", "download"):
            numbers = row[phase]
            cells += [f"{numbers['wall']:.3f}", f"{numbers['cpu']:.3f}"]
            if reference:
                theirs = reference[phase]
                cpu_ratio = numbers["cpu"] / max(theirs["cpu"], 1e-6)
                cells.append(f"{numbers['wall'] / theirs['wall']:.2f} / {cpu_ratio:.2f}")
            else:
                cells.append("-")
        cells.append(f"{row['upload']['reps']}/{row['download']['reps']}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default=",".join(SERVERS),
                        help=f"comma-separated, of {', '.join(SERVERS)} (default all, in that order)")
    parser.add_argument("--only", default=",".join(DEFAULT_CONTESTANTS), help="contestant ids, comma-separated")
    parser.add_argument("--kind", default="float64", help="array kind (default float64)")
    parser.add_argument("--mib", type=float, default=128.0, help="array size in MiB (default 128)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions per phase (default 5)")
    args = parser.parse_args(argv)
    servers = args.servers.split(",")
    unknown = [s for s in servers if s not in SERVERS] + [c for c in args.only.split(",") if c not in CONTESTANTS]
    if unknown:
        parser.error(f"unknown server or contestant: {', '.join(unknown)} (servers: {', '.join(SERVERS)}; "
                     "contestants: run.py --list)")
    rows = measure(servers, args.only.split(","), args.kind, args.mib, args.reps,
                   lambda message: print(message, file=sys.stderr, flush=True))
    print(f"{args.kind}, {args.mib:g} MiB, medians of {args.reps}\n")
    print(render(rows))
    return 1 if any("upload" not in row for row in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
