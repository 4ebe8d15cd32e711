"""Byte shuffle over 8-byte words: byte k of every word is stored together.

Not streaming (it needs the whole object); a tail shorter than a word is kept as it is.
"""

from collections.abc import Iterable, Iterator

import numpy as np

from cc_core import OTHER, Transform

WORD = 8


class ByteShuffle8(Transform):
    name = "byteshuffle8"
    kind = OTHER

    def encode(self, chunks: Iterable) -> Iterator[bytes]:
        data = np.frombuffer(b"".join(bytes(c) for c in chunks), dtype=np.uint8)
        whole = len(data) // WORD * WORD
        yield data[:whole].reshape(-1, WORD).T.tobytes() + data[whole:].tobytes()

    def decode(self, chunks: Iterable) -> Iterator[bytes]:
        data = np.frombuffer(b"".join(bytes(c) for c in chunks), dtype=np.uint8)
        whole = len(data) // WORD * WORD
        yield data[:whole].reshape(WORD, -1).T.tobytes() + data[whole:].tobytes()
