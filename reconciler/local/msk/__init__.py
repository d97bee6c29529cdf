"""The local MSK control-plane endpoint: wire format, backend state and operations, HTTP."""
