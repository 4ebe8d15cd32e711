"""Benchmark cottoncandy against boto3/numpy floors, cottoncandy 0.4 and zarr 3, in one run.

Run from the repository root::

    UV_PYTHON_DOWNLOADS=never uv run --all-packages --all-extras python benchmarks/run.py
    ... benchmarks/run.py --quick                  # 1 MiB, 1 rep, a few contestants (smoke test)
    ... benchmarks/run.py --big                    # adds 1 GiB float64 (floors, raw, dask)
    ... benchmarks/run.py --only 'cc-*,floor-*' --sizes 32 --kinds float64 --no-peers

The script starts a moto S3 server on 127.0.0.1, creates the peers' venvs under
``benchmarks/.env/`` with uv on first use (cottoncandy 0.4.0 pins ``boto3<1.36``; zarr 3 needs
a recent s3fs/aiobotocore: two venvs), runs every contestant in its own client process
(``client.py``: how time, CPU and memory are measured) and prints a markdown table per array,
relative to the floor of the same store in the same run. Without ``--quick`` or ``--output`` it
writes the tables, the machine, the versions and the command to ``benchmarks/RESULTS.md``,
keeping whatever follows the ``<!-- notes -->`` line there.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import json
import os
import platform
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from client import RESULT_MARKER  # noqa: E402
from contestants import CONTESTANTS  # noqa: E402
from s3stub import REPETITION, ServerProcess, StubServer  # noqa: E402

ENV_DIR = HERE / ".env"
#: Each peer venv and what goes into it (PyPI names, installed by ``uv pip install``).
PEER_ENVS = {
    "cc04": ["cottoncandy==0.4.0", "boto3<1.36", "numpy", "dask[array]"],
    "zarr": ["zarr>=3", "s3fs", "obstore", "numpy"],
    "obstore": ["obstore==0.12.*", "numpy"],
}
#: Contestants of a ``--big`` (1 GiB) run: the dask target and its references.
BIG_CONTESTANTS = ["floor-*", "cc-raw-*", "cc-dask-*", "cc04-dask-*"]
NOTES_MARKER = "<!-- notes -->"
CLIENT_TIMEOUT = 900
MiB = 1 << 20


# -- environments ------------------------------------------------------------------------------
def peer_pythons(envs: set[str], log: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The Python of each env in ``envs`` ("ours": this one; peers built on first use), and why
    the peers that could not be built are missing (their contestants are skipped, and logged)."""
    pythons, unavailable = {"ours": sys.executable}, {}
    for env in sorted(envs - {"ours"}):
        python, reason = peer_python(env, log)
        if python:
            pythons[env] = python
        else:
            unavailable[env] = reason
            log(f"skipping the {env} contestants: {reason}")
    return pythons, unavailable


def peer_python(env: str, log: Any) -> tuple[str | None, str]:
    """The peer venv's python, created on first use; (None, reason) when it cannot be had."""
    python = ENV_DIR / env / "bin" / "python"
    marker = ENV_DIR / env / ".cc-bench-ready"
    if marker.exists() and marker.read_text() == json.dumps(PEER_ENVS[env]):
        return str(python), ""
    uv = shutil.which("uv")
    if uv is None:
        return None, "uv is not installed (pip install uv) to build the peer venv"
    log(f"creating the peer venv {ENV_DIR / env} ({', '.join(PEER_ENVS[env])})")
    environment = {**os.environ, "UV_PYTHON_DOWNLOADS": os.environ.get("UV_PYTHON_DOWNLOADS", "never")}
    environment.pop("VIRTUAL_ENV", None)
    steps = [[uv, "venv", "-q", "--clear", "--python", sys.executable, str(ENV_DIR / env)],
             [uv, "pip", "install", "-q", "--python", str(python), *PEER_ENVS[env]]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, env=environment)
        if done.returncode:
            return None, f"'{shlex.join(step)}' failed: {done.stderr.strip()[-300:]}"
    marker.write_text(json.dumps(PEER_ENVS[env]))
    return str(python), ""


def versions(python: str, modules: list[str]) -> dict[str, str]:
    code = ("import importlib.metadata as m, json, sys\n"
            "out = {}\n"
            "for name in sys.argv[1:]:\n"
            "    try: out[name] = m.version(name)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))")
    done = subprocess.run([python, "-c", code, *modules], capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else {}


# -- the S3 server -----------------------------------------------------------------------------
class MotoServer(ServerProcess):
    """``python -m moto.server`` on a free port of 127.0.0.1, in its own process."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("the moto server exited at start: is moto[server] installed?") from None
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("the moto server did not start listening within 30 s")
        self.client = _boto3_client(self.endpoint)


#: The S3 servers a run can use (``--server``): moto, or the in-memory stub (``s3stub.py``) over http or https.
SERVERS = ("moto", "stub", "stub-https")


def start_server(kind: str) -> MotoServer | StubServer:
    """A running S3 server of ``kind`` (one of :data:`SERVERS`); the caller stops it."""
    if kind == "moto":
        return MotoServer()
    return StubServer(https=kind == "stub-https")


def _boto3_client(endpoint: str) -> Any:
    import boto3
    from botocore.client import Config

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                        region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))


def local_stored_bytes(folder: Path) -> int:
    """Bytes of the last repetition's files under a contestant's local folder."""
    reps: dict[int, int] = {}
    for path in folder.rglob("*") if folder.is_dir() else ():
        found = REPETITION.search(path.relative_to(folder).as_posix())
        if found and path.is_file():
            reps[int(found.group(1))] = reps.get(int(found.group(1)), 0) + path.stat().st_size
    return reps[max(reps)] if reps else 0


# -- running -----------------------------------------------------------------------------------
def client_environment(config_dir: Path) -> dict[str, str]:
    """The environment of a client process: a config folder of its own, no user's CC_/AWS_ settings."""
    environment = {**os.environ, "CC_CONFIG_DIR": str(config_dir), "XDG_CONFIG_HOME": str(config_dir),
                   "PYTHONWARNINGS": "ignore"}
    for variable in [v for v in environment if v.startswith(("CC_", "AWS_")) and v != "CC_CONFIG_DIR"]:
        del environment[variable]
    environment.pop("VIRTUAL_ENV", None)
    return environment


def run_client(python: str, request: dict[str, Any], environment: dict[str, str], *, script: str = "client.py",
               timeout: float = CLIENT_TIMEOUT) -> dict[str, Any]:
    """Run a client script of this folder in ``python`` and return the JSON it reports."""
    command = [python, str(HERE / script), json.dumps(request)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"failed": f"timed out after {timeout:g} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            outcome = json.loads(line[len(RESULT_MARKER):])
            if "failed" in outcome:
                outcome["log"] = done.stderr[-2000:]
            return outcome
    return {"failed": f"the client exited with {done.returncode}: {done.stderr.strip()[-500:]}"}


def selected(patterns: list[str] | None, contestant_id: str) -> bool:
    return not patterns or any(fnmatch.fnmatch(contestant_id, p) for p in patterns)


def plan(args: argparse.Namespace) -> list[tuple[str, float, list[str]]]:
    """(kind, MiB, contestant ids) for every array of the run."""
    only = args.only.split(",") if args.only else None
    if args.quick:
        only = only or [cid for cid, cls in CONTESTANTS.items() if cls.quick]
    ids = [cid for cid in CONTESTANTS if selected(only, cid)]
    if args.no_peers:
        ids = [cid for cid in ids if CONTESTANTS[cid].env == "ours"]
    arrays = [(kind, size, ids) for size in args.sizes for kind in args.kinds]
    if args.big:
        big_ids = [cid for cid in ids if selected(BIG_CONTESTANTS, cid)]
        arrays.append(("float64", 1024.0, big_ids))
    return arrays


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.quick:
        args.sizes, args.reps, args.kinds = args.sizes_given or [1.0], 1, args.kinds_given or ["float64"]
    arrays = plan(args)
    pythons, unavailable = peer_pythons({CONTESTANTS[cid].env for _, _, ids in arrays for cid in ids}, log)

    workdir = Path(tempfile.mkdtemp(prefix="work-", dir=args.workdir or _ensure(ENV_DIR)))
    config_dir = Path(tempfile.mkdtemp(prefix="config-", dir=workdir))
    environment = client_environment(config_dir)
    uses_s3 = any(CONTESTANTS[c].store == "s3" for _, _, ids in arrays for c in ids)
    server = start_server(args.server) if uses_s3 else None
    bucket = "cc-bench"
    if server:
        server.create_bucket(bucket)
    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    try:
        for kind, mib, ids in arrays:
            for cid in ids:
                cls = CONTESTANTS[cid]
                row: dict[str, Any] = {"id": cid, "store": cls.store, "kind": kind, "mib": mib,
                                       "floor": cls.floor, "description": cls.description}
                rows.append(row)
                if cls.env in unavailable:
                    row["skipped"] = f"{cls.env} venv: {unavailable[cls.env]}"
                    continue
                log(f"{kind} {mib:g} MiB  {cid} ...")
                request = {"contestant": cid, "kind": kind, "mib": mib, "reps": args.reps, "budget": args.budget,
                           "workdir": str(workdir), "endpoint": server.endpoint if server else None,
                           "ca_bundle": server.ca_bundle if server else None,
                           "bucket": bucket, "prewarm": not args.no_prewarm}
                row.update(run_client(pythons[cls.env], request, environment))
                prefix = f"{cid}/{kind}-{mib}/"
                if cls.store == "s3" and server:
                    row["stored"] = server.stored_bytes_and_clear(bucket, prefix)
                else:
                    row["stored"] = local_stored_bytes(workdir / cid)
                    shutil.rmtree(workdir / cid, ignore_errors=True)
                for outcome in ("skipped", "failed"):
                    if outcome in row:
                        log(f"    {outcome}: {row[outcome]}")
                if "log" in row and args.verbose:
                    log(row["log"])
    finally:
        if server:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started

    report = render(rows, args, pythons, elapsed)
    print(report)
    output = args.output or (None if args.quick else HERE / "RESULTS.md")
    if output:
        write_results(Path(output), report)
        log(f"wrote {output}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 1 if any("failed" in row for row in rows) else 0


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- reporting ---------------------------------------------------------------------------------
def render(rows: list[dict[str, Any]], args: argparse.Namespace, pythons: dict[str, str], elapsed: float) -> str:
    """The markdown report: one table per array, then the targets."""
    lines = ["# Benchmark results", "",
             f"Command: `{args.command}`  ",
             f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, run time {elapsed / 60:.1f} min  ",
             f"Machine: {machine()}  ",
             f"S3 server: {args.server}  ",
             f"Versions: {version_line(pythons)}", "",
             "Times are medians over the repetitions (`reps`); `x floor` divides by the floor of the same "
             "store in this run (S3: boto3 `put_object`/`get_object`; local: `np.save`/`np.load`). "
             "`CPU x` is the client process's CPU seconds (all threads) over the floor's. `mem` is the "
             "client's peak RSS above its RSS before the call, in multiples of the array (a download's "
             "own result is not counted). `stored` is the stored bytes over the array's bytes. "
             "See benchmarks/README.md for the method.", ""]
    arrays = list(dict.fromkeys((row["kind"], row["mib"]) for row in rows))
    for kind, mib in arrays:
        lines += [f"## {kind}, {mib:g} MiB", "",
                  "| contestant | up s | up MiB/s | up x floor | up CPU x | up mem | down s | down MiB/s "
                  "| down x floor | down CPU x | down mem | stored | reps |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        group = [row for row in rows if (row["kind"], row["mib"]) == (kind, mib)]
        floors = {row["store"]: row for row in group if row["floor"] and "upload" in row}
        for row in group:
            lines.append(table_row(row, floors.get(row["store"])))
        lines.append("")
    lines += render_targets(rows)
    lines += ["## Contestants", ""]
    for cid in dict.fromkeys(row["id"] for row in rows):
        lines.append(f"- `{cid}`: {CONTESTANTS[cid].description}")
    lines.append("")
    return "\n".join(lines)


def table_row(row: dict[str, Any], floor: dict[str, Any] | None) -> str:
    if "upload" not in row:
        reason = row.get("skipped") or row.get("failed") or "not run"
        return f"| `{row['id']}` | {'skipped' if 'skipped' in row else 'FAILED'}: {reason} |" + " |" * 11
    cells = [f"`{row['id']}`"]
    for phase in ("upload", "download"):
        numbers = row[phase]
        cells.append(f"{numbers['wall']:.3f}")
        cells.append(f"{row['nbytes'] / MiB / numbers['wall']:.0f}")
        if floor:
            cells.append(f"{numbers['wall'] / floor[phase]['wall']:.2f}")
            cells.append(f"{numbers['cpu'] / max(floor[phase]['cpu'], 1e-6):.2f}")
        else:
            cells += ["-", "-"]
        cells.append(f"{numbers['extra'] / row['nbytes']:.2f}")
    cells.append(f"{row['stored'] / row['nbytes']:.2f}" if row.get("stored") else "-")
    cells.append(f"{row['upload']['reps']}/{row['download']['reps']}")
    return "| " + " | ".join(cells) + " |"


def _ratio(rows: list[dict[str, Any]], cid: str, kind: str, mib: float, phase: str, what: str = "wall",
           against: str | None = None) -> float | None:
    found = {row["id"]: row for row in rows if row["kind"] == kind and row["mib"] == mib and "upload" in row}
    if cid not in found:
        return None
    reference = against or ("floor-boto3-s3" if cid.endswith("-s3") else "floor-numpy-local")
    if reference not in found:
        return None
    if what == "mem":
        return found[cid][phase]["extra"] / found[cid]["nbytes"]
    if phase == "roundtrip":
        mine = found[cid]["upload"][what] + found[cid]["download"][what]
        theirs = found[reference]["upload"][what] + found[reference]["download"][what]
        return mine / theirs
    return found[cid][phase][what] / max(found[reference][phase][what], 1e-6)


def render_targets(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, checked on the largest default array of each kind."""
    sizes = sorted({row["mib"] for row in rows if row["mib"] < 1024}) or sorted({row["mib"] for row in rows})
    if not sizes:
        return []
    mib = sizes[-1]
    checks: list[tuple[str, str, float | None, float, str]] = []  # (target, array, value, limit, unit)
    for kind in dict.fromkeys(row["kind"] for row in rows):
        label = f"{kind} {mib:g} MiB"
        for phase in ("upload", "download"):
            checks.append((f"local raw {phase} time vs np.save/np.load", label,
                           _ratio(rows, "cc-raw-local", kind, mib, phase), 1.3, "x"))
            checks.append((f"local raw {phase} extra memory", label,
                           _ratio(rows, "cc-raw-local", kind, mib, phase, "mem"), 0.1, "x array"))
        checks.append(("S3 raw upload time vs boto3", label,
                       _ratio(rows, "cc-raw-s3", kind, mib, "upload"), 1.05, "x"))
        checks.append(("S3 raw download time vs boto3", label,
                       _ratio(rows, "cc-raw-s3", kind, mib, "download"), 1.0, "x"))
        for phase in ("upload", "download"):
            checks.append((f"S3 raw {phase} CPU vs boto3", label,
                           _ratio(rows, "cc-raw-s3", kind, mib, phase, "cpu"), 1.2, "x"))
            checks.append((f"S3 raw {phase} extra memory", label,
                           _ratio(rows, "cc-raw-s3", kind, mib, phase, "mem"), 0.1, "x array"))
        for store in ("s3", "local"):
            for phase in ("upload", "download"):
                checks.append((f"{store} zstd {phase} time vs zarr+zstd", label,
                               _ratio(rows, f"cc-zstd-{store}", kind, mib, phase, against=f"zarr-zstd-{store}"),
                               1.0, "x"))
        checks.append(("local encrypted round trip vs local raw", label,
                       _ratio(rows, "cc-aes-local", kind, mib, "roundtrip", against="cc-raw-local"), 1.5, "x"))
    big = [row for row in rows if row["mib"] >= 1024]
    if big:
        for store in ("s3", "local"):
            for phase in ("upload", "download"):
                value = _ratio(rows, f"cc-dask-{store}", "float64", 1024.0, phase, against=f"cc04-dask-{store}")
                checks.append((f"{store} dask {phase} vs cottoncandy 0.4 dask (1 GiB)", "float64 1 GiB",
                               None if value is None else value, 1 / 3, "x"))
    lines = ["## Targets", "", "| target | array | measured | limit | met |", "|---|---|---|---|---|"]
    for target, label, value, limit, unit in checks:
        if value is None:
            lines.append(f"| {target} | {label} | not run | {limit:.2f} {unit} | - |")
            continue
        verdict = "yes" if value <= limit else f"**no** (by {value / limit:.2f}x)"
        lines.append(f"| {target} | {label} | {value:.2f} {unit} | {limit:.2f} {unit} | {verdict} |")
    lines.append("")
    return lines


def machine() -> str:
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / (1 << 20):.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores{memory}, {system}, Python {platform.python_version()}"


def version_line(pythons: dict[str, str]) -> str:
    wanted = {"ours": ["cottoncandy", "cottoncandy-core", "cottoncandy-s3", "boto3", "botocore", "numpy", "moto",
                       "dask", "zstandard"],
              "cc04": ["cottoncandy", "boto3", "numcodecs", "dask"],
              "zarr": ["zarr", "obstore", "s3fs", "aiobotocore", "numcodecs"], "obstore": ["obstore"]}
    parts = []
    for env, python in pythons.items():
        found = versions(python, wanted[env])
        label = {"ours": "this project's venv", "cc04": "cottoncandy 0.4 venv", "zarr": "zarr venv",
                 "obstore": "obstore venv"}[env]
        parts.append(f"{label}: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    return "; ".join(parts)


def write_results(path: Path, report: str) -> None:
    """Write ``report``, keeping the hand-written notes after the notes marker."""
    notes = ""
    if path.exists():
        text = path.read_text()
        if NOTES_MARKER in text:
            notes = text[text.index(NOTES_MARKER):]
    path.write_text(report.rstrip() + "\n\n" + (notes or NOTES_MARKER + "\n"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=lambda text: [float(s) for s in text.split(",")], default=None,
                        help="array sizes in MiB, comma-separated (default 8,128)")
    parser.add_argument("--kinds", type=lambda text: text.split(","), default=None,
                        help="array kinds: float64 (random), int16 (compressible); default both")
    parser.add_argument("--big", action="store_true", help="add a 1 GiB float64 array (floors, raw, dask)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per phase (default 3)")
    parser.add_argument("--budget", type=float, default=12.0,
                        help="seconds per phase after which no further repetition starts (default 12)")
    parser.add_argument("--only", help="contestant ids or patterns, comma-separated, e.g. 'cc-*,floor-*'")
    parser.add_argument("--no-peers", action="store_true", help="only this project's contestants and the floors")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 MiB, 1 rep, a few contestants")
    parser.add_argument("--no-prewarm", action="store_true", help="do not touch free memory before each rep")
    parser.add_argument("--server", choices=SERVERS, default="moto",
                        help="the S3 server: moto (default), or the in-memory stub over http or https (s3stub.py)")
    parser.add_argument("--output", help="markdown file to write (default benchmarks/RESULTS.md; none with --quick)")
    parser.add_argument("--json", help="also write the raw numbers to this JSON file")
    parser.add_argument("--workdir", help="folder for the local stores (default benchmarks/.env/)")
    parser.add_argument("--verbose", action="store_true", help="print the client's log when it fails")
    parser.add_argument("--list", action="store_true", help="list the contestants and exit")
    args = parser.parse_args(argv)
    args.sizes_given, args.kinds_given = args.sizes, args.kinds
    args.sizes = args.sizes or [8.0, 128.0]
    args.kinds = args.kinds or ["float64", "int16"]
    args.command = "uv run --all-packages --all-extras python benchmarks/run.py " + shlex.join(
        sys.argv[1:] if argv is None else argv)
    if args.list:
        for cid, cls in CONTESTANTS.items():
            print(f"{cid:22} {cls.env:5} {cls.description}")
        raise SystemExit(0)
    return args


if __name__ == "__main__":
    raise SystemExit(main())
