"""Reads a loraplus checkpoint's trainer_state.json with Hugging Face transformers' TrainerState, for
loraplus/train's test of the Hugging Face keys.

usage: trainer_state.py PATH   (writes JSON to stdout)
TrainerState.load_from_json builds the dataclass from every key of the file, so it refuses keys it does not know;
the file also holds loraplus's own resume keys (rng_state, epoch_step, ...). The script loads the file as
load_from_json does, then loads, with load_from_json itself, a copy holding only TrainerState's fields, and writes:
the keys left out (extra_keys), the error of the direct load (direct_error, null if it loaded), the Python type
name of every TrainerState field the file sets (types), those of every log_history entry's values (log_types),
and the loaded state's fields (state), after a save_to_json round trip.
"""
import dataclasses
import json
import os
import sys
import tempfile

from transformers.trainer_callback import TrainerState

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    data = json.load(f)
fields = {f.name for f in dataclasses.fields(TrainerState)}
direct_error = None
try:
    TrainerState.load_from_json(path)
except TypeError as e:
    direct_error = str(e)
with tempfile.TemporaryDirectory() as tmp:
    hf_path = os.path.join(tmp, "trainer_state.json")
    with open(hf_path, "w", encoding="utf-8") as f:
        json.dump({k: v for k, v in data.items() if k in fields}, f)
    state = TrainerState.load_from_json(hf_path)
    state.save_to_json(hf_path)
    state = TrainerState.load_from_json(hf_path)
out = {
    "extra_keys": sorted(k for k in data if k not in fields),
    "direct_error": direct_error,
    "types": {k: type(getattr(state, k)).__name__ for k in sorted(fields & data.keys())},
    "log_types": [{k: type(v).__name__ for k, v in e.items()} for e in state.log_history],
    "state": {k: getattr(state, k) for k in sorted(fields & data.keys())},
}
print(json.dumps(out))
