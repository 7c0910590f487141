"""A small shop backend with the background-work mistakes flake8-flask-ctx catches.

Run ``flake8 --select=FCX examples/`` from the repository root: every function
marked "BUG" below is reported, every "OK" one is not.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from flask import (
    Flask,
    copy_current_request_context,
    current_app,
    g,
    jsonify,
    render_template_string,
    request,
)

app = Flask(__name__)
app.config["MAIL_SENDER"] = "shop@example.com"
executor = ThreadPoolExecutor(max_workers=4)


def audit(event: str) -> None:
    # BUG (via helper): request is read in whatever thread calls audit().
    app.logger.info("%s from %s", event, request.remote_addr)


def charge_card(order_id: int) -> None:
    audit("charge")
    app.logger.info("charging order %s", order_id)


def send_receipt(order_id: int) -> None:
    # BUG: current_app needs an application context; the pool thread has none.
    sender = current_app.config["MAIL_SENDER"]
    body = render_template_string("Receipt for order {{ n }}", n=order_id)
    app.logger.info("mail from %s: %s", sender, body)


def resize_images(sizes: list[int]) -> None:
    # OK: only uses the data it was given.
    app.logger.info("resizing to %s", sizes)


class OrderExporter:
    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1)

    def export(self) -> None:
        self.pool.submit(self._write_csv)

    def _write_csv(self) -> None:
        # BUG: g belongs to the request's app context, gone in the pool thread.
        app.logger.info("export for %s", g.get("user"))


@app.post("/orders/<int:order_id>/pay")
def pay(order_id: int):
    executor.submit(charge_card, order_id)
    executor.submit(send_receipt, order_id)
    threading.Thread(target=lambda: app.logger.info("paid by %s", request.json)).start()
    return jsonify(status="queued")


@app.post("/images")
def images():
    sizes = (request.get_json(silent=True) or {}).get("sizes", [64, 256])
    executor.submit(resize_images, sizes)  # OK: data captured in the view

    @copy_current_request_context
    def log_upload() -> None:
        app.logger.info("upload from %s", request.remote_addr)  # OK: context copied

    executor.submit(log_upload)
    return jsonify(status="queued")


@app.post("/export")
def export():
    OrderExporter().export()
    return jsonify(status="started")
