"""The rendered-page cache: one per process, bounded in bytes, least recently used out first.

An entry is keyed by its ETag, which already holds everything the body depends on (the data
version, who asks, the URL and variant: myapp/conditional/etags.py). A write makes a new data
version and so new keys: the old entries are never found again and age out.
"""

import threading
from dataclasses import dataclass

from cachetools import LRUCache

# The per-request headers are added to each answer afresh (request id, session cookie); these
# never go into an entry.
PER_REQUEST_HEADERS = frozenset({"x-request-id", "set-cookie", "date"})


@dataclass(frozen=True, slots=True)
class Entry:
    status: int
    headers: tuple
    body: bytes
    endpoint: str  # for the request log and metrics of an answer made before Flask (fast_path.py)

    @classmethod
    def of(cls, response, endpoint):
        headers = tuple((k, v) for k, v in response.headers.items() if k.lower() not in PER_REQUEST_HEADERS)
        return cls(response.status_code, headers, response.get_data(), endpoint)

    def size(self):
        return len(self.body) + 64 * len(self.headers) + 200  # the body, and roughly the rest

    def response(self, response_class):
        """A new response object each time: after_request functions change the one they get."""
        return response_class(self.body, self.status, list(self.headers))


# How many addresses of kept pages are remembered (see PageCache.may_hold): more than the pages
# the cache can hold at its default size, and a few MB at most.
KEPT_ADDRESSES = 20_000


def address(environ, reader):
    """A kept page's key less the data version: the URL, the variant, and who asks (reader: the
    session's account and CSRF token, as the ETag has them)."""
    return (
        environ.get("HTTP_HOST", ""),
        environ.get("SCRIPT_NAME", ""),
        environ.get("PATH_INFO", ""),
        environ.get("QUERY_STRING", ""),
        environ.get("HTTP_ACCEPT", ""),
        reader,
    )


class PageCache:
    """Thread-safe (gthread workers serve requests on several threads)."""

    def __init__(self, max_bytes, max_entry_bytes):
        self.max_entry_bytes = max_entry_bytes
        self.entries = LRUCache(maxsize=max(max_bytes, 1), getsizeof=Entry.size) if max_bytes > 0 else None
        # The addresses of the pages put here lately: fast_path.py reads the data version (a
        # query) only when this reader had this page kept at some version, not for every static
        # file, page never kept, or other reader's page. Forgetting one only sends its request
        # the slower way, through Flask.
        self.addresses = LRUCache(maxsize=KEPT_ADDRESSES)
        self.lock = threading.Lock()

    def may_hold(self, environ, reader):
        """False when no page of this address has been kept lately (the fast path then skips it)."""
        if self.entries is None:
            return False
        key = address(environ, reader)
        with self.lock:
            return self.addresses.get(key) is not None

    def get(self, key):
        if self.entries is None:
            return None
        with self.lock:
            return self.entries.get(key)

    def put(self, key, response, endpoint, environ, reader):
        if self.entries is None or response.content_length is None:
            return
        if response.content_length > self.max_entry_bytes:
            return
        entry = Entry.of(response, endpoint)
        if entry.size() > self.entries.maxsize:
            return  # LRUCache refuses a value larger than the whole cache
        with self.lock:
            self.entries[key] = entry
            self.addresses[address(environ, reader)] = True

    def clear(self):
        if self.entries is not None:
            with self.lock:
                self.entries.clear()
                self.addresses.clear()
