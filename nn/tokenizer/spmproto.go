package tokenizer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// SentencePieceModel is the part of a SentencePiece ModelProto (tokenizer.model) that encoding needs.
type SentencePieceModel struct {
	// Pieces, Scores and Types are indexed by id, [V].
	Pieces []string
	Scores []float32
	Types  []PieceType

	// From TrainerSpec.
	ModelType               int32 // 1 unigram, 2 BPE, 3 word, 4 char
	ByteFallback            bool
	TreatWhitespaceAsSuffix bool
	UnkID, BOSID, EOSID     int32
	PadID                   int32 // -1 when there is no pad piece

	// From NormalizerSpec.
	NormalizerName         string
	PrecompiledCharsmap    []byte
	AddDummyPrefix         bool
	RemoveExtraWhitespaces bool
	EscapeWhitespaces      bool
}

// SentencePiece model types (TrainerSpec.ModelType).
const (
	SPModelUnigram int32 = 1
	SPModelBPE     int32 = 2
)

// protoField is one field of a protobuf message: its number, wire type, and varint value or payload.
type protoField struct {
	num   int
	wire  int
	value uint64
	data  []byte
}

var errTruncated = errors.New("truncated protobuf message")

// protoFields decodes the top level of one protobuf message.
func protoFields(b []byte) ([]protoField, error) {
	var out []protoField
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errTruncated
		}
		b = b[n:]
		f := protoField{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, errTruncated
			}
			f.value, b = v, b[n:]
		case 1:
			if len(b) < 8 {
				return nil, errTruncated
			}
			f.value, f.data, b = binary.LittleEndian.Uint64(b), b[:8], b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return nil, errTruncated
			}
			f.data, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return nil, errTruncated
			}
			f.value, f.data, b = uint64(binary.LittleEndian.Uint32(b)), b[:4], b[4:]
		default:
			return nil, fmt.Errorf("field %d: unsupported wire type %d", f.num, f.wire)
		}
		out = append(out, f)
	}
	return out, nil
}

// ParseSentencePieceModel decodes a serialized SentencePiece ModelProto. Fields it does not need are
// skipped; absent fields take the proto2 defaults of sentencepiece_model.proto.
func ParseSentencePieceModel(b []byte) (*SentencePieceModel, error) {
	m := &SentencePieceModel{ModelType: SPModelUnigram, UnkID: 0, BOSID: 1, EOSID: 2, PadID: -1,
		AddDummyPrefix: true, RemoveExtraWhitespaces: true, EscapeWhitespaces: true}
	fields, err := protoFields(b)
	if err != nil {
		return nil, fmt.Errorf("ModelProto: %w", err)
	}
	for _, f := range fields {
		switch f.num {
		case 1:
			if f.wire != 2 {
				return nil, fmt.Errorf("ModelProto.pieces[%d]: wire type %d", len(m.Pieces), f.wire)
			}
			if err := m.parsePiece(f.data); err != nil {
				return nil, fmt.Errorf("ModelProto.pieces[%d]: %w", len(m.Pieces), err)
			}
		case 2:
			if err := m.parseTrainerSpec(f.data); err != nil {
				return nil, fmt.Errorf("ModelProto.trainer_spec: %w", err)
			}
		case 3:
			if err := m.parseNormalizerSpec(f.data); err != nil {
				return nil, fmt.Errorf("ModelProto.normalizer_spec: %w", err)
			}
		}
	}
	if len(m.Pieces) == 0 {
		return nil, errors.New("ModelProto: no pieces")
	}
	return m, nil
}

func (m *SentencePieceModel) parsePiece(b []byte) error {
	fields, err := protoFields(b)
	if err != nil {
		return err
	}
	piece, score, typ := "", float32(0), PieceNormal
	for _, f := range fields {
		switch f.num {
		case 1:
			piece = string(f.data)
		case 2:
			if f.wire != 5 {
				return fmt.Errorf("score: wire type %d", f.wire)
			}
			score = math.Float32frombits(uint32(f.value))
		case 3:
			typ = PieceType(int32(f.value))
			if typ < PieceNormal || typ > PieceByte {
				return fmt.Errorf("piece %q: unknown type %d", piece, typ)
			}
		}
	}
	if piece == "" {
		return errors.New("empty piece")
	}
	m.Pieces = append(m.Pieces, piece)
	m.Scores = append(m.Scores, score)
	m.Types = append(m.Types, typ)
	return nil
}

func (m *SentencePieceModel) parseTrainerSpec(b []byte) error {
	fields, err := protoFields(b)
	if err != nil {
		return err
	}
	for _, f := range fields {
		switch f.num {
		case 3:
			m.ModelType = int32(f.value)
		case 24:
			m.TreatWhitespaceAsSuffix = f.value != 0
		case 35:
			m.ByteFallback = f.value != 0
		case 40:
			m.UnkID = int32(f.value)
		case 41:
			m.BOSID = int32(f.value)
		case 42:
			m.EOSID = int32(f.value)
		case 43:
			m.PadID = int32(f.value)
		}
	}
	return nil
}

func (m *SentencePieceModel) parseNormalizerSpec(b []byte) error {
	fields, err := protoFields(b)
	if err != nil {
		return err
	}
	for _, f := range fields {
		switch f.num {
		case 1:
			m.NormalizerName = string(f.data)
		case 2:
			m.PrecompiledCharsmap = f.data
		case 3:
			m.AddDummyPrefix = f.value != 0
		case 4:
			m.RemoveExtraWhitespaces = f.value != 0
		case 5:
			m.EscapeWhitespaces = f.value != 0
		}
	}
	return nil
}
