"""Fixtures of the notification tests: an HTTPS webhook receiver on 127.0.0.1 (a self-signed
certificate made with openssl for this run) and a Celery worker that trusts it."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.workers import WorkerProcess


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory):
    """(certificate, key) for 127.0.0.1, valid for two days."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make the test server's certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


class Receiver:
    """What the webhook server answers, request by request: an HTTP status, or ("hang", seconds)
    to answer nothing for that long; once the script is used up, 200. Records every JSON body."""

    def __init__(self, script=()) -> None:
        self.script = list(script)
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        self.url = ""

    def next_answer(self, body: dict):
        with self.lock:
            self.bodies.append(body)
            return self.script.pop(0) if self.script else 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webhook_receiver(tls_files):
    """Start an HTTPS receiver on a free port of 127.0.0.1; `start(script)` returns its Receiver."""
    servers = []

    def start(script=()) -> Receiver:
        receiver = Receiver(script)

        class Handler(BaseHTTPRequestHandler):
            timeout = 10

            def do_POST(self):
                length = min(int(self.headers.get("Content-Length") or 0), 65536)
                body = json.loads(self.rfile.read(length) or b"null")
                answer = receiver.next_answer(body)
                if isinstance(answer, tuple):
                    time.sleep(answer[1])
                    return
                self.send_response(answer)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*map(str, tls_files))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        servers.append(server)
        receiver.url = f"https://127.0.0.1:{server.server_address[1]}/hook"
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook_worker(worker_env, tls_files, settings):
    """A real worker that trusts the test certificate and may call 127.0.0.1, with short webhook
    timeouts and backoff (so a failing webhook's retries happen within seconds). This process may
    set such an address too."""
    settings.NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE = True
    env = {
        **worker_env,
        "SSL_CERT_FILE": str(tls_files[0]),
        "NOTIFICATIONS_WEBHOOK_ALLOW_PRIVATE": "1",
        "NOTIFICATIONS_WEBHOOK_TIMEOUT": "2",
        "NOTIFICATIONS_WEBHOOK_BACKOFF": "0.3",
        "NOTIFICATIONS_WEBHOOK_RETRIES": "3",
    }
    worker = WorkerProcess(env, f"wh-{uuid.uuid4().hex[:6]}").start()
    yield worker
    worker.stop()
