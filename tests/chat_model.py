"""A local OpenAI-compatible /chat/completions endpoint for the language-model criteria: it
answers with `reply` (a string, a JSON-able object, or a function of the request body) and
`status`, and keeps every request it was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ChatModel:
    def __init__(self, reply: object | Callable[[dict], Any] = "") -> None:
        self.reply = reply
        self.status = 200
        self.requests: list[dict] = []
        model = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                model.requests.append(
                    {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
                )
                answer = model.reply(body) if callable(model.reply) else model.reply
                content = answer if isinstance(answer, str) else json.dumps(answer)
                payload = json.dumps(
                    {"choices": [{"message": {"role": "assistant", "content": content}}]}
                ).encode()
                self.send_response(model.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@contextmanager
def serving(model: ChatModel) -> Iterator[ChatModel]:
    thread = threading.Thread(target=model.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield model
    finally:
        model.server.shutdown()
        model.server.server_close()
