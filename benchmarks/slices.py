"""Reading ``a[i:i+10]`` of a big stored array (issue #15): bytes moved and time, against the whole
download and against zarr v3 + obstore reading the same rows from a chunked zarr array.

Usage, from the repository root::

    UV_PYTHON_DOWNLOADS=never uv run --all-packages --all-extras python benchmarks/slices.py
    ... benchmarks/slices.py --mib 64 --reps 5            # a quicker run
    ... benchmarks/slices.py --no-peers --stores local    # no peer venv, local disk only
    ... benchmarks/slices.py --list                       # the contestants

A float64 array of ``--mib`` MiB (1,024 columns, rows of 8 KiB; the same seed in every process) is
stored by each contestant in its own client process (``slice_client.py``) on a moto server and on
local disk: cottoncandy raw, aes-gcm encrypted, seekable zstd and seekable zstd + aes-gcm (a form
whose transform is not registered in the installed cottoncandy says "not available"); zarr v3 +
obstore with chunks of ``--chunk-kib`` KiB of whole rows, uncompressed and zstd; and a floor, one
plain ranged read of exactly the selection's bytes. Every contestant reads the same random rows.

Bytes moved are counted the same way for everyone: on S3, the server-to-client bytes (and request
lines) of a byte-counting TCP proxy in front of moto (``byteproxy.py``); on local disk, the reading
process's ``/proc/self/io`` ``rchar`` (and ``syscr``, read calls, in the requests column).
cottoncandy's own count of the bytes it requested from the backend (``ReadCounter``) is shown too.

The targets (issue #15): bytes moved within 2x the selection plus one segment/frame of the form,
and time within 2x of zarr's (raw and aes-gcm against uncompressed zarr, the zstd forms against
zarr + zstd). moto re-reads the whole stored object for every ranged GET, so on moto a slice of
one big object pays for reading the whole object inside the server: the floor row shows that
cost, which zarr pays only for its 1 MiB chunk objects. Prints a markdown table; ``--json`` also
writes the numbers. Nothing here is a timed test.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from byteproxy import ByteCountingProxy  # noqa: E402
from run import ENV_DIR, SERVERS, client_environment, machine, peer_pythons, run_client, start_server, version_line  # noqa: E402
from slice_contestants import CONTESTANTS, select  # noqa: E402

MiB = 1 << 20
BUCKET = "cc-bench-slices"
COLUMNS = 1024
#: the issue's targets
BYTES_FACTOR, TIME_FACTOR = 2.0, 2.0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    ids = select(args.only, args.stores, not args.no_peers)
    pythons, unavailable = peer_pythons({CONTESTANTS[cid].env for cid in ids}, log)
    rows_total = max(int(args.mib * MiB) // 8 // COLUMNS, 1)  # as client.make_array shapes it
    if not 0 < args.rows <= rows_total:
        raise SystemExit(f"--rows must be between 1 and the array's {rows_total} rows, not {args.rows}")
    starts = np.random.default_rng(args.seed).integers(0, rows_total - args.rows + 1, args.reps).tolist()

    workdir = Path(tempfile.mkdtemp(prefix="slices-", dir=_ensure(Path(args.workdir) if args.workdir else ENV_DIR)))
    environment = client_environment(Path(tempfile.mkdtemp(prefix="config-", dir=workdir)))
    server = proxy = None
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    try:
        if any(CONTESTANTS[cid].store == "s3" for cid in ids):
            server = start_server(args.server)
            server.create_bucket(BUCKET)
            proxy = ByteCountingProxy(server.endpoint).start()
        for cid in ids:
            cls = CONTESTANTS[cid]
            result: dict[str, Any] = {"id": cid, "store": cls.store, "role": cls.role, "compare": cls.compare,
                                      "description": cls.description}
            results.append(result)
            if cls.env in unavailable:
                result["skipped"] = f"{cls.env} venv: {unavailable[cls.env]}"
                continue
            log(f"{cid} ...")
            request = {"contestant": cid, "mib": args.mib, "rows": args.rows, "starts": starts,
                       "whole_reps": args.whole_reps, "chunk_bytes": args.chunk_kib << 10, "workdir": str(workdir),
                       "bucket": BUCKET, "endpoint": proxy.url if proxy else None,
                       "control": list(proxy.control) if proxy and cls.store == "s3" else None}
            result.update(run_client(pythons[cls.env], request, environment, script="slice_client.py",
                                     timeout=args.timeout))
            result["stored"] = (sum(server.clear(BUCKET, f"{cid}/").values()) if cls.store == "s3" and server
                                else _local_stored_and_clear(workdir / cid))
            for outcome in ("skipped", "failed"):
                if outcome in result:
                    log(f"    {outcome}: {result[outcome]}")
    finally:
        if proxy:
            proxy.stop()
        if server:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    summaries = [summarize(result) for result in results]
    judge(summaries)
    print(render(summaries, args, pythons, time.monotonic() - started))
    if args.json:
        Path(args.json).write_text(json.dumps({"command": args.command, "rows": args.rows, "starts": starts,
                                               "results": summaries}, indent=1))
    return 1 if any("failed" in result for result in results) else 0


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _local_stored_and_clear(folder: Path) -> int:
    stored = sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0
    shutil.rmtree(folder, ignore_errors=True)
    return stored


# -- numbers -----------------------------------------------------------------------------------
def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """A contestant's medians (and minimum time) over its slices and whole reads."""
    summary = dict(result)
    slices, wholes = result.get("slices"), result.get("whole")
    if not slices:
        return summary
    walls = [s["wall"] for s in slices]
    summary["slice"] = {"wall": statistics.median(walls), "wall_min": min(walls),
                        "cpu": statistics.median(s["cpu"] for s in slices),
                        "moved": statistics.median(s["moved"] for s in slices),
                        "moved_max": max(s["moved"] for s in slices),
                        "requests": statistics.median(s["requests"] for s in slices)}
    if "cc_requested" in slices[0]:
        summary["slice"]["cc_requested"] = statistics.median(s["cc_requested"] for s in slices)
        summary["slice"]["cc_requests"] = statistics.median(s["cc_requests"] for s in slices)
    if wholes:
        summary["whole_median"] = {"wall": statistics.median(w["wall"] for w in wholes),
                                   "moved": statistics.median(w["moved"] for w in wholes),
                                   "requests": statistics.median(w["requests"] for w in wholes)}
    return summary


def judge(summaries: list[dict[str, Any]]) -> None:
    """Add ``limit`` (bytes allowed) and the ``verdict`` to each of this project's summaries."""
    by_id = {s["id"]: s for s in summaries if "slice" in s}
    for summary in summaries:
        if summary["role"] != "ours" or "slice" not in summary:
            continue
        summary["limit"] = BYTES_FACTOR * summary["selection"] + summary.get("unit", 0)
        moved = summary["slice"]["moved"]
        parts = ["bytes yes" if moved <= summary["limit"] else f"bytes **no** ({moved / summary['limit']:.1f}x limit)"]
        peer = by_id.get(f"{summary['compare']}-{summary['store']}")
        if peer is None:
            parts.append(f"time: {summary['compare']} not run")
        else:
            ratio = summary["slice"]["wall"] / peer["slice"]["wall"]
            cpu = summary["slice"]["cpu"] / max(peer["slice"]["cpu"], 1e-9)
            summary["time_vs_peer"], summary["cpu_vs_peer"] = ratio, cpu
            parts.append(f"time {'yes' if ratio <= TIME_FACTOR else '**no**'} ({ratio:.1f}x {summary['compare']}; "
                         f"CPU {cpu:.1f}x)")
        summary["verdict"] = ", ".join(parts)


# -- the report --------------------------------------------------------------------------------
def render(summaries: list[dict[str, Any]], args: argparse.Namespace, pythons: dict[str, str], elapsed: float) -> str:
    measured = next((s for s in summaries if "slice" in s), None)
    lines = ["# Slices of a big array (issue #15)", "",
             f"Command: `{args.command}`  ",
             f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, run time {elapsed / 60:.1f} min  ",
             f"Machine: {machine()}  ", f"Versions: {version_line(pythons)}", ""]
    if measured:
        shape = "x".join(map(str, measured["shape"]))
        lines += [f"float64 array {shape}, {measured['nbytes'] / MiB:,.0f} MiB; selection a[i:i+{args.rows}] = "
                  f"{measured['selection']:,} bytes; {args.reps} random rows (the same for everyone), medians; "
                  f"whole read: median of {args.whole_reps}. zarr chunks: {args.chunk_kib} KiB of whole rows "
                  f"({_zarr_chunks(summaries)}).", ""]
    lines += ["`moved`: on S3 bytes the server sent through the counting proxy; on local disk `rchar` of the "
              "reading process. `requests`: HTTP requests on S3, read() calls on local disk. `cc requested`: "
              "what cottoncandy asked its backend for (ReadCounter), bytes (requests). `limit`: 2x selection "
              "+ one segment/frame of the form. `CPU`: the client process's CPU time (all threads).", "",
              "| contestant | slice ms median (min) | CPU ms | moved | x selection | limit | requests "
              "| cc requested | whole s | whole moved | slice / whole | stored x | verdict |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    lines += [_table_row(summary) for summary in summaries]
    lines += ["", *_notes(summaries, args.server)]
    lines += ["", "## Contestants", ""]
    lines += [f"- `{s['id']}`: {s['description']}" for s in summaries]
    return "\n".join(lines) + "\n"


def _table_row(s: dict[str, Any]) -> str:
    if "slice" not in s:
        why = s.get("skipped") or f"FAILED: {s.get('failed') or 'not run'}"
        return f"| `{s['id']}` | {' '.join(why.split())} |" + " |" * 11
    sl, whole = s["slice"], s.get("whole_median")
    requested = f"{sl['cc_requested']:,.0f} ({sl['cc_requests']:g})" if "cc_requested" in sl else "-"
    cells = [f"`{s['id']}`" + ("" if s.get("seekable", True) else " (not seekable)"),
             f"{_ms(sl['wall'])} ({_ms(sl['wall_min'])})", _ms(sl["cpu"]),
             _size(sl["moved"]), f"{sl['moved'] / s['selection']:,.2f}",
             _size(s["limit"]) if "limit" in s else "-", f"{sl['requests']:g}", requested,
             f"{whole['wall']:,.2f}" if whole else "-", _size(whole["moved"]) if whole else "-",
             f"{sl['wall'] / whole['wall']:.4f}" if whole else "-",
             f"{s['stored'] / s['nbytes']:.2f}" if s.get("stored") else "-", s.get("verdict", s["role"])]
    return "| " + " | ".join(cells) + " |"


def _notes(summaries: list[dict[str, Any]], server: str) -> list[str]:
    by_id = {s["id"]: s for s in summaries if "slice" in s}
    notes = []
    floor = by_id.get("floor-range-s3")
    if floor and server == "stub":
        notes.append(f"The S3 server is the in-memory stub (`--server stub`): a ranged GET of the selection's bytes "
                     f"(`floor-range-s3`) takes {_ms(floor['slice']['wall'])} ms, whatever the object's size, as on "
                     f"a real S3 (minus the network's latency).")
    elif floor:
        notes.append(f"moto reads the whole stored object for every ranged GET: one boto3 ranged GET of the "
                     f"selection's bytes (`floor-range-s3`) takes {_ms(floor['slice']['wall'])} ms here, "
                     f"{floor['nbytes'] / MiB:,.0f} MiB object; a form that needs two ranged GETs (a header, "
                     f"then segments) pays it twice. zarr pays it only for its small chunk objects. On a real S3 "
                     f"a ranged GET costs about the same whatever the object's size: there the client's CPU "
                     f"time (CPU x in the verdict) says more than the wall time on moto.")
    units = sorted({(s["id"].rsplit("-", 1)[0], s["unit"]) for s in by_id.values() if s.get("unit")})
    if units:
        notes.append("Segment/frame (the limit's unit): " + ", ".join(f"{cid} {_size(unit)}" for cid, unit in units)
                     + ".")
    return notes


def _zarr_chunks(summaries: list[dict[str, Any]]) -> str:
    chunks = next((s["chunks"] for s in summaries if s.get("chunks")), None)
    return "x".join(map(str, chunks)) if chunks else "zarr not run"


def _ms(seconds: float) -> str:
    """Milliseconds with three significant digits or more."""
    milliseconds = seconds * 1e3
    decimals = 0 if milliseconds >= 100 else 1 if milliseconds >= 1 else 3
    return f"{milliseconds:,.{decimals}f}"


def _size(count: float) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", MiB), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count:,.0f} B"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mib", type=float, default=1024, help="array size in MiB (default 1024: 1 GiB)")
    parser.add_argument("--rows", type=int, default=10, help="rows per slice (default 10, 80 KiB)")
    parser.add_argument("--reps", type=int, default=9, help="slices measured per contestant (default 9)")
    parser.add_argument("--whole-reps", type=int, default=1, help="whole reads measured (default 1; 0: none)")
    parser.add_argument("--chunk-kib", type=int, default=1024, help="zarr chunk size in KiB, whole rows (default 1024)")
    parser.add_argument("--server", choices=SERVERS[:2], default="moto",
                        help="the S3 server: moto (default), or stub, the in-memory one of s3stub.py, which "
                             "serves a ranged GET without re-reading the whole object as moto does")
    parser.add_argument("--stores", type=lambda text: text.split(","), default=["s3", "local"],
                        help="s3 (moto), local or both (default s3,local)")
    parser.add_argument("--only", help="contestant ids or patterns, comma-separated, e.g. 'cc-*,zarr-raw-*'")
    parser.add_argument("--no-peers", action="store_true", help="no zarr contestants (no peer venv is built)")
    parser.add_argument("--seed", type=int, default=15, help="seed of the random rows (default 15)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per contestant (default 1800)")
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    parser.add_argument("--workdir", help="folder for the local stores (default benchmarks/.env/)")
    parser.add_argument("--list", action="store_true", help="list the contestants and exit")
    args = parser.parse_args(argv)
    args.command = "uv run --all-packages --all-extras python benchmarks/slices.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    if args.list:
        for cid, cls in CONTESTANTS.items():
            print(f"{cid:34} {cls.env:5} {cls.description}")
        raise SystemExit(0)
    unknown = set(args.stores) - {"s3", "local"}
    if unknown:
        parser.error(f"--stores takes s3 and/or local, not {', '.join(sorted(unknown))}")
    return args


if __name__ == "__main__":
    raise SystemExit(main())
