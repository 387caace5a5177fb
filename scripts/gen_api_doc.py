"""Generate docs/API.md, the reference of the public contract, from the comments in proto/.

python scripts/gen_api_doc.py           # write docs/API.md
python scripts/gen_api_doc.py --check   # exit 1 when docs/API.md is stale

protoc (grpcio-tools) compiles proto/doctriage/v1/*.proto with their source info into a descriptor
set; every service, RPC, message, field, enum and enum value is rendered with its leading comment
(buf.yaml's COMMENTS lint rules make sure there is one). In a comment, a line indented by two
spaces starts a list item, a deeper one continues it.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
GOOGLEAPIS = ROOT / "third_party" / "googleapis"
OUT = ROOT / "docs" / "API.md"
FILES = ("doctriage/v1/classifier.proto", "doctriage/v1/admin.proto")
PACKAGE = "doctriage.v1"

# FileDescriptorProto / DescriptorProto / ... field numbers used in SourceCodeInfo paths.
SYNTAX, MESSAGE, ENUM, SERVICE = 12, 4, 5, 6
FIELD, NESTED = 2, 3
ENUM_VALUE, METHOD = 2, 2

FDP = descriptor_pb2.FieldDescriptorProto
SCALARS = {
    FDP.TYPE_DOUBLE: "double",
    FDP.TYPE_FLOAT: "float",
    FDP.TYPE_INT64: "int64",
    FDP.TYPE_UINT64: "uint64",
    FDP.TYPE_INT32: "int32",
    FDP.TYPE_FIXED64: "fixed64",
    FDP.TYPE_FIXED32: "fixed32",
    FDP.TYPE_BOOL: "bool",
    FDP.TYPE_STRING: "string",
    FDP.TYPE_BYTES: "bytes",
    FDP.TYPE_UINT32: "uint32",
    FDP.TYPE_SFIXED32: "sfixed32",
    FDP.TYPE_SFIXED64: "sfixed64",
    FDP.TYPE_SINT32: "sint32",
    FDP.TYPE_SINT64: "sint64",
}
EXTERNAL = {
    ".google.rpc.Status": "https://github.com/googleapis/googleapis/blob/master/google/rpc/status.proto",
}


def _well_known() -> str:
    import grpc_tools

    return str(Path(next(iter(grpc_tools.__path__))) / "_proto")


def descriptors() -> descriptor_pb2.FileDescriptorSet:
    from grpc_tools import protoc

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "api.pb"
        args = ["protoc", f"-I{PROTO_ROOT}", f"-I{GOOGLEAPIS}", f"-I{_well_known()}"]
        args += ["--include_source_info", f"--descriptor_set_out={out}", *FILES]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


class Comments:
    def __init__(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        self.by_path = {tuple(loc.path): loc.leading_comments for loc in file.source_code_info.location}

    def lines(self, *path: int) -> list[str]:
        """The leading comment's lines, without the one space after `//`."""
        text = self.by_path.get(tuple(path), "").rstrip("\n")
        return [_escape(line[1:] if line.startswith(" ") else line) for line in text.split("\n")] if text else []

    def inline(self, *path: int) -> str:
        """One line, for a table cell."""
        return _cell(" ".join(line.strip() for line in self.lines(*path)))

    def block(self, *path: int) -> str:
        """Markdown paragraphs; "  X" lines become list items, deeper ones continue them."""
        out: list[str] = []
        for line in self.lines(*path):
            if not line.strip():
                out.append("")
            elif re.match(r"^ {2}\S", line):
                if out and out[-1] and not out[-1].startswith("- "):
                    out.append("")
                out.append("- " + line.strip())
            elif line.startswith("   ") and out and out[-1].startswith("- "):
                out[-1] += " " + line.strip()
            else:
                if out and out[-1].startswith("- "):
                    out.append("")
                out.append(line.strip())
        return "\n".join(out).strip()


def _escape(text: str) -> str:
    """`<` and `>` outside code spans as entities (else "<label>" would be read as HTML)."""
    parts = text.split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "`".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _anchor(name: str) -> str:
    return name.lower()


def _type_name(type_name: str) -> str:
    """A message or enum reference, linked."""
    if type_name in EXTERNAL:
        return f"[`{type_name.lstrip('.')}`]({EXTERNAL[type_name]})"
    short = type_name.removeprefix(f".{PACKAGE}.")
    return f"[`{short}`](#{_anchor(short)})"


def _field_type(field: descriptor_pb2.FieldDescriptorProto, maps: dict[str, descriptor_pb2.DescriptorProto]) -> str:
    if field.type_name in maps:
        entry = maps[field.type_name]
        key, value = entry.field[0], entry.field[1]
        return f"map&lt;{_plain(key)}, {_plain(value)}&gt;"
    base = _plain(field)
    if field.label == FDP.LABEL_REPEATED:
        return f"repeated {base}"
    if field.proto3_optional:
        return f"optional {base}"
    return base


def _plain(field: descriptor_pb2.FieldDescriptorProto) -> str:
    if field.type in SCALARS:
        return f"`{SCALARS[field.type]}`"
    return _type_name(field.type_name)


def _rpc(method: descriptor_pb2.MethodDescriptorProto) -> str:
    def side(stream: bool, name: str) -> str:
        return ("stream " if stream else "") + name.removeprefix(f".{PACKAGE}.")

    request = side(method.client_streaming, method.input_type)
    response = side(method.server_streaming, method.output_type)
    return f"rpc {method.name}({request}) returns ({response})"


def render_file(file: descriptor_pb2.FileDescriptorProto) -> Iterator[str]:
    c = Comments(file)
    yield f"## {Path(file.name).name}"
    yield ""
    yield f"`proto/{file.name}`, package `{file.package}`."
    yield ""
    intro = c.block(SYNTAX)
    if intro:
        yield intro
        yield ""
    for s, service in enumerate(file.service):
        yield f"### {service.name}"
        yield ""
        yield f"Service `{file.package}.{service.name}`. {c.block(SERVICE, s)}"
        yield ""
        for m, method in enumerate(service.method):
            yield f"#### {service.name}.{method.name}"
            yield ""
            yield f"`{_rpc(method)}`"
            yield ""
            yield c.block(SERVICE, s, METHOD, m)
            yield ""
    maps = {
        f".{file.package}.{message.name}.{nested.name}": nested
        for message in file.message_type
        for nested in message.nested_type
        if nested.options.map_entry
    }
    for e, enum in enumerate(file.enum_type):
        yield f"### {enum.name}"
        yield ""
        yield f"Enum. {c.block(ENUM, e)}"
        yield ""
        yield "| value | number | meaning |"
        yield "|---|---|---|"
        for v, value in enumerate(enum.value):
            yield f"| `{value.name}` | {value.number} | {c.inline(ENUM, e, ENUM_VALUE, v)} |"
        yield ""
    for i, message in enumerate(file.message_type):
        yield f"### {message.name}"
        yield ""
        yield c.block(MESSAGE, i)
        yield ""
        if not message.field:
            yield "No fields."
            yield ""
            continue
        yield "| field | type | number | meaning |"
        yield "|---|---|---|---|"
        for f, field in enumerate(message.field):
            yield f"| `{field.name}` | {_field_type(field, maps)} | {field.number} | {c.inline(MESSAGE, i, FIELD, f)} |"
        yield ""


def render() -> str:
    files = {f.name: f for f in descriptors().file}
    lines = [
        "# DocTriage API reference",
        "",
        "<!-- Generated from the comments in proto/ by scripts/gen_api_doc.py; do not edit by hand:",
        "     edit the .proto comments and run `.venv/bin/python scripts/gen_api_doc.py`",
        "     (tests/unit/test_api_doc.py fails when this file is stale). -->",
        "",
        "The public gRPC contract of the sidecar: `doctriage.v1.Classifier` (classify documents) and",
        "`doctriage.v1.Admin` (operators). Clients: Python (`clients/python`, the `doctriage`",
        "package), Node.js (`clients/node`), or stubs generated for any language from `proto/`",
        '(`buf.gen.yaml`; README, "Other languages"). The server also offers `grpc.health.v1.Health`',
        "and server reflection, without authentication.",
        "",
        "Contents: " + ", ".join(f"[{Path(name).name}](#{Path(name).name.replace('.', '')})" for name in FILES),
        "",
    ]
    for name in FILES:
        lines += list(render_file(files[name]))
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare with the committed docs/API.md")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text() != text:
            print("docs/API.md is stale (run: python scripts/gen_api_doc.py)", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(OUT.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
