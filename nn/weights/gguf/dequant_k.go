package gguf

import (
	"encoding/binary"
	"math"
)

// K-quants pack 256 values per super-block. Layouts (ggml-common.h):
//
//	Q2_K  84 B: u8 scales[16] (lo4 scale, hi4 min); u8 qs[64] (2-bit); f16 d, dmin
//	Q3_K 110 B: u8 hmask[32]; u8 qs[64] (low 2 bits); u8 scales[12] (16 x 6-bit); f16 d
//	Q4_K 144 B: f16 d, dmin; u8 scales[12] (8 x 6-bit scale + 8 x 6-bit min); u8 qs[128]
//	Q5_K 176 B: f16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
//	Q6_K 210 B: u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d
//	Q8_K 292 B: f32 d; i8 qs[256]; i16 bsums[16]

func dequantQ2K(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		scales := src[0:16]
		q := src[16:80]
		d, dmin := f16At(src[80:]), f16At(src[82:])
		y := dst[b*qkK : b*qkK+qkK]
		is := 0
		for n := 0; n < qkK; n += 128 {
			shift := uint(0)
			for range 4 {
				for half := range 2 {
					sc := scales[is]
					is++
					dl := d * float32(sc&0x0F)
					ml := dmin * float32(sc>>4)
					for l := range 16 {
						y[l] = float32(dl*float32((q[l+16*half]>>shift)&3)) - ml
					}
					y = y[16:]
				}
				shift += 2
			}
			q = q[32:]
		}
		src = src[84:]
	}
}

func dequantQ3K(src []byte, dst []float32) {
	const kmask1, kmask2 = 0x03030303, 0x0f0f0f0f
	var aux [4]uint32
	var scales [16]int8
	for b := 0; len(src) > 0; b++ {
		hm := src[0:32]
		q := src[32:96]
		sraw := src[96:108]
		dAll := f16At(src[108:])
		le := binary.LittleEndian
		aux[0], aux[1], aux[2] = le.Uint32(sraw), le.Uint32(sraw[4:]), le.Uint32(sraw[8:])
		tmp := aux[2]
		aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4)
		aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4)
		aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4)
		aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4)
		for i := range 16 {
			scales[i] = int8(aux[i/4] >> (8 * (i % 4)))
		}
		y := dst[b*qkK : b*qkK+qkK]
		is := 0
		m := byte(1)
		for n := 0; n < qkK; n += 128 {
			shift := uint(0)
			for range 4 {
				for half := range 2 {
					dl := dAll * float32(int(scales[is])-32)
					is++
					for l := range 16 {
						k := l + 16*half
						v := int((q[k] >> shift) & 3)
						if hm[k]&m == 0 {
							v -= 4
						}
						y[l] = dl * float32(v)
					}
					y = y[16:]
				}
				shift += 2
				m <<= 1
			}
			q = q[32:]
		}
		src = src[110:]
	}
}

// scaleMinK4 unpacks the j-th 6-bit scale and min of a Q4_K/Q5_K block
// (get_scale_min_k4 in ggml).
func scaleMinK4(j int, q []byte) (sc, m byte) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return (q[j+4] & 0x0F) | ((q[j-4] >> 6) << 4), (q[j+4] >> 4) | ((q[j] >> 6) << 4)
}

func dequantQ4K(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		d, dmin := f16At(src), f16At(src[2:])
		scales := src[4:16]
		q := src[16:144]
		y := dst[b*qkK : b*qkK+qkK]
		for is := 0; is < 8; is += 2 {
			sc, m := scaleMinK4(is, scales)
			d1, m1 := d*float32(sc), dmin*float32(m)
			sc, m = scaleMinK4(is+1, scales)
			d2, m2 := d*float32(sc), dmin*float32(m)
			for l := range 32 {
				y[l] = float32(d1*float32(q[l]&0x0F)) - m1
				y[l+32] = float32(d2*float32(q[l]>>4)) - m2
			}
			q = q[32:]
			y = y[64:]
		}
		src = src[144:]
	}
}

func dequantQ5K(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		d, dmin := f16At(src), f16At(src[2:])
		scales := src[4:16]
		qh := src[16:48]
		ql := src[48:176]
		y := dst[b*qkK : b*qkK+qkK]
		u1, u2 := byte(1), byte(2)
		for is := 0; is < 8; is += 2 {
			sc, m := scaleMinK4(is, scales)
			d1, m1 := d*float32(sc), dmin*float32(m)
			sc, m = scaleMinK4(is+1, scales)
			d2, m2 := d*float32(sc), dmin*float32(m)
			for l := range 32 {
				v1 := ql[l] & 0x0F
				if qh[l]&u1 != 0 {
					v1 += 16
				}
				v2 := ql[l] >> 4
				if qh[l]&u2 != 0 {
					v2 += 16
				}
				y[l] = float32(d1*float32(v1)) - m1
				y[l+32] = float32(d2*float32(v2)) - m2
			}
			ql = ql[32:]
			y = y[64:]
			u1 <<= 2
			u2 <<= 2
		}
		src = src[176:]
	}
}

func dequantQ6K(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		ql := src[0:128]
		qh := src[128:192]
		sc := src[192:208]
		d := f16At(src[208:])
		y := dst[b*qkK : b*qkK+qkK]
		for n := 0; n < qkK; n += 128 {
			for l := range 32 {
				is := l / 16
				q1 := int(ql[l]&0x0F|((qh[l]>>0)&3)<<4) - 32
				q2 := int(ql[l+32]&0x0F|((qh[l]>>2)&3)<<4) - 32
				q3 := int(ql[l]>>4|((qh[l]>>4)&3)<<4) - 32
				q4 := int(ql[l+32]>>4|((qh[l]>>6)&3)<<4) - 32
				y[l] = float32(d*float32(int8(sc[is]))) * float32(q1)
				y[l+32] = float32(d*float32(int8(sc[is+2]))) * float32(q2)
				y[l+64] = float32(d*float32(int8(sc[is+4]))) * float32(q3)
				y[l+96] = float32(d*float32(int8(sc[is+6]))) * float32(q4)
			}
			y = y[128:]
			ql = ql[64:]
			qh = qh[32:]
			sc = sc[8:]
		}
		src = src[210:]
	}
}

func dequantQ8K(src []byte, dst []float32) {
	for b := 0; len(src) > 0; b++ {
		d := math.Float32frombits(binary.LittleEndian.Uint32(src))
		qs := src[4:260]
		y := dst[b*qkK : b*qkK+qkK]
		for j := range qkK {
			y[j] = d * float32(int8(qs[j]))
		}
		src = src[292:]
	}
}
