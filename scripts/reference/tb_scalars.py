"""Reads the scalars of a folder of TensorBoard event files with tensorboard's EventAccumulator, for
loraplus/train's test of its event writer.

usage: tb_scalars.py DIR   (writes JSON to stdout)
EventAccumulator reads every events file of DIR in name order, checking each record's masked CRC-32C (a bad one
ends the file's data), and drops the events at and after the step of a SessionLog START (a restart). Writes
{"file_version": ..., "scalars": {tag: [[step, value], ...]}} with the values as the float32 they were stored in.
"""
import json
import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
acc.Reload()
print(json.dumps({
    "file_version": acc.file_version,
    "scalars": {tag: [[e.step, e.value] for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]},
}))
