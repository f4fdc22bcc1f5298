"""The `helloword` command groups; `cli.py` only wires them."""
