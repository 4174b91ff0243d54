"""CSV parsing reference for llama/mmlu's differential CSV test.

Reads a JSON list of strings from stdin, parses each with Python's csv
module (default dialect, as the MMLU reference readers see the files) and
writes a JSON list to stdout: {"rows": [[field, ...], ...]} with blank lines
dropped, or {"error": message}.
"""

import csv
import io
import json
import sys


def main():
    out = []
    for text in json.load(sys.stdin):
        try:
            rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
            out.append({"rows": rows})
        except csv.Error as e:
            out.append({"error": str(e)})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
