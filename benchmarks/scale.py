"""Many small objects and a cluster: cottoncandy against its boto3 floors, on one moto server.

Run from the repository root:

    UV_PYTHON_DOWNLOADS=never uv run --all-packages --all-extras python benchmarks/scale.py

Prints one table (seconds, the floor's seconds, the ratio, and the requests each side sent by
operation) and then the distributed upload/download of a lazy array with the bytes each process
sent and received. Options: ``--leaves 1000,5000``, ``--dataset-leaves 1000``, ``--copies 2000``,
``--cluster-mib 256`` (0: skip the cluster), ``--reps 3`` (medians), ``--head-first`` (also
``cloud2dict`` through a HEAD and then a GET per leaf, as before issue #18).

Floors, as issue #18 defines them: a plain boto3 loop (list, then ``get_object`` one key after
the other) for ``cloud2dict``; one paginated listing for ``cloud2dataset(...).items()``; 16
threads of ``copy_object`` after one listing for a folder ``cp``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
from run import MotoServer  # the script's folder is on sys.path

BUCKET = "cc-scale"


def count_calls(client: Any) -> Counter[str]:
    """The S3 operations ``client`` sends from now on, by name."""
    calls: Counter[str] = Counter()
    client.meta.events.register("before-call.s3.*", lambda model, **_: calls.update([model.name]))
    return calls


def timed(run: Callable[[], Any], calls: Counter[str], reps: int,
          before: Callable[[], Any] = lambda: None) -> tuple[float, dict[str, float]]:
    """Median seconds of ``run`` over ``reps`` (``before`` untimed each time), and the requests of one run."""
    seconds = []
    for _ in range(reps):
        before()
        calls.clear()
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), dict(calls)


def listed(client: Any, prefix: str) -> list[str]:
    return [item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
            for item in page.get("Contents", [])]


def delete_prefix(client: Any, prefix: str) -> None:
    keys = listed(client, prefix)
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in keys[start:start + 1000]],
                                                     "Quiet": True})


def group_rows(cci: Any, floor: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    ours, theirs = count_calls(cci.backend.client), count_calls(floor)
    rows = []
    for leaves in args.leaves:
        name = f"group{leaves}"
        cci.dict2cloud(name, {f"leaf{i:05d}": np.full(16, i, dtype=np.float64) for i in range(leaves)}, verbose=False)

        def boto3_loop(prefix: str = name + "/") -> dict[str, np.ndarray]:
            return {key: np.frombuffer(floor.get_object(Bucket=BUCKET, Key=key)["Body"].read(), dtype=np.float64)
                    for key in listed(floor, prefix)}

        got = cci.cloud2dict(name, verbose=False)
        assert len(got) == leaves and len(boto3_loop()) == leaves
        mine, my_calls = timed(lambda: cci.cloud2dict(name, verbose=False), ours, args.reps)
        base, base_calls = timed(boto3_loop, theirs, args.reps)
        rows.append(dict(what=f"cloud2dict, {leaves:,} leaves", ours=mine, floor=base, calls=my_calls,
                         floor_calls=base_calls, floor_is="boto3 loop: list + get_object per key"))
        if args.head_first:  # the read path before issue #18: the Backend default, a HEAD then a GET
            from cc_core.backend import Backend

            with _patched(type(cci.backend), "open_read", Backend.open_read):
                before, before_calls = timed(lambda: cci.cloud2dict(name, verbose=False), ours, args.reps)
            rows.append(dict(what=f"cloud2dict, {leaves:,} leaves, HEAD + GET (before)", ours=before, floor=base,
                             calls=before_calls, floor_calls=base_calls,
                             floor_is="boto3 loop: list + get_object per key"))
    for leaves in args.dataset_leaves:
        name = f"group{leaves}"
        if leaves not in args.leaves:
            cci.dict2cloud(name, {f"leaf{i:05d}": np.full(16, i, dtype=np.float64) for i in range(leaves)},
                           verbose=False)

        def items() -> None:
            assert len(cci.cloud2dataset(name, verbose=False).items()) == leaves

        mine, my_calls = timed(items, ours, args.reps)
        base, base_calls = timed(lambda: listed(floor, name + "/"), theirs, args.reps)
        rows.append(dict(what=f"cloud2dataset().items(), {leaves:,} leaves", ours=mine, floor=base, calls=my_calls,
                         floor_calls=base_calls, floor_is="one paginated list_objects_v2"))
    return rows


@contextmanager
def _patched(owner: type, attribute: str, value: Any) -> Iterator[None]:
    original = owner.__dict__[attribute]
    setattr(owner, attribute, value)
    try:
        yield
    finally:
        setattr(owner, attribute, original)


def copy_rows(cci: Any, floor: Any, args: argparse.Namespace) -> list[dict[str, Any]]:
    ours, theirs = count_calls(cci.backend.client), count_calls(floor)
    count = args.copies
    cci.dict2cloud("copysrc", {f"obj{i:05d}": np.full(16, i, dtype=np.float64) for i in range(count)}, verbose=False)

    def boto3_copy() -> None:
        keys = listed(floor, "copysrc/")
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda key: floor.copy_object(Bucket=BUCKET, Key="floordst/" + key[len("copysrc/"):],
                                                        CopySource={"Bucket": BUCKET, "Key": key}), keys))

    def cc_copy() -> None:
        assert len(cci.cp("copysrc", "ccdst")) == count

    mine, my_calls = timed(cc_copy, ours, args.reps, before=lambda: delete_prefix(floor, "ccdst/"))
    base, base_calls = timed(boto3_copy, theirs, args.reps, before=lambda: delete_prefix(floor, "floordst/"))
    assert len(listed(floor, "ccdst/")) == count == len(listed(floor, "floordst/"))
    return [dict(what=f"folder cp, {count:,} objects", ours=mine, floor=base, calls=my_calls, floor_calls=base_calls,
                 floor_is="list + 16 threads of copy_object")]


def print_table(rows: list[dict[str, Any]], threads: int) -> None:
    print(f"\n| operation (moto, {threads} threads) | cottoncandy s | floor s | x floor | cottoncandy requests | "
          "floor requests | floor |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        fmt = lambda calls: ", ".join(f"{n:,} {op}" for op, n in sorted(calls.items()))  # noqa: E731
        print(f"| {row['what']} | {row['ours']:.2f} | {row['floor']:.2f} | {row['ours'] / row['floor']:.2f} | "
              f"{fmt(row['calls'])} | {fmt(row['floor_calls'])} | {row['floor_is']} |")


# -- the cluster ---------------------------------------------------------------------------------
def count_traffic() -> None:
    """From now on, count the bytes this process's botocore sends and receives (Content-Length)."""
    from botocore.httpsession import URLLib3Session

    if not hasattr(URLLib3Session, "cc_traffic"):
        original = URLLib3Session.send

        def send(self: Any, request: Any) -> Any:
            response = original(self, request)
            traffic = URLLib3Session.cc_traffic
            traffic["sent"] += int(request.headers.get("Content-Length") or 0)
            traffic["received"] += int(response.headers.get("Content-Length") or 0)
            traffic["requests"] += 1
            return response

        URLLib3Session.send = send
    URLLib3Session.cc_traffic = Counter()


def traffic() -> dict[str, int]:
    from botocore.httpsession import URLLib3Session

    return dict(URLLib3Session.cc_traffic)


def cluster_rows(endpoint: str, args: argparse.Namespace) -> None:
    import cloudpickle
    import dask.array as da
    from distributed import Client, LocalCluster

    import cottoncandy as cc

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    cci = cc.get_interface(BUCKET, ACCESS_KEY="testing", SECRET_KEY="testing", endpoint_url=endpoint, backend="s3",
                           verbose=False)
    rows = args.cluster_mib * 128
    lazy = da.random.default_rng(7).standard_normal((rows, 1024), chunks=(max(rows // 32, 1), 1024))
    mib = lazy.nbytes / 2**20
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        cc.distributed.setup(client, cci)
        print(f"\n| distributed, {mib:.0f} MiB lazy array, {lazy.npartitions} chunks, 2 worker processes | s | MiB/s | "
              "client sent MiB | client received MiB | workers sent MiB | workers received MiB "
              "| requests client/workers |")
        print("|---|---|---|---|---|---|---|---|")
        for phase in ("upload", "download + sum"):
            count_traffic()
            client.run(count_traffic)
            start = time.perf_counter()
            if phase == "upload":
                cci.upload_dask_array("lazy", lazy)
            else:
                total = cci.download_dask_array("lazy").sum().compute()
                assert np.isfinite(total)
            seconds = time.perf_counter() - start
            mine = traffic()
            workers: Counter[str] = Counter()
            for counts in client.run(traffic).values():
                workers.update(counts)
            print(f"| {phase} | {seconds:.2f} | {mib / seconds:.0f} | {mine.get('sent', 0) / 2**20:.2f} | "
                  f"{mine.get('received', 0) / 2**20:.2f} | {workers['sent'] / 2**20:.1f} | "
                  f"{workers['received'] / 2**20:.1f} | {mine.get('requests', 0)}/{workers['requests']} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    numbers = lambda text: [int(n) for n in text.split(",") if n]  # noqa: E731
    parser.add_argument("--leaves", type=numbers, default=[1000, 5000])
    parser.add_argument("--dataset-leaves", type=numbers, default=[1000])
    parser.add_argument("--copies", type=int, default=2000)
    parser.add_argument("--cluster-mib", type=int, default=256)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--head-first", action="store_true",
                        help="also time cloud2dict on the read path before issue #18 (a HEAD, then a GET)")
    args = parser.parse_args(argv)

    import cottoncandy as cc

    server = MotoServer()
    try:
        server.create_bucket(BUCKET)
        cci = cc.get_interface(BUCKET, ACCESS_KEY="testing", SECRET_KEY="testing", endpoint_url=server.endpoint,
                               backend="s3", verbose=False)
        floor = server.client
        rows = group_rows(cci, floor, args) + copy_rows(cci, floor, args)
        print_table(rows, cci.backend.transfer.threads)
        if args.cluster_mib:
            cluster_rows(server.endpoint, args)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
