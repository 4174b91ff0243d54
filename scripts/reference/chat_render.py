"""Chat templates rendered by transformers (the Jinja environment of apply_chat_template) for the Go parity test.

usage: chat_render.py REQUEST.json

REQUEST: {"cases": [{"template": SOURCE, "messages": [{"role", "content"}...], "add_generation_prompt": bool,
"vars": {...}}...]}. Prints a JSON list with, for each case, {"text": the rendered string} or {"error": message}
when the template raises (raise_exception).
"""
import json
import sys

from transformers.utils.chat_template_utils import render_jinja_template

with open(sys.argv[1]) as f:
    req = json.load(f)
out = []
for c in req["cases"]:
    try:
        texts, _ = render_jinja_template([c["messages"]], chat_template=c["template"],
                                         add_generation_prompt=c["add_generation_prompt"], **c["vars"])
        out.append({"text": texts[0]})
    except Exception as e:  # a template's raise_exception surfaces as jinja2's TemplateError
        out.append({"error": str(e)})
json.dump(out, sys.stdout)
