"""Generated stubs of proto/doctriage/v1 (scripts/gen_protos.py); do not edit."""
