"""`doctriage health`: the standard grpc.health.v1 Check; exit 0 only when SERVING."""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from doctriage.cli.common import NOT_ALL, OK, Connection
from doctriage.client import BaseClient
from doctriage.errors import from_rpc_error

SERVICES = ("", "doctriage.v1.Classifier", "doctriage.v1.Admin")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser], parent: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "health",
        parents=[parent],
        help="grpc.health.v1 Check: exit 0 when SERVING, 1 when not",
        description="Ask the sidecar's health service. SERVING only when a model is ready and the scanner "
        "answers (or is off or fail-open); NOT_SERVING while draining. Exit 0 SERVING, 1 otherwise, 2 no answer.",
    )
    p.add_argument("--service", default="", help=f"one of {', '.join(map(repr, SERVICES))} ('': the sidecar)")
    p.set_defaults(func=run)


class HealthClient(BaseClient):
    """The Health service over the same channel set-up (address, TLS, key) as Client."""

    def check(self, service: str) -> str:
        with self._sync_channel() as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            request = health_pb2.HealthCheckRequest(service=service)
            try:
                response = stub.Check(request, timeout=self.timeout, metadata=self._metadata)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.NOT_FOUND:  # a service the server does not report on
                    return "SERVICE_UNKNOWN"
                raise from_rpc_error(exc) from None
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))


def run(args: argparse.Namespace, conn: Connection) -> int:
    status = HealthClient(conn.address, **conn.client_kwargs()).check(args.service)
    print(status)
    if status != "SERVING":
        print(f"doctriage: {args.service or 'the sidecar'} at {conn.address} is {status}", file=sys.stderr)
    return OK if status == "SERVING" else NOT_ALL
