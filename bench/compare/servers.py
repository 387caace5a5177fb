"""The servers bench/compare sets beside the sidecar, each doing the same work (bench/compare/work.py)
in one process, written the way a user would write them:

    python -m bench.compare.servers grpc --port-file F      # a bare grpc.aio server, the sidecar's proto
    python -m bench.compare.servers fastapi --port-file F   # FastAPI + uvicorn, multipart upload

- grpc: `doctriage.v1.Classifier/Classify` (unary only), the work in a ThreadPoolExecutor of one thread
  per core (the sidecar's `server.workers` default); a refused document is INVALID_ARGUMENT. No
  interceptors, no admission control, no logging, no metrics.
- fastapi (bench/compare/fastapi_app.py): `POST /classify` with a multipart `file` field, answered as
  JSON; a plain `def` endpoint,
  so FastAPI runs it in its thread pool (anyio's, 40 threads); a refused document is 422. uvicorn
  with its defaults: one worker process, the h11 HTTP parser (no uvloop/httptools: `pip install
  uvicorn` without [standard]), its access log on (to /dev/null here).

Each binds 127.0.0.1 on a free port and writes the port to --port-file once it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.compare.work import Work


def _ready(port_file: Path, port: int) -> None:
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(port))
    tmp.replace(port_file)


async def serve_grpc(port_file: Path, workers: int) -> None:
    import grpc
    from doctriage.v1 import classifier_pb2, classifier_pb2_grpc

    from sidecar.errors import DocTriageError

    work = Work()
    executor = ThreadPoolExecutor(workers, thread_name_prefix="work")

    class Classifier(classifier_pb2_grpc.ClassifierServicer):  # type: ignore[misc]
        async def Classify(
            self, request: classifier_pb2.ClassifyRequest, context: grpc.aio.ServicerContext
        ) -> classifier_pb2.ClassifyResponse:
            loop = asyncio.get_running_loop()
            try:
                p = await loop.run_in_executor(executor, work.classify, request.content, request.filename)
            except DocTriageError as exc:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
            return classifier_pb2.ClassifyResponse(
                client_ref=request.client_ref,
                label=p.label,
                confidence=p.confidence,
                scores=[classifier_pb2.ClassScore(label=k, score=v) for k, v in p.scores.items()],
                model_name=p.model_name,
                model_version=p.model_version,
            )

    server = grpc.aio.server()
    classifier_pb2_grpc.add_ClassifierServicer_to_server(Classifier(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    _ready(port_file, port)
    await server.wait_for_termination()


def serve_fastapi(port_file: Path) -> None:
    import uvicorn

    # proto IPPROTO_TCP, as `uvicorn --port` binds it: asyncio sets TCP_NODELAY only on sockets that say
    # so (proto 0 leaves Nagle on, and keep-alive requests then wait ~40 ms for delayed ACKs).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    server = uvicorn.Server(uvicorn.Config("bench.compare.fastapi_app:app"))  # its defaults: access log on
    _ready(port_file, sock.getsockname()[1])
    server.run(sockets=[sock])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=("grpc", "fastapi"))
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if args.kind == "grpc":
        asyncio.run(serve_grpc(args.port_file, args.workers))
    else:
        serve_fastapi(args.port_file)


if __name__ == "__main__":
    main()
