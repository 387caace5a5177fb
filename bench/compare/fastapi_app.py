"""The FastAPI app of bench/compare: `POST /classify` with a multipart `file` field, answered as JSON,
the work of bench/compare/work.py in a plain `def` endpoint (FastAPI runs it in its thread pool).
A refused document is 422. No `from __future__ import annotations`: FastAPI reads the annotations."""

from typing import Any

from fastapi import FastAPI, File, HTTPException, UploadFile

from bench.compare.work import Work, answer
from sidecar.errors import DocTriageError

work = Work()
app = FastAPI()


@app.post("/classify")
def classify(file: UploadFile = File(...)) -> dict[str, Any]:  # noqa: B008 - FastAPI's idiom
    content = file.file.read()
    try:
        return answer(work.classify(content, file.filename or ""))
    except DocTriageError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from exc
