"""The one way the scripts and the tests fetch a pinned file: downloaded
once into a cache directory, under a name that carries its digest, and
checked against that digest every time it is used (a file that does not
match is removed and refused, so the next run downloads it again)."""

import hashlib
import os
import urllib.request


class NotThePinnedFile(Exception):
    pass


def digest_of(path, algorithm):
    """The file's `algorithm` digest (hex), read in chunks: memory stays small for any size."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pinned_file(url, digest, cache_dir, name, algorithm="sha256"):
    """The path of cache_dir/name, the file at url whose `algorithm` digest
    (hex) is `digest`; downloaded only when missing, into a part file that
    is renamed into place when whole."""
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, name)
    if not os.path.exists(path):
        part = f"{path}.part.{os.getpid()}"
        try:
            urllib.request.urlretrieve(url, part)
            os.replace(part, path)
        finally:
            if os.path.exists(part):
                os.remove(part)
    actual = digest_of(path, algorithm)
    if actual != digest:
        os.remove(path)
        raise NotThePinnedFile(f"{url}: {algorithm} {actual}, pinned {digest}")
    return path
