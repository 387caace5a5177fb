// Command classify is a minimal Go client of the DocTriage sidecar: it classifies one file with
// doctriage.v1.Classifier/Classify and prints the answer, or the reason code of the
// google.rpc.ErrorInfo the sidecar sends with every error (with RetryInfo and BadRequest when
// present). The stubs come from proto/ (./generate.sh, or buf generate with buf.gen.yaml).
//
//	go run . -address 127.0.0.1:50051 invoice.pdf
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	doctriagev1 "example.com/doctriage/clients/go/gen/doctriage/v1"
)

// refusal is what the sidecar says about a failed call.
type refusal struct {
	Code            string            `json:"code"`
	Reason          string            `json:"reason"`
	Message         string            `json:"message"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	RetryAfter      float64           `json:"retryAfter,omitempty"`
	FieldViolations []string          `json:"fieldViolations,omitempty"`
	RequestID       string            `json:"requestId"`
}

// describe reads the google.rpc details of a gRPC error (grpc-go decodes the
// grpc-status-details-bin trailer into status.Details()).
func describe(err error, trailer metadata.MD) refusal {
	st := status.Convert(err)
	out := refusal{Code: st.Code().String(), Message: st.Message()}
	if ids := trailer.Get("x-request-id"); len(ids) > 0 {
		out.RequestID = ids[0]
	}
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			out.Reason, out.Metadata = d.GetReason(), d.GetMetadata()
		case *errdetails.RetryInfo:
			delay := d.GetRetryDelay()
			out.RetryAfter = float64(delay.GetSeconds()) + float64(delay.GetNanos())/1e9
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				out.FieldViolations = append(out.FieldViolations, v.GetField()+": "+v.GetDescription())
			}
		}
	}
	return out
}

func main() {
	address := flag.String("address", "127.0.0.1:50051", "the sidecar's host:port")
	apiKey := flag.String("api-key", os.Getenv("DOCTRIAGE_API_KEY"), "sent as authorization: Bearer KEY")
	requestID := flag.String("request-id", "", "sent as x-request-id")
	timeout := flag.Duration("timeout", 30*time.Second, "deadline of the call")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: classify [-address HOST:PORT] [-api-key KEY] [-request-id ID] FILE")
		os.Exit(2)
	}
	path := flag.Arg(0)
	content, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	// Plaintext; WithInsecure (deprecated since grpc-go 1.34, still there) keeps Debian's 1.33 building.
	conn, err := grpc.Dial(*address, grpc.WithInsecure()) //nolint:staticcheck
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	client := doctriagev1.NewClassifierClient(conn)

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var pairs []string
	if *apiKey != "" {
		pairs = append(pairs, "authorization", "Bearer "+*apiKey)
	}
	if *requestID != "" {
		pairs = append(pairs, "x-request-id", *requestID)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, pairs...)

	var trailer metadata.MD
	response, err := client.Classify(ctx, &doctriagev1.ClassifyRequest{
		Content:   content,
		Filename:  filepath.Base(path),
		MimeType:  mime.TypeByExtension(filepath.Ext(path)),
		ClientRef: path,
	}, grpc.Trailer(&trailer))
	encoder := json.NewEncoder(os.Stdout)
	if err != nil {
		_ = encoder.Encode(map[string]any{"clientRef": path, "error": describe(err, trailer)})
		os.Exit(1)
	}
	_ = encoder.Encode(map[string]any{
		"clientRef":    response.GetClientRef(),
		"requestId":    response.GetRequestId(),
		"label":        response.GetLabel(),
		"confidence":   response.GetConfidence(),
		"decision":     response.GetDecision().String(),
		"modelVersion": response.GetModelVersion(),
		"source":       response.GetSource().String(),
		"digest":       response.GetDigest(),
		"error":        nil,
	})
}
