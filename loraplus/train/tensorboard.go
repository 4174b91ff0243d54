package train

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TensorBoardDir is the folder of an output folder that holds the TensorBoard event files (as Hugging Face
// Trainer's runs/): `tensorboard --logdir OUT/runs`.
const TensorBoardDir = "runs"

// eventPrefix starts the name of every event file; TensorBoard reads the files whose name contains "tfevents",
// in name order.
const eventPrefix = "events.out.tfevents."

// EventWriter appends scalar summaries to a TensorBoard event file: TFRecord records (little-endian length, its
// masked CRC-32C, the data, its masked CRC-32C) each holding a tensorflow.Event protocol buffer, the first one
// the file version "brain.Event:2". Every event is written with one write call and no buffering, so a killed
// process loses nothing already logged.
//
// It encodes the three messages it needs (Event, Summary.Value with simple_value, SessionLog) with the standard
// library: no maintained Go package writes TensorBoard event files (those that exist wrap TensorFlow's Go API
// or are unmaintained since 2017–2022), and five fields of protocol-buffer wire format (varints, 32- and 64-bit
// fixed values, length-delimited bytes) do not warrant a dependency on a protobuf runtime and generated code.
type EventWriter struct {
	f   *os.File
	buf []byte
}

// NewEventWriter creates a new event file in dir (made if missing), named
// events.out.tfevents.SECONDS.HOST.PID with SECONDS after that of every event file already there, so that
// TensorBoard, reading the files in name order, reads it last. It writes the file-version event.
func NewEventWriter(dir string) (*EventWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("train: tensorboard: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("train: tensorboard: %w", err)
	}
	now := time.Now()
	secs := now.Unix()
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), eventPrefix)
		if !ok {
			continue
		}
		if ts, err := strconv.ParseInt(strings.SplitN(rest, ".", 2)[0], 10, 64); err == nil && ts >= secs {
			secs = ts + 1
		}
	}
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r == '/' || r == os.PathSeparator {
			return '_'
		}
		return r
	}, host)
	path := filepath.Join(dir, fmt.Sprintf("%s%010d.%s.%d", eventPrefix, secs, host, os.Getpid()))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: tensorboard: %w", err)
	}
	w := &EventWriter{f: f}
	ev := appendEventHead(nil, now, 0)
	ev = appendBytes(ev, 3, []byte("brain.Event:2")) // Event.file_version
	if err := w.write(ev); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Name returns the path of the event file.
func (w *EventWriter) Name() string { return w.f.Name() }

// Start writes a SessionLog START event at step: TensorBoard then drops the events of earlier files at this
// step and after, which a run killed after its last checkpoint wrote and its resume writes again.
func (w *EventWriter) Start(step int) error {
	ev := appendEventHead(nil, time.Now(), step)
	ev = appendBytes(ev, 7, []byte{1<<3 | 0, 1}) // Event.session_log{status: START}
	return w.write(ev)
}

// Scalars writes one event at step with a float32 simple_value for every tag, in tag order.
func (w *EventWriter) Scalars(step int, values map[string]float64) error {
	var sum []byte
	for _, tag := range slices.Sorted(maps.Keys(values)) {
		v := appendBytes(nil, 1, []byte(tag)) // Summary.Value.tag
		v = binary.AppendUvarint(v, 2<<3|5)   // Summary.Value.simple_value, fixed32
		v = binary.LittleEndian.AppendUint32(v, math.Float32bits(float32(values[tag])))
		sum = appendBytes(sum, 1, v) // Summary.value
	}
	ev := appendEventHead(nil, time.Now(), step)
	ev = appendBytes(ev, 5, sum) // Event.summary
	return w.write(ev)
}

// Close closes the event file.
func (w *EventWriter) Close() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("train: tensorboard: %w", err)
	}
	return nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maskedCRC is TFRecord's checksum: CRC-32C rotated right by 15 bits plus a constant.
func maskedCRC(b []byte) uint32 {
	c := crc32.Checksum(b, castagnoli)
	return (c>>15 | c<<17) + 0xa282ead8
}

// write frames data as one TFRecord and appends it with one write.
func (w *EventWriter) write(data []byte) error {
	b := w.buf[:0]
	b = binary.LittleEndian.AppendUint64(b, uint64(len(data)))
	b = binary.LittleEndian.AppendUint32(b, maskedCRC(b[:8]))
	b = append(b, data...)
	b = binary.LittleEndian.AppendUint32(b, maskedCRC(data))
	w.buf = b
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("train: tensorboard: %w", err)
	}
	return nil
}

// appendEventHead appends Event.wall_time (seconds, double) and Event.step.
func appendEventHead(b []byte, t time.Time, step int) []byte {
	b = binary.AppendUvarint(b, 1<<3|1) // fixed64
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(float64(t.UnixNano())/1e9))
	b = binary.AppendUvarint(b, 2<<3|0) // varint
	return binary.AppendUvarint(b, uint64(step))
}

// appendBytes appends a length-delimited field.
func appendBytes(b []byte, field int, data []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|2)
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}
