package vec32

// Im2colStride2 writes one row of a stride-2 convolution's unrolled
// columns: dst[oy*wo + ox] = plane[iy*w + ix] with iy = 2*oy + ky - p and
// ix = 2*ox + kx - p, or 0 where (iy, ix) falls outside the h x w plane. The
// AVX-512 version gathers a whole output row (wo <= 16 values from a row of
// w <= 32) with one two-table permute, the AVX2 one (wo <= 16) with two
// shuffles per 8 values.
func Im2colStride2(dst, plane []float32, h, w, ho, wo, ky, kx, p int) {
	dst, plane = dst[:ho*wo], plane[:h*w]
	if useAVX512 && w <= 32 && wo <= 16 && 2*(wo-1)+kx-p < 32 {
		var idx [16]int32
		valid := 0
		for i := range idx {
			ix := 2*i + kx - p
			idx[i] = int32(ix & 31)
			if i < wo && ix >= 0 {
				valid |= 1 << i
			}
		}
		lo, hi := split16(w)
		im2colStride2AVX512(&dst[0], &plane[0], h, w, ho, wo, ky-p, &idx[0], lo, hi, valid, mask(wo))
		return
	}
	if useAsm && wo <= 16 && ho > 0 && wo > 0 {
		off := kx - p
		im2colStride2AVX2(&dst[0], &plane[0], h, w, ho, wo, ky-p, off, fromLane(-off), firstLanes(w-off), firstLanes(wo))
		return
	}
	// The output columns whose source column is inside the row: [lo, hi).
	off := kx - p
	lo := min(wo, max(0, (1-off)/2))
	hi := max(lo, min(wo, (w-off+1)/2))
	for oy := 0; oy < ho; oy++ {
		out := dst[oy*wo : (oy+1)*wo]
		iy := 2*oy + ky - p
		if iy < 0 || iy >= h {
			clear(out)
			continue
		}
		src := plane[iy*w : (iy+1)*w]
		clear(out[:lo])
		clear(out[hi:])
		for ox := lo; ox < hi; ox++ {
			out[ox] = src[2*ox+off]
		}
	}
}
