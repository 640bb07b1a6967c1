"""In-memory SQLite in tests is one database for every thread, not one per thread."""

import threading
import urllib.request

from werkzeug.serving import make_server


def test_tables_made_in_the_main_thread_are_seen_by_a_server_thread(app, make_user):
    app.config["READ_ACCESS"] = "public"  # urllib has no session: read as an anonymous visitor
    make_user("made_in_main_thread")  # schema and row created here, in the test's thread
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/users"
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert "made_in_main_thread" in response.read().decode()
    finally:
        server.shutdown()
        thread.join(timeout=5)
