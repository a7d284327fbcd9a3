"""Run the web service under gunicorn (threads for concurrent requests, one process by default)
with the embedded job runner in the same process when the in-process backend is configured, and
the transparency log's writer when ``tlog_embedded`` (every worker tries; the log's lock lets
exactly one write, and another takes over if that worker stops)."""

from __future__ import annotations

import gc
from typing import Any


def serve(*, host: str, port: int, workers: int, threads: int, run_jobs: bool) -> None:
    from django.conf import settings
    from gunicorn.app.base import BaseApplication

    from clearroom.server.wsgi import application

    embedded_jobs = run_jobs and settings.CONFIG.jobs_backend == "inprocess"
    embedded_log = settings.CONFIG.tlog_embedded

    def post_worker_init(worker: Any) -> None:
        # What lives as long as the worker (modules, settings, URL patterns) is moved out of
        # the cycle collector's sight, so its full collections stay short under load: with
        # them, the slowest 1% of public page answers took about half as long again.
        gc.collect()
        gc.freeze()
        if embedded_jobs:
            from clearroom.jobs import start_background_runner

            worker._clearroom_runner = start_background_runner()
        if embedded_log:
            from clearroom.server.transparency.keeper import LogKeeper

            worker._clearroom_log = LogKeeper().start()

    def worker_exit(server: Any, worker: Any) -> None:
        for name in ("_clearroom_runner", "_clearroom_log"):
            service = getattr(worker, name, None)
            if service is not None:
                service.stop()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                "worker_class": "gthread",
                "threads": threads,
                "timeout": 120,
                "graceful_timeout": 30,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "post_worker_init": post_worker_init,
                "worker_exit": worker_exit,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Server().run()
