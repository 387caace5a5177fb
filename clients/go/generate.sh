#!/bin/sh
# Go stubs of proto/doctriage/v1 into clients/go/gen/doctriage/v1 (gitignored) with protoc and the
# protoc-gen-go / protoc-gen-go-grpc plugins on PATH:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@latest
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@latest
# (Debian/Ubuntu: apt-get install protobuf-compiler protoc-gen-go protoc-gen-go-grpc). PROTOC may name
# another protoc, e.g. PROTOC="python -m grpc_tools.protoc" (grpcio-tools, in the project's .venv).
# The .proto files carry no go_package option (part of the contract): the M options map them here;
# google/rpc/status.proto keeps its own (google.golang.org/genproto/googleapis/rpc/status).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pkg=example.com/doctriage/clients/go/gen/doctriage/v1
map="Mdoctriage/v1/classifier.proto=$pkg;doctriagev1,Mdoctriage/v1/admin.proto=$pkg;doctriagev1"
rm -rf "$here/gen"
mkdir -p "$here/gen"
${PROTOC:-protoc} -I "$repo/proto" -I "$repo/third_party/googleapis" \
  --go_out="$here/gen" --go_opt="paths=source_relative,$map" \
  --go-grpc_out="$here/gen" --go-grpc_opt="paths=source_relative,$map" \
  doctriage/v1/classifier.proto doctriage/v1/admin.proto
