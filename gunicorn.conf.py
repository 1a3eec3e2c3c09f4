"""gunicorn settings for the web process; every value can be set from the environment."""
import multiprocessing
import os
from pathlib import Path

from ringly import metrics
from ringly.config import load_env_file, log_format

# The environment file, read here as every Ringly process reads it: the master needs the metrics
# folder and the log format before any worker builds the app (which reads it again, a no-op).
load_env_file()

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Twilio gives a webhook 15 s in all; a request still running after that helps nobody.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "15"))
graceful_timeout = 20
keepalive = 5
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Metrics (prometheus-client's multiprocess mode, ringly/metrics.py): each worker writes its
# counters to files named after its pid in PROMETHEUS_MULTIPROC_DIR, and GET /metrics sums every
# file there, this host's Celery worker's included when it shares the folder. Unset, the folder
# is the instance folder's `prometheus`; it is put in the environment here so every worker (and
# nothing else) inherits the same one.
# - At start the master removes the files of processes no longer running (the last run's); never
#   a live process's, so a Celery worker already writing there keeps its counts. `make run`
#   empties the folder itself before it starts anything.
# - When a worker exits (recycled, killed), `child_exit` marks it dead: prometheus-client drops
#   its live gauges. Its counters stay in the sum, as counters must, until the next start.
_instance = os.environ.get("RINGLY_INSTANCE_PATH") or str(Path(__file__).parent / "instance")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(_instance) / "prometheus"))


def on_starting(server) -> None:
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(folder, exist_ok=True)
    metrics.remove_stale_files(folder)


def child_exit(server, worker) -> None:
    metrics.process_exited(worker.pid, os.environ["PROMETHEUS_MULTIPROC_DIR"])


# LOG_FORMAT=json (the default outside the embedded default): gunicorn's own lines (start-up,
# worker exits, the access log) are JSON lines too, like the app's; each access line ends with
# the request's X-Request-Id. `text` keeps gunicorn's usual lines.
if log_format(os.environ) == "json":
    access_log_format = ('%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
                         "%({x-request-id}o)s")
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        # The app's own handler is added by create_app in each worker (ringly/__init__.py).
        "root": {"level": "INFO", "handlers": []},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"],
                               "propagate": False, "qualname": "gunicorn.error"},
            "gunicorn.access": {"level": "INFO", "handlers": ["console"],
                                "propagate": False, "qualname": "gunicorn.access"},
        },
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "json",
                        "stream": "ext://sys.stdout"},
            "error_console": {"class": "logging.StreamHandler", "formatter": "json",
                              "stream": "ext://sys.stderr"},
        },
        "formatters": {"json": {"()": "ringly.logs.JsonFormatter"}},
    }
