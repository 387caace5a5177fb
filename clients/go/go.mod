module example.com/doctriage/clients/go

go 1.19

// Requirements are resolved by `go mod tidy` after ./generate.sh (google.golang.org/grpc,
// google.golang.org/protobuf, google.golang.org/genproto/googleapis/rpc): they were not resolved where
// this example was written (no module proxy there; build-offline.sh builds it from Debian's packages).
