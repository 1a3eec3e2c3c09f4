"""A small HTTP/1.1 load generator for pre-signed webhook requests (keep-alive, raw sockets).

Two modes: a paced open loop (a fixed request rate, latency percentiles) and a closed loop
(N connections as fast as the server answers, requests per second). Each request is sent once:
the voice flow treats a repeated CallSid + step as a replay, which would flatter the figures.
"""
from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0
    elapsed: float = 0.0
    late: int = 0  # paced requests that started more than 5 ms after their slot

    def merge(self, other: Outcome) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.late += other.late
        self.elapsed = max(self.elapsed, other.elapsed)


def build_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive",
             "Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buffer = b""

    def exchange(self, request: bytes) -> int:
        """Send one request, read one response; returns the HTTP status."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=10)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
        self.sock.sendall(request)
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        while len(rest) < length:
            self.buffer = rest
            self._fill()
            rest = self.buffer
        self.buffer = rest[length:]
        if close:
            self.close()
        return status

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def _timed(connection: Connection, request: bytes, outcome: Outcome) -> None:
    started = time.perf_counter()
    try:
        status = connection.exchange(request)
    except OSError:
        connection.close()
        outcome.errors += 1
        return
    if status == 200:
        outcome.latencies.append(time.perf_counter() - started)
    else:
        outcome.errors += 1


def paced(host: str, port: int, requests: list[bytes], rate: float, duration: float,
          threads: int = 48) -> Outcome:
    """Start request i at t0 + i/rate (open loop) for `duration` seconds."""
    total = min(len(requests), int(rate * duration))
    outcome = Outcome()
    counter = iter(range(total))
    lock = threading.Lock()
    start = time.perf_counter() + 0.2

    def run() -> None:
        connection = Connection(host, port)
        mine = Outcome()
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            slot = start + index / rate
            delay = slot - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            elif delay < -0.005:
                mine.late += 1
            _timed(connection, requests[index], mine)
        connection.close()
        with lock:
            outcome.merge(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    outcome.elapsed = time.perf_counter() - start
    return outcome


def _closed_slice(args: tuple) -> Outcome:
    host, port, requests, connections, duration = args
    outcome = Outcome()
    lock = threading.Lock()
    position = iter(range(len(requests)))
    deadline = time.perf_counter() + duration

    def run() -> None:
        connection = Connection(host, port)
        mine = Outcome()
        while time.perf_counter() < deadline:
            with lock:
                index = next(position, None)
            if index is None:
                break
            _timed(connection, requests[index], mine)
        connection.close()
        with lock:
            outcome.merge(mine)

    started = time.perf_counter()
    workers = [threading.Thread(target=run) for _ in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    outcome.elapsed = time.perf_counter() - started
    return outcome


def closed(host: str, port: int, requests: list[bytes], connections: int, duration: float,
           processes: int = 2) -> Outcome:
    """`connections` keep-alive connections sending back to back, split over processes."""
    per = connections // processes
    slices = [(host, port, requests[i::processes], per, duration) for i in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        results = pool.map(_closed_slice, slices)
    outcome = Outcome()
    for result in results:
        outcome.merge(result)
    return outcome


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
