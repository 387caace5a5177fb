"""bench/RESULTS.md and the plots (bench/compare/latency.png, throughput.png) from
bench/compare/results.json. `python -m bench.compare.report` renders them again without running;
`python -m bench.compare.report RESULTS_JSON OUT_DIR` renders another run's (a --quick run's) into OUT_DIR."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
RESULTS = HERE / "results.json"
REPORT = HERE.parent / "RESULTS.md"

# (system, api) in the order of the tables and plots, with their labels.
SERIES = (
    ("inproc", "direct", "in-process ceiling"),
    ("grpc_bare", "unary", "bare gRPC"),
    ("sidecar_image_only", "unary", "sidecar image-only, unary"),
    ("sidecar_image_only", "stream", "sidecar image-only, stream"),
    ("fastapi", "http", "FastAPI + uvicorn"),
    ("pytriton", "http", "PyTriton (Triton)"),
    ("sidecar_default", "unary", "sidecar default config, unary"),
    ("sidecar_default", "stream", "sidecar default config, stream"),
)
LABELS = {(s, a): label for s, a, label in SERIES}


def phases(results: dict[str, Any], system: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = results["systems"].get(system, {}).get("phases", [])
    return found


def find(
    results: dict[str, Any], system: str, api: str, in_flight: int | None, docs: str = "all", mode: str = "closed"
) -> dict[str, Any] | None:
    for p in phases(results, system):
        same = p["api"] == api and p["docs"] == docs and p["mode"] == mode
        if same and (mode == "open" or p["in_flight"] == in_flight):
            return p
    return None


def _num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "–"


def _get(p: dict[str, Any] | None, key: str) -> Any:
    return None if p is None else p.get(key)


def _errors(p: dict[str, Any]) -> str:
    n = sum(p["errors"].values())
    return "0" if not n else f"{n} ({', '.join(f'{k} {v}' for k, v in p['errors'].items())})"


def headline(results: dict[str, Any]) -> list[str]:
    top = results["levels"][-1]
    r = results
    si = find(r, "sidecar_image_only", "unary", top)
    si1 = find(r, "sidecar_image_only", "unary", 1)
    st = find(r, "sidecar_image_only", "stream", top)
    bare, bare1 = find(r, "grpc_bare", "unary", top), find(r, "grpc_bare", "unary", 1)
    ceiling, ceiling1 = find(r, "inproc", "direct", top), find(r, "inproc", "direct", 1)
    fast, tri = find(r, "fastapi", "http", top), find(r, "pytriton", "http", top)
    lines = []
    if si and bare:
        lines.append(
            f"- **Sidecar image-only vs bare gRPC at {top} in flight:** {_num(si['docs_per_s'])} vs "
            f"{_num(bare['docs_per_s'])} docs/s, throughput ratio "
            f"**{_ratio(si['docs_per_s'], bare['docs_per_s'])}**; p95 {_num(si['p95_ms'])} vs "
            f"{_num(bare['p95_ms'])} ms, p95 ratio **{_ratio(si['p95_ms'], bare['p95_ms'])}**; "
            f"CPU {_num(si['cpu_ms_per_doc'])} vs {_num(bare['cpu_ms_per_doc'])} ms per document "
            f"({si['cpu_ms_per_doc'] - bare['cpu_ms_per_doc']:+.1f} ms, "
            f"{_ratio(si['cpu_ms_per_doc'], bare['cpu_ms_per_doc'])})."
        )
    if si1 and bare1:
        over = si1["p50_ms"] - bare1["p50_ms"]
        text = (
            f"- **Overhead at 1 in flight (p50):** sidecar image-only {_num(si1['p50_ms'])} ms, bare gRPC "
            f"{_num(bare1['p50_ms'])} ms: **{over:+.1f} ms** per document"
        )
        if ceiling1:
            text += (
                f" ({si1['p50_ms'] - ceiling1['p50_ms']:+.1f} ms over the in-process ceiling's "
                f"{_num(ceiling1['p50_ms'])} ms; bare gRPC {bare1['p50_ms'] - ceiling1['p50_ms']:+.1f} ms)"
            )
        lines.append(text + ".")
    if si and ceiling:
        lines.append(
            f"- **Against the in-process ceiling at {top} in flight:** {_num(ceiling['docs_per_s'])} docs/s; the "
            f"sidecar image-only reaches {_ratio(si['docs_per_s'], ceiling['docs_per_s'])} of it, bare gRPC "
            f"{_ratio(_get(bare, 'docs_per_s'), ceiling['docs_per_s'])}."
        )
    for other, name in ((fast, "FastAPI + uvicorn"), (tri, "PyTriton")):
        if si and other:
            lines.append(
                f"- **Sidecar image-only vs {name} at {top} in flight:** {_num(si['docs_per_s'])} vs "
                f"{_num(other['docs_per_s'])} docs/s (**{_ratio(si['docs_per_s'], other['docs_per_s'])}**); p95 "
                f"{_num(si['p95_ms'])} vs {_num(other['p95_ms'])} ms (**{_ratio(si['p95_ms'], other['p95_ms'])}**); "
                f"CPU {_num(si['cpu_ms_per_doc'])} vs {_num(other['cpu_ms_per_doc'])} ms per document."
            )
    for system, name in (("fastapi", "FastAPI"), ("pytriton", "PyTriton")):
        status = r["systems"].get(system, {}).get("status", "not run")
        if status != "ok":
            lines.append(f"- **{name}: no figures**: {status.splitlines()[0][:300]}")
    if si and st:
        lines.append(
            f"- **Streaming vs unary (sidecar image-only, {top} in flight on one stream vs {top} unary callers):** "
            f"{_num(st['docs_per_s'])} vs {_num(si['docs_per_s'])} docs/s "
            f"(**{_ratio(st['docs_per_s'], si['docs_per_s'])}**), p95 {_num(st['p95_ms'])} vs {_num(si['p95_ms'])} ms, "
            f"CPU {_num(st['cpu_ms_per_doc'])} vs {_num(si['cpu_ms_per_doc'])} ms per document."
        )
    for system, name in (("sidecar_image_only", "image-only"), ("sidecar_default", "default configuration")):
        p = find(r, system, "unary", top)
        answers = _get(p, "answers")
        if answers:
            lines.append(
                f"- **What the sidecar answered ({name}, {top} in flight):** versions "
                f"{_shares(answers['versions'])}; decisions {_shares(answers['decisions'])}; OCR read for "
                f"{100 * (answers['ocr_share'] or 0):.0f} % (every HUMAN_REVIEW answer also goes through the review "
                "queue: a look-up and, for a new digest, an insert in SQLite, group-committed on the review desk's "
                "own thread; the corpus repeats, so here they are look-ups)."
            )
    pdf = find(r, "sidecar_default", "unary", top, docs="pdf_digital")
    photo = find(r, "sidecar_default", "unary", top, docs="photo")
    mixed = find(r, "sidecar_default", "unary", top)
    if pdf and photo:
        ocr = _get(photo.get("answers"), "ocr_share")
        lines.append(
            f"- **Default configuration, p95 at {top} in flight:** born-digital PDFs only {_num(pdf['p95_ms'])} ms "
            f"({_num(pdf['docs_per_s'])} docs/s); phone photos only {_num(photo['p95_ms'])} ms "
            f"({_num(photo['docs_per_s'])} docs/s; {_num(100 * ocr if ocr is not None else None, 0)} % of the "
            f"answers read OCR); the mixed corpus {_num(_get(mixed, 'p95_ms'))} ms at "
            f"{_num(_get(mixed, 'docs_per_s'))} docs/s."
        )
    cost = r["cost"]
    parts = []
    for system, api, label in SERIES:
        p = find(r, system, api, top)
        if p and p.get("cost_per_1000") is not None:
            parts.append(f"{label} {p['cost_per_1000']:.6f}")
    if parts:
        lines.append(
            f"- **Cost per 1 000 documents at {top} in flight** (server CPU seconds × {cost['cpu_second_price']} "
            f"{cost['currency']}/CPU-second), {cost['currency']}: " + "; ".join(parts) + "."
        )
    return lines


def _shares(counts: dict[str, int]) -> str:
    total = sum(counts.values()) or 1
    return ", ".join(f"{k} {100 * v / total:.0f} %" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def summary_table(results: dict[str, Any]) -> list[str]:
    top = results["levels"][-1]
    out = [
        f"| system | docs/s at {top} | p50 ms at 1 | p95 ms at {top} | p99 ms at {top} | CPU ms/doc at {top} "
        f"| cost / 1 000 docs ({results['cost']['currency']}) | RSS peak MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for system, api, label in SERIES:
        p, p1 = find(results, system, api, top), find(results, system, api, 1)
        if p is None:
            continue
        rss = results["systems"][system].get("rss_peak_mib")
        cost = p.get("cost_per_1000")
        out.append(
            f"| {label} | {_num(p['docs_per_s'])} | {_num(_get(p1, 'p50_ms'))} | {_num(p['p95_ms'])} | "
            f"{_num(p['p99_ms'])} | {_num(p['cpu_ms_per_doc'])} | {_num(cost, 6)} | {_num(rss, 0)} |"
        )
    return out


def full_table(results: dict[str, Any]) -> list[str]:
    out = [
        "| system | in flight | docs/s | p50 ms | p95 ms | p99 ms | p99.9 ms | n | errors | CPU ms/doc | "
        "client CPU ms/doc | cost / 1 000 | RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for system, api, label in SERIES:
        for p in phases(results, system):
            if p["api"] != api or p["mode"] != "closed" or p["docs"] != "all":
                continue
            client = p["client_cpu_s"] * 1e3 / p["ok"] if p.get("client_cpu_s") is not None and p["ok"] else None
            out.append(
                f"| {label} | {p['in_flight']} | {_num(p['docs_per_s'])} | {_num(p['p50_ms'])} | "
                f"{_num(p['p95_ms'])} | {_num(p['p99_ms'])} | {_num(p['p999_ms'])} | {p['ok']} | {_errors(p)} | "
                f"{_num(p['cpu_ms_per_doc'])} | {_num(client, 2)} | {_num(p['cost_per_1000'], 6)} | "
                f"{_num(p['rss_mib'], 0)} |"
            )
    return out


def open_table(results: dict[str, Any]) -> list[str]:
    out = [
        "| system | offered docs/s | answered docs/s | p50 ms | p95 ms | p99 ms | p99.9 ms | errors | CPU ms/doc |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for system, api, label in SERIES:
        p = find(results, system, api, None, mode="open")
        if p is not None:
            out.append(
                f"| {label} | {_num(p['rate'])} | {_num(p['docs_per_s'])} | {_num(p['p50_ms'])} | "
                f"{_num(p['p95_ms'])} | {_num(p['p99_ms'])} | {_num(p['p999_ms'])} | {_errors(p)} | "
                f"{_num(p['cpu_ms_per_doc'])} |"
            )
    return out


def category_table(results: dict[str, Any]) -> list[str]:
    top = results["levels"][-1]
    out = [
        "| system | docs sent | born-digital PDF p50 / p95 ms | scan p50 / p95 ms | photo p50 / p95 ms | OCR read |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for system, api, label in SERIES:
        for p in phases(results, system):
            if p["api"] != api or p["mode"] != "closed" or p["in_flight"] != top:
                continue
            cells = []
            for c in ("pdf_digital", "scan", "photo"):
                b = p["by_category"].get(c)
                cells.append(f"{_num(b['p50_ms'])} / {_num(b['p95_ms'])} (n {b['n']})" if b else "–")
            ocr = _get(p.get("answers"), "ocr_share")
            share = f"{100 * ocr:.0f} %" if ocr is not None else "–"
            out.append(f"| {label} | {p['docs']} | {' | '.join(cells)} | {share} |")
    return out


def plots(results: dict[str, Any], latency_png: Path, throughput_png: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = results["levels"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), sharex=True)
    for system, api, label in SERIES:
        rows = [find(results, system, api, n) for n in levels]
        xs = [n for n, p in zip(levels, rows, strict=True) if p and p["p50_ms"] is not None]
        if not xs:
            continue
        ps = [p for p in rows if p and p["p50_ms"] is not None]
        (line,) = axes[0].plot(xs, [p["p50_ms"] for p in ps], marker="o", label=label)
        axes[1].plot(xs, [p["p95_ms"] for p in ps], marker="o", color=line.get_color(), label=label)
    for ax, name in zip(axes, ("p50", "p95"), strict=True):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(levels, [str(n) for n in levels])
        ax.set_xlabel("requests in flight (closed loop)")
        ax.set_ylabel(f"{name} latency, ms (log)")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Latency against load, {results['machine']['cores']} cores ({results['date']})")
    fig.tight_layout()
    fig.savefig(latency_png, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(12, 4.8))
    present = [(s, a, label) for s, a, label in SERIES if any(find(results, s, a, n) for n in levels)]
    width = 0.8 / max(1, len(levels))
    for k, n in enumerate(levels):
        values = [_get(find(results, s, a, n), "docs_per_s") or 0.0 for s, a, _ in present]
        xs = [i + (k - (len(levels) - 1) / 2) * width for i in range(len(present))]
        ax.bar(xs, values, width, label=f"{n} in flight")
    ax.set_xticks(range(len(present)), [label.replace(", ", "\n") for _, _, label in present], fontsize=8)
    ax.set_ylabel("documents per second")
    ax.set_title(f"Throughput, closed loop, same corpus and model ({results['date']})")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(throughput_png, dpi=110)
    plt.close(fig)
    return [latency_png, throughput_png]


def render(results: dict[str, Any], images: str = "compare/") -> str:
    m, c = results["machine"], results["corpus"]
    top = results["levels"][-1]
    v = results["versions"]
    lines = [
        "# Benchmarks: the sidecar's own cost, side by side with what users would run instead",
        "",
        "Issue #25. Generated by `make bench` (`python -m bench.compare.run`) from `bench/compare/results.json`; "
        "do not edit by hand. Other benchmarks keep their own results under `bench/<name>/`.",
        "",
        f"- **Machine:** {m['cpu'] or 'unknown CPU'}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, "
        f"Python {m['python']}; no GPU. Load generator, servers and their workers share the {m['cores']} cores.",
        f"- **Date:** {results['date']}; {results['seconds_per_phase']:.0f} s per phase; the whole run took "
        f"{results['run_seconds'] / 60:.1f} min{' (--quick smoke run)' if results['quick'] else ''}.",
        f"- **Versions:** {', '.join(f'{k} {val}' for k, val in v.items())}"
        + "".join(
            f"; {', '.join(f'{k} {val}' for k, val in results['systems'][s].get('versions', {}).items())}"
            for s in ("fastapi", "pytriton")
            if results["systems"].get(s, {}).get("versions")
        )
        + ".",
        f"- **Corpus** (`bench/compare/corpus.py`): {c['documents']} documents, "
        + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in c["by_category"].items())
        + f"; {c['generated']} generated by `harness.documents` (vector PDFs with a text layer, image-only "
        "scanned PDFs, PNG/JPEG scans at 72–300 dpi, simulated phone photos), "
        + (
            f"{len(c['real_docs'])} real documents read in place from `../shared/real-docs` (never copied): "
            + ", ".join(f"`{d}`" for d in c["real_docs"])
            if c["real_docs"]
            else "no real documents (`../shared/real-docs` absent)"
        )
        + f". Mean size {c['mean_kib']} KiB. Every system gets the same documents in the same order.",
        "- **Model:** doc-classifier 2.3 (image-only CNN, 256×192 grey input) in ONNX Runtime on the CPU, one "
        "intra-op thread per session, as the sidecar runs it.",
        "",
        "## What each system does",
        "",
    ]
    for system, info in results["systems"].items():
        lines.append(f"- `{system}`: {info['does']}.")
    lines += [
        "",
        "The work is the sidecar's own stages (`bench/compare/work.py`: `sidecar.pipeline.analysis.Stages`/"
        "`Analysis` for validate → decode → normalize, `sidecar.models.runtime.OnnxModel` + "
        "`sidecar.models.infer.infer_batch` for the model and its calibration); everything but the sidecar does "
        "exactly that and nothing more. The sidecar does what it always does on top: request ids, the gateway's "
        "checks and metrics, admission control, validation's flags, routing, the batcher and breaker, business "
        "rules (OCR in the middle band), the decision, the review queue (SQLite) for HUMAN_REVIEW answers, drift, "
        "cost and the canonical JSON log line. Both sidecar configurations run with the answer cache and the OCR "
        "cache off (the corpus repeats), auth, the rate limit and clamd off; the metrics exporter is on.",
        "",
        "## Headline",
        "",
        *headline(results),
        "",
        *summary_table(results),
        "",
        f"![latency against load]({images}latency.png)",
        "",
        f"![throughput]({images}throughput.png)",
        "",
        "## Closed loop: 1 to 8 requests in flight",
        "",
        "Each caller sends its next document as soon as the last is answered (the stream: that many requests "
        "outstanding on one ClassifyStream). Throughput counts answered documents over the phase's wall time; "
        "percentiles are of answered documents (nearest rank; p99.9 of a few hundred calls is close to the "
        "maximum); CPU is the server's process tree (user + system, /proc) over the phase, divided by the "
        "documents answered; RSS is the tree's resident memory after the phase.",
        "",
        *full_table(results),
        "",
        "## Open loop: a constant arrival rate",
        "",
        f"Every system is offered the same rate, {open_rate_text(results)}; latency is counted from the time "
        "each call was due, not from when it was sent, so a server that falls behind shows its queue "
        "(no coordinated omission). The default configuration is offered 70 % of its own rate at "
        f"{top} in flight instead.",
        "",
        *open_table(results),
        "",
        f"## By kind of document, {top} in flight",
        "",
        "The mixed corpus's latency split by document kind, and the default configuration sent one kind only. "
        '"OCR read": the share of the sidecar\'s answers whose timings include OCR.',
        "",
        *category_table(results),
        "",
        "## What could not run",
        "",
    ]
    failed = [(s, info["status"]) for s, info in results["systems"].items() if info["status"] != "ok"]
    if failed:
        for system, status in failed:
            body = status.replace("\n", "\n    ")
            lines.append(f"- `{system}`:\n\n    {body}\n")
    else:
        lines.append("Everything ran.")
    lines += [
        "",
        "## Method notes",
        "",
        "- The load generator (`harness/load.py`: `closed_loop_calls`, `open_loop_calls`; the gRPC, stream and "
        "HTTP callers in `bench/compare/clients.py`) runs in the benchmark's own process on the same cores as "
        "the server: every system pays for its client, which is why the in-process ceiling (no client, no "
        "server) is the ceiling.",
        "- Each server is warmed with every document once before it is measured; each phase opens its own "
        "connection (or stream) and makes one call before the clock starts.",
        "- Cost per 1 000 documents = server CPU seconds per document × 1 000 × `cost.cpu_second_price` "
        f"({results['cost']['cpu_second_price']} {results['cost']['currency']}, `sidecar.config.CostSettings`); "
        "the client's CPU is not counted.",
        "- The in-process ceiling runs N threads with no bounded executor: at 4 and 8 in flight they share the "
        "2 cores (processor sharing), so its throughput is the ceiling but its tail latency is not a floor; the "
        "servers queue the excess in front of a 2-thread executor instead.",
        '- "client CPU" is the load generator\'s own CPU per answered document (grpc.aio costs the client more '
        "than HTTP/1.1 over asyncio streams); it runs on the same 2 cores as the server.",
        "- Short phases on a shared 2-core machine: differences of a few percent are noise; the ratios are "
        "what this run measured, not constants.",
        "",
    ]
    return "\n".join(lines)


def open_rate_text(results: dict[str, Any]) -> str:
    o = results["open_loop"]
    rate = f"{o['rate']:.1f} documents/s" if o.get("rate") else "(not measured)"
    share = o["share_of_sidecar_image_only_at_top"] * 100
    return f"{rate} ({share:.0f} % of what the image-only sidecar answered at {results['levels'][-1]} in flight, unary)"


def write_report(results: dict[str, Any], out_dir: Path | None = None) -> list[Path]:
    """bench/RESULTS.md + bench/compare/*.png, or RESULTS.md and the plots in `out_dir`."""
    report = REPORT if out_dir is None else out_dir / "RESULTS.md"
    plot_dir = HERE if out_dir is None else out_dir
    written = []
    try:
        written += plots(results, plot_dir / "latency.png", plot_dir / "throughput.png")
    except ImportError as exc:
        print(f"no plots: {exc} (`make bench` installs matplotlib)", file=sys.stderr)
    report.write_text(render(results, "compare/" if out_dir is None else ""))
    return [report, *written]


if __name__ == "__main__":
    if len(sys.argv) == 3:
        paths = write_report(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))
    else:
        paths = write_report(json.loads(RESULTS.read_text()))
    for path in paths:
        print(path)
