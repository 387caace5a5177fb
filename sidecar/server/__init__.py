"""The gRPC edge: server, servicers, interceptors, health."""
