"""Writes PyTorch's Declarations.yaml for the torch wheel whose torchgen is importable.

PyTorch produces Declarations.yaml while it builds ATen; the wheel does not ship it, but it ships torchgen with
native_functions.yaml and tags.yaml, from which torchgen itself computes the same file. gotchgen reads it.

usage: python declarations.py OUT.yaml   (run with the interpreter that has the target torch installed)
"""

import os
import sys

import torchgen
from torchgen.gen import compute_declaration_yaml, format_yaml, parse_native_yaml


def main() -> None:
    out = sys.argv[1]
    native = os.path.join(os.path.dirname(torchgen.__file__), "packaged", "ATen", "native")
    parsed = parse_native_yaml(
        os.path.join(native, "native_functions.yaml"), os.path.join(native, "tags.yaml")
    )
    text = format_yaml([compute_declaration_yaml(f) for f in parsed.native_functions])
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out)
    print(f"declarations: {len(parsed.native_functions)} functions -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
