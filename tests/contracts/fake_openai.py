"""A local fake of OpenAI's chat completions endpoint, for driving the real SDK in tests."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    """Answers POST /v1/chat/completions from a queue of (status, content, delay, body)
    replies.

    `content` is the assistant message text (a JSON string for structured output); `body`,
    when set, is the whole HTTP body instead ((bytes, content type): an HTML page, a cut-off
    JSON). The last reply repeats once the queue is down to one. Every request body is kept
    in `requests`.
    """

    def __init__(self) -> None:
        self.replies: list[tuple[int, str, float, tuple[bytes, str] | None]] = []
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                fake.requests.append(json.loads(body))
                status, content, delay, body = (
                    fake.replies[0] if len(fake.replies) == 1 else fake.replies.pop(0)
                )
                if delay:
                    time.sleep(delay)
                if status == 200:
                    payload = {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": 0,
                        "model": "fake",
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": content},
                            }
                        ],
                    }
                else:
                    payload = {"error": {"message": content, "type": "fake", "code": None}}
                data, content_type = body or (json.dumps(payload).encode(), "application/json")
                try:
                    self.send_response(status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(data)))
                    if status == 429:
                        self.send_header("retry-after-ms", "10")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def reply(self, content: str | dict, *, status: int = 200, delay: float = 0) -> None:
        text = content if isinstance(content, str) else json.dumps(content)
        self.replies.append((status, text, delay, None))

    def reply_body(self, body: bytes, *, content_type: str, status: int = 200) -> None:
        """Answer with this exact HTTP body, not a chat completion."""
        self.replies.append((status, "", 0, (body, content_type)))

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
