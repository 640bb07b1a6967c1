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


class PageCache:
    """Thread-safe (gthread workers serve requests on several threads)."""

    def __init__(self, max_bytes, max_entry_bytes):
        self.max_entry_bytes = max_entry_bytes
        self.entries = LRUCache(maxsize=max(max_bytes, 1), getsizeof=Entry.size) if max_bytes > 0 else None
        self.lock = threading.Lock()

    def get(self, key):
        if self.entries is None:
            return None
        with self.lock:
            return self.entries.get(key)

    def put(self, key, response, endpoint):
        if self.entries is None or response.content_length is None:
            return
        if response.content_length > self.max_entry_bytes:
            return
        entry = Entry.of(response, endpoint)
        if entry.size() > self.entries.maxsize:
            return  # LRUCache refuses a value larger than the whole cache
        with self.lock:
            self.entries[key] = entry

    def clear(self):
        if self.entries is not None:
            with self.lock:
                self.entries.clear()
