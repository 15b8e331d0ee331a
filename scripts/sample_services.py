"""Local stand-ins for what sample_flows/data_pipeline.yml talks to: S3 and a Slack webhook.

`make run` starts this beside the workbench so every sample flow succeeds offline: moto's
S3 server on 127.0.0.1:4566 (buckets `roost-samples` and `declarative-orchestration`, the
one s3TriggerCommands.yml's trigger polls, created), and a webhook receiver on
127.0.0.1:4599 that answers 200 and prints each message it gets, as Slack would show it.
Stops on Ctrl-C or SIGTERM. Ports can be changed with --s3-port and --webhook-port (then
set ENV_S3_ENDPOINT and ENV_SLACK_WEBHOOK for the flow).
"""

from __future__ import annotations

import argparse
import http.server
import json
import signal
import sys
import threading

BUCKET = "roost-samples"
#: s3TriggerCommands.yml's trigger polls this bucket's raw/ (sample_flows/roost.toml points it here).
TRIGGER_BUCKET = "declarative-orchestration"


class _Webhook(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, object]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        try:
            message = json.loads(body)
        except ValueError:
            message = {"text": body}
        _Webhook.received.append(message)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")
        print(f"slack (local) <- {message.get('text', body)}", file=sys.stderr, flush=True)

    def log_message(self, *_args: object) -> None:
        pass


def start(s3_port: int, webhook_port: int) -> tuple[object, http.server.ThreadingHTTPServer]:
    """Both servers, running in threads; the caller stops them."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    s3.start()
    client = boto3.session.Session().client(
        "s3", endpoint_url=f"http://127.0.0.1:{s3_port}", region_name="us-east-1",
        aws_access_key_id="roost", aws_secret_access_key="roost")
    client.create_bucket(Bucket=BUCKET)
    client.create_bucket(Bucket=TRIGGER_BUCKET)
    webhook = http.server.ThreadingHTTPServer(("127.0.0.1", webhook_port), _Webhook)
    threading.Thread(target=webhook.serve_forever, daemon=True).start()
    return s3, webhook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--s3-port", type=int, default=4566)
    parser.add_argument("--webhook-port", type=int, default=4599)
    args = parser.parse_args()
    try:
        s3, webhook = start(args.s3_port, args.webhook_port)
    except ImportError:
        print("sample services: moto is not installed (make run installs it): "
              "data_pipeline.yml will fail at its S3 upload", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sample services: cannot listen ({exc}); data_pipeline.yml needs ports "
              f"{args.s3_port} and {args.webhook_port}", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    webhook.shutdown()
    s3.stop()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
