"""`doctriage-sidecar healthcheck`: grpc.health.v1 Check against the sidecar these settings describe.

For a container's HEALTHCHECK (and anyone on the sidecar's host): the address comes from the same
settings `serve` reads (DOCTRIAGE_CONFIG, DOCTRIAGE_*), a wildcard host becoming loopback. Exit 0 when
the service is SERVING, 1 otherwise (nothing listening, NOT_SERVING, no answer in time): Docker
reads 1 as unhealthy and reserves 2. Plaintext: with auth.tls_* set it asks `server.health_address`,
the plaintext health listener (it must be set).
"""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from sidecar.config import load_settings

CLASSIFIER = "doctriage.v1.Classifier"  # SERVING only with a READY model and clamd answering


def local_address(address: str) -> str:
    """The listening address as a client on the same host dials it."""
    if address.startswith("unix:"):
        return address
    host, _, port = address.rpartition(":")
    return ("127.0.0.1" if host in ("", "0.0.0.0", "[::]", "::") else host) + ":" + port


def check(service: str = CLASSIFIER, timeout_s: float = 4.0) -> int:
    server = load_settings().server
    address = local_address(server.health_address or server.address)
    try:
        with grpc.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            status = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout_s).status
    except grpc.RpcError as exc:
        print(f"{address} {service or '(server)'}: {exc.code().name}", file=sys.stderr)
        return 1
    name = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
    print(f"{address} {service or '(server)'}: {name}")
    return 0 if status == health_pb2.HealthCheckResponse.SERVING else 1
