"""What an ETag is made of: the app's version, the data version, who asks, and what they asked for.

The tag is a keyed hash (BLAKE2b with a key derived from SECRET_KEY) of those inputs, so nobody can
make one without the app: a tag that a request presents in If-None-Match proves that this app
answered 200 to exactly this reader, for exactly this URL and variant, at exactly this data
version. That proof is what lets a 304 or a cached page go out before the view runs its own
permission checks (myapp/conditional/__init__.py).

Tags are weak (W/"..."): two renderings of one version are equivalent but not always byte for
byte the same, as the CSRF token a page carries is signed afresh each time.
"""

import functools
import hashlib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
# What the pages are made from: a change to any file here is a new version of every page.
SOURCE_FOLDERS = ("myapp", "templates", "static")
SETTING_TYPES = (str, int, float, bool, type(None))
# Settings that differ between processes serving the same pages: snapshot mode names each
# process's in-memory copy afresh. The data version stands for the data.
PER_PROCESS_SETTINGS = frozenset({"SQLALCHEMY_DATABASE_URI"})


@functools.cache
def source_digest(root=PROJECT_ROOT):
    """A digest of every file the pages are made from, read once per process (a few ms).

    Computed from the files themselves, not from git (a deployment may have no .git) nor from a
    VERSION that someone must remember to raise: an edited template is a new version on its own.
    """
    digest = hashlib.blake2b(digest_size=16)
    for folder in SOURCE_FOLDERS:
        for path in sorted(Path(root, folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def app_version(config):
    """The code's version and the settings' (every plain value of the config): the same on every
    worker and instance that runs the same code with the same settings."""
    digest = hashlib.blake2b(source_digest().encode(), digest_size=16)
    for name in sorted(config.keys() - PER_PROCESS_SETTINGS):
        value = config[name]
        if isinstance(value, SETTING_TYPES):
            digest.update(f"{name}={value!r}\0".encode())
    return digest.hexdigest()


class Tagger:
    """Makes the ETags of one app."""

    def __init__(self, config):
        self.key = hashlib.sha256(b"etag\0" + str(config["SECRET_KEY"]).encode()).digest()
        self.version = app_version(config)

    def tag(self, parts):
        """The opaque part of a weak ETag for these parts (strings)."""
        digest = hashlib.blake2b(self.version.encode(), digest_size=16, key=self.key)
        digest.update("\0".join(parts).encode())
        return digest.hexdigest()
