"""``benchmarks/slices.py`` runs, and counts what it says it counts.

The script on a tiny array (4 MiB, one slice, no peer venv) so that it cannot rot, and its
byte-counting proxy against a server whose answers are known.
"""

import http.client
import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "slices.py"
sys.path.insert(0, str(ROOT / "benchmarks"))

from byteproxy import ByteCountingProxy, read_counts  # noqa: E402


class _Fixed(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: several requests on one proxied connection
    body = bytes(range(256)) * 1000

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxied_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Fixed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proxy = ByteCountingProxy(f"http://127.0.0.1:{server.server_address[1]}").start()
    yield proxy
    proxy.stop()
    server.shutdown()
    server.server_close()


def test_proxy_counts_every_byte_the_server_sends_and_every_request(proxied_server):
    before = read_counts(proxied_server.control)
    bodies = []
    connection = http.client.HTTPConnection(*urlsplit(proxied_server.url).netloc.split(":"))
    for _ in range(3):  # on one kept-alive connection, as S3 clients send them
        connection.request("GET", "/object")
        response = connection.getresponse()
        head = sum(len(k) + len(v) + 4 for k, v in response.getheaders()) + len("HTTP/1.1 200 OK\r\n\r\n")
        bodies.append(response.read())
    connection.close()
    after = read_counts(proxied_server.control)
    assert all(body == _Fixed.body for body in bodies)
    assert after["requests"] - before["requests"] == 3
    assert after["down"] - before["down"] == 3 * (len(_Fixed.body) + head)
    assert after["up"] > before["up"]


@pytest.mark.slow
def test_tiny_run_measures_each_form_and_judges_it(tmp_path):
    pytest.importorskip("moto.server")
    numbers = tmp_path / "slices.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--mib", "4", "--reps", "1", "--no-peers", "--json", str(numbers),
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = {r["id"]: r for r in json.loads(numbers.read_text())["results"]}
    assert not any(cid.startswith("zarr") for cid in results)
    for cid in ("floor-range-s3", "floor-range-local", "cc-raw-s3", "cc-raw-local", "cc-aes-gcm-s3",
                "cc-aes-gcm-local"):
        result = results[cid]
        assert result["nbytes"] == 4 << 20 and result["selection"] == 10 * 1024 * 8
        assert result["whole_median"]["moved"] >= result["nbytes"]
        assert result["slice"]["moved"] >= result["selection"]  # nothing is read for free
        assert result["slice"]["requests"] >= 1
    # the local floor reads exactly the selection with one pread: rchar counts only that
    assert abs(results["floor-range-local"]["slice"]["moved"] - 81920) < 64
    for store in ("s3", "local"):
        raw, encrypted = results[f"cc-raw-{store}"], results[f"cc-aes-gcm-{store}"]
        assert raw["slice"]["moved"] < 2 * raw["selection"] + 4096  # a slice, not the array
        # the selection, and the object's first 4 KiB: the read that brings its metadata (no HEAD)
        assert raw["slice"]["cc_requested"] in (raw["selection"], raw["selection"] + 4096)
        assert encrypted["unit"] == 1 << 20 and encrypted["limit"] == 2 * 81920 + (1 << 20)
        assert encrypted["verdict"].startswith("bytes yes") and "zarr-raw not run" in encrypted["verdict"]
        seekable = results[f"cc-zstd-seekable-{store}"]
        assert "slice" in seekable or seekable["skipped"].startswith("not available: transform zstd-seekable")
    table = done.stdout
    assert "| `cc-raw-s3` |" in table and "moto reads the whole stored object" in table
