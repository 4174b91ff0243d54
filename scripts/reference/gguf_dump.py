"""Dump a GGUF file's header, metadata and tensor table as JSON using gguf-py.

The JSON is the reference the Go package nn/weights/gguf is compared with:

    {"version": 3, "alignment": 32, "data_offset": N,
     "kvs": [{"key": K, "type": T, "value": V}, ...],
     "tensors": [{"name", "type", "dims", "file_offset", "n_bytes", "n_elements"}]}

Value encoding (exact, JSON-safe): integers and bools as themselves; float32 and
float64 as their IEEE bit patterns (unsigned integers); strings as str when they
are valid UTF-8, else {"b64": base64}; arrays as {"elem": T, "items": [...]}.
T is the lower-case GGUF type name ("uint32", "array", ...). "dims" are in ggml
ne order (dims[0] is the contiguous axis).

Usage: gguf_dump.py FILE.gguf OUT.json
"""
from __future__ import annotations

import base64
import json
import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType

TYPE_NAMES = {
    GGUFValueType.UINT8: "uint8", GGUFValueType.INT8: "int8",
    GGUFValueType.UINT16: "uint16", GGUFValueType.INT16: "int16",
    GGUFValueType.UINT32: "uint32", GGUFValueType.INT32: "int32",
    GGUFValueType.FLOAT32: "float32", GGUFValueType.BOOL: "bool",
    GGUFValueType.STRING: "string", GGUFValueType.ARRAY: "array",
    GGUFValueType.UINT64: "uint64", GGUFValueType.INT64: "int64",
    GGUFValueType.FLOAT64: "float64",
}


def _scalar(vtype: GGUFValueType, arr: np.ndarray):
    x = arr[0]
    if vtype == GGUFValueType.FLOAT32:
        return int(np.float32(x).view(np.uint32))
    if vtype == GGUFValueType.FLOAT64:
        return int(np.float64(x).view(np.uint64))
    if vtype == GGUFValueType.BOOL:
        return bool(x)
    return int(x)


def _string(data: np.ndarray):
    raw = bytes(data)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(raw).decode("ascii")}


def _walk(parts: list, i: int, vtype: GGUFValueType):
    """Decode one value from gguf-py's flat parts list starting at parts[i].

    Returns (json_value, next_index). gguf-py flattens nested arrays into
    [elem_type, length, element parts...], which this walk rebuilds."""
    if vtype == GGUFValueType.STRING:
        return _string(parts[i + 1]), i + 2
    if vtype == GGUFValueType.ARRAY:
        etype = GGUFValueType(int(parts[i][0]))
        n = int(parts[i + 1][0])
        i += 2
        items = []
        for _ in range(n):
            v, i = _walk(parts, i, etype)
            items.append(v)
        return {"elem": TYPE_NAMES[etype], "items": items}, i
    return _scalar(vtype, parts[i]), i + 1


def dump(path: str, r: GGUFReader | None = None) -> dict:
    """Return the JSON-ready description of the GGUF file at path (parsed by
    gguf-py; pass an existing reader of that file as r to avoid re-parsing)."""
    if r is None:
        r = GGUFReader(path)
    kvs = []
    for key, field in r.fields.items():
        if key.startswith("GGUF."):
            continue
        # parts: key length, key bytes, value type, then the value's parts.
        vtype = GGUFValueType(int(field.parts[2][0]))
        value, end = _walk(field.parts, 3, vtype)
        assert end == len(field.parts), key
        kvs.append({"key": key, "type": TYPE_NAMES[vtype], "value": value})
    tensors = [
        {
            "name": t.name,
            "type": int(t.tensor_type),
            "dims": [int(d) for d in t.shape],
            "file_offset": int(t.data_offset),
            "n_bytes": int(t.n_bytes),
            "n_elements": int(t.n_elements),
        }
        for t in r.tensors
    ]
    version = int(r.fields["GGUF.version"].parts[0][0])
    return {"version": version, "alignment": int(r.alignment), "data_offset": int(r.data_offset),
            "kvs": kvs, "tensors": tensors}


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit("usage: gguf_dump.py FILE.gguf OUT.json")
    with open(sys.argv[2], "w") as f:
        json.dump(dump(sys.argv[1]), f)


if __name__ == "__main__":
    main()
