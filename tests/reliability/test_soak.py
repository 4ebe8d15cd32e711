"""Load: 16 threads sharing one interface, 100 mixed round trips each, on moto and on local disk;
and groups of 5,000 small arrays (1,000 on moto) written with dict2cloud, read with cloud2dict.

Every value written carries its own identity (writer, step), so a read can tell a complete value
from a mix: on a thread's own names a read must return exactly what that thread wrote last; on
names all threads share it must return one complete value of some writer.
"""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

pytest.importorskip("cc_codec_npy", reason="npy, dask and groups come with the codec plugin")

#: long runs: still in CI, left out by ``pytest -m "not slow"``
pytestmark = pytest.mark.slow

from cc_core.interface import CCInterface  # noqa: E402

THREADS = 16
ROUND_TRIPS = 100
SHARED = ["shared/a", "shared/b", "shared/c"]
KINDS = ["raw", "raw-gzip", "npy", "json", "raw", "npy", "json", "dask"]  # dask: 1 in 8, it is slowest


def value_for(writer: int, step: int) -> np.ndarray:
    """A small array that says who wrote it: its shape and every element depend on (writer, step)."""
    stamp = writer * 1000 + step
    return np.full((3 + stamp % 5, 4), stamp, dtype=np.int64)


def check_value(array: np.ndarray) -> int:
    stamp = int(array.flat[0])
    assert (array == stamp).all() and array.shape == (3 + stamp % 5, 4), f"mixed value {array!r}"
    return stamp


def round_trip(cci: CCInterface, kind: str, name: str, value: np.ndarray) -> np.ndarray:
    """Write ``value`` as ``kind`` under ``name`` and read it back."""
    if kind in ("raw", "raw-gzip"):
        cci.upload_raw_array(name, value, compression="gzip" if kind == "raw-gzip" else False)
        return cci.download_raw_array(name)
    if kind == "npy":
        cci.upload_npy_array(name, value)
        return cci.download_npy_array(name)
    if kind == "json":
        cci.upload_json(name, {"rows": value.tolist()})
        return np.array(cci.download_json(name)["rows"], dtype=np.int64)
    import dask.array as da

    cci.upload_dask_array(name, da.from_array(value, chunks=(2, 4)))
    return np.asarray(cci.download_dask_array(name).compute(scheduler="synchronous"))


def soak(cci: CCInterface) -> None:
    errors: list[BaseException] = []
    seen_shared: set[int] = set()
    lock = threading.Lock()

    def worker(writer: int) -> None:
        rng = random.Random(writer)
        try:
            for step in range(ROUND_TRIPS):
                kind = KINDS[(writer + step) % len(KINDS)]
                value = value_for(writer, step)
                if rng.random() < 0.3 and kind not in ("dask",):
                    name = f"{rng.choice(SHARED)}-{kind}"  # every kind has its own shared names
                    stamp = check_value(round_trip(cci, kind, name, value))
                    with lock:
                        seen_shared.add(stamp)
                else:
                    name = f"own/{writer}/{kind}-{step % 7}"
                    got = round_trip(cci, kind, name, value)
                    np.testing.assert_array_equal(got, value, err_msg=f"{name}: another writer's value")
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,), name=f"soak-{n}") for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in threads), "a soak thread hangs"
    assert errors == [], errors[:3]
    assert seen_shared, "no shared names were exercised"
    for name in cci.glob("shared/**"):  # what stays is one complete value
        if name.endswith(("-raw", "-raw-gzip")):
            check_value(cci.download_raw_array(name))


def test_soak_local(local_interface):
    soak(local_interface)


def test_soak_s3(s3_bucket, moto_endpoint, cc_settings):
    from .conftest import ACCESS_KEY, SECRET_KEY

    cci = CCInterface(s3_bucket, ACCESS_KEY, SECRET_KEY, url=moto_endpoint, backend="s3", settings=cc_settings,
                      verbose=False, threads=2)
    soak(cci)


# 5,000 arrays on local disk and in memory; on moto (whose server shares this process's GIL, at about
# 3 ms a request) 1,000 keep the run within CI's budget while still paging every listing.
@pytest.mark.parametrize("backend, count", [("local", 5000), ("memory", 5000), ("s3", 1000)])
def test_dict2cloud_of_many_small_arrays(backend, count, request, cc_settings):
    if backend == "s3":
        from .conftest import ACCESS_KEY, SECRET_KEY

        cci = CCInterface(request.getfixturevalue("s3_bucket"), ACCESS_KEY, SECRET_KEY,
                          url=request.getfixturevalue("moto_endpoint"), backend="s3", settings=cc_settings, verbose=False)
    else:
        cci = request.getfixturevalue(f"{backend}_interface")
    arrays = {f"a{i:04d}": np.arange(i % 7 + 1, dtype=np.float32) * i for i in range(count)}
    cci.dict2cloud("group", arrays, verbose=False)
    back = cci.cloud2dict("group", verbose=False)
    assert sorted(back) == sorted(arrays)
    for key, array in arrays.items():
        np.testing.assert_array_equal(back[key], array, err_msg=key)
