package inputs

import "math"

// Float16 is f as an IEEE 754 half-precision bit pattern, rounded to
// nearest, ties to even: values beyond the half's range become ±Inf,
// values below its smallest subnormal ±0, NaN stays a (quiet) NaN.
func Float16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp, man := int(b>>23&0xff), b&0x7fffff
	if exp == 0xff { // Inf, NaN
		if man != 0 {
			return sign | 0x7e00 | uint16(man>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15 // the half's biased exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e >= 1 {
		h := uint32(e)<<10 | man>>13
		// A carry out of the mantissa moves into the exponent, up to Inf.
		return sign | uint16(h+roundUp(man, 13, h))
	}
	// Subnormal half: the value in units of 2^-24 is the full significand
	// shifted right by 14-e.
	s := uint(14 - e)
	if s >= 32 {
		return sign
	}
	m := man | 0x800000
	q := m >> s
	return sign | uint16(q+roundUp(m, s, q))
}

// roundUp is 1 when dropping the low s bits of m rounds the kept value q
// up: above half, or exactly half and q odd.
func roundUp(m uint32, s uint, q uint32) uint32 {
	rem, half := m&(1<<s-1), uint32(1)<<(s-1)
	if rem > half || rem == half && q&1 == 1 {
		return 1
	}
	return 0
}
