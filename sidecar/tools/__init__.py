"""Operators' tools, shipped with the server: `doctriage-admin eval` and `doctriage-admin calibrate`.

They classify through the public client (doctriage.Client) and change the sidecar through its public
Admin client (doctriage.AdminClient), like any other caller; `calibrate --offline` runs the models
in-process (sidecar/tools/offline.py)."""
