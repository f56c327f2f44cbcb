#include "textflag.h"

// The Winograd F(2x2, 3x3) tile transforms of winograd.go, a row of tiles
// per 16-lane vector: lane x holds tile column x. Masks keep loads and
// stores inside the plane and the tile row.

// Load one row of the padded plane at AX (two vectors, masks K1 and K2) and
// pick its columns 2x, 2x+1, 2x+2 and 2x+3 for every tile x.
#define LOADROW(c0, c1, c2, c3) \
	VMOVUPS.Z (AX), K1, Z28; \
	VMOVUPS.Z 64(AX), K2, Z29; \
	VMOVAPS   Z28, c0; \
	VPERMT2PS Z29, Z24, c0; \
	VMOVAPS   Z28, c1; \
	VPERMT2PS Z29, Z25, c1; \
	VMOVAPS   Z28, c2; \
	VPERMT2PS Z29, Z26, c2; \
	VMOVAPS   Z28, c3; \
	VPERMT2PS Z29, Z27, c3

// B^T's rows for column s: t0 = r0-r2, t1 = r1+r2, t2 = r2-r1, t3 = r1-r3,
// with r0..r3 in r0..r3 (t0 over r0, t1 over r1, t2 into t2, t3 over r3).
#define VERTICAL(r0, r1, r2, r3, t2) \
	VSUBPS r1, r2, t2; \
	VSUBPS r2, r0, r0; \
	VSUBPS r3, r1, r3; \
	VADDPS r2, r1, r1

// Store 4 rows of tiles (lanes K3) at BX, BX+stride, ... (R8 = stride in
// bytes), advancing BX past them: 4 consecutive entries xi of the output.
#define STORE4(a, b, c, d) \
	VMOVUPS a, K3, (BX); \
	ADDQ    R8, BX; \
	VMOVUPS b, K3, (BX); \
	ADDQ    R8, BX; \
	VMOVUPS c, K3, (BX); \
	ADDQ    R8, BX; \
	VMOVUPS d, K3, (BX); \
	ADDQ    R8, BX

// Multiply one row (a, b, c, d) of B^T d by B and store the 4 results.
#define HORIZONTAL(a, b, c, d) \
	VSUBPS c, a, Z20; \
	VADDPS c, b, Z21; \
	VSUBPS b, c, Z22; \
	VSUBPS d, b, Z23; \
	STORE4(Z20, Z21, Z22, Z23)

// func winogradInputAVX512(dst *float32, stride int, pad *float32, pw, ty, tx int, idx *int32, lo, hi, store int)
TEXT ·winogradInputAVX512(SB), NOSPLIT, $0-80
	MOVQ      dst+0(FP), DI
	MOVQ      stride+8(FP), R8
	SHLQ      $2, R8
	MOVQ      pad+16(FP), SI
	MOVQ      pw+24(FP), R9
	SHLQ      $2, R9
	MOVQ      ty+32(FP), CX
	MOVQ      tx+40(FP), R10
	SHLQ      $2, R10
	MOVQ      idx+48(FP), AX
	VMOVDQU32 (AX), Z24
	VMOVDQU32 64(AX), Z25
	VMOVDQU32 128(AX), Z26
	VMOVDQU32 192(AX), Z27
	MOVQ      lo+56(FP), BX
	KMOVW     BX, K1
	MOVQ      hi+64(FP), BX
	KMOVW     BX, K2
	MOVQ      store+72(FP), BX
	KMOVW     BX, K3

inrow:
	MOVQ SI, AX
	LOADROW(Z0, Z1, Z2, Z3)
	ADDQ R9, AX
	LOADROW(Z4, Z5, Z6, Z7)
	ADDQ R9, AX
	LOADROW(Z8, Z9, Z10, Z11)
	ADDQ R9, AX
	LOADROW(Z12, Z13, Z14, Z15)
	VERTICAL(Z0, Z4, Z8, Z12, Z16)
	VERTICAL(Z1, Z5, Z9, Z13, Z17)
	VERTICAL(Z2, Z6, Z10, Z14, Z18)
	VERTICAL(Z3, Z7, Z11, Z15, Z19)
	MOVQ DI, BX
	HORIZONTAL(Z0, Z1, Z2, Z3)
	HORIZONTAL(Z4, Z5, Z6, Z7)
	HORIZONTAL(Z16, Z17, Z18, Z19)
	HORIZONTAL(Z12, Z13, Z14, Z15)
	ADDQ R10, DI
	LEAQ (SI)(R9*2), SI
	DECQ CX
	JNZ  inrow
	VZEROUPPER
	RET

#define LOADM(z) \
	VMOVUPS.Z (AX), K1, z; \
	ADDQ      R8, AX

// a_s = (m[s]+m[4+s])+m[8+s] into a, b_s = (m[4+s]-m[8+s])-m[12+s] into b.
#define ATM(m0, m4, m8, m12, a, b) \
	VADDPS m4, m0, a; \
	VADDPS m8, a, a; \
	VSUBPS m8, m4, b; \
	VSUBPS m12, b, b

// Row of output pixels from p0..p3 (A^T M's row): even columns
// ((p0+p1)+p2)+bias, odd columns ((p1-p2)-p3)+bias, interleaved and stored
// at addr (masks K2 and K3 for the two halves).
#define OUTROW(p0, p1, p2, p3, addr, addr64) \
	VADDPS    p1, p0, Z26; \
	VADDPS    p2, Z26, Z26; \
	VADDPS    Z31, Z26, Z26; \
	VSUBPS    p2, p1, Z27; \
	VSUBPS    p3, Z27, Z27; \
	VADDPS    Z31, Z27, Z27; \
	VMOVAPS   Z26, Z28; \
	VPERMT2PS Z27, Z24, Z28; \
	VMOVUPS   Z28, K2, addr; \
	VMOVAPS   Z26, Z29; \
	VPERMT2PS Z27, Z25, Z29; \
	VMOVUPS   Z29, K3, addr64

// func winogradOutputAVX512(plane, m *float32, w, h, stride, ty, tx int, idx *int32, in, lo, hi int, bias float32)
TEXT ·winogradOutputAVX512(SB), NOSPLIT, $0-92
	MOVQ         plane+0(FP), DI
	MOVQ         m+8(FP), SI
	MOVQ         w+16(FP), R9
	SHLQ         $2, R9
	MOVQ         h+24(FP), DX
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	MOVQ         ty+40(FP), CX
	MOVQ         tx+48(FP), R10
	SHLQ         $2, R10
	MOVQ         idx+56(FP), AX
	VMOVDQU32    256(AX), Z24
	VMOVDQU32    320(AX), Z25
	MOVQ      in+64(FP), BX
	KMOVW     BX, K1
	MOVQ      lo+72(FP), BX
	KMOVW     BX, K2
	MOVQ      hi+80(FP), BX
	KMOVW     BX, K3
	VBROADCASTSS bias+88(FP), Z31

outrow:
	MOVQ SI, AX
	LOADM(Z0)
	LOADM(Z1)
	LOADM(Z2)
	LOADM(Z3)
	LOADM(Z4)
	LOADM(Z5)
	LOADM(Z6)
	LOADM(Z7)
	LOADM(Z8)
	LOADM(Z9)
	LOADM(Z10)
	LOADM(Z11)
	LOADM(Z12)
	LOADM(Z13)
	LOADM(Z14)
	LOADM(Z15)
	ATM(Z0, Z4, Z8, Z12, Z16, Z20)
	ATM(Z1, Z5, Z9, Z13, Z17, Z21)
	ATM(Z2, Z6, Z10, Z14, Z18, Z22)
	ATM(Z3, Z7, Z11, Z15, Z19, Z23)
	OUTROW(Z16, Z17, Z18, Z19, (DI), 64(DI))

	// The tile row's second pixel row, unless the plane ends first.
	CMPQ DX, $1
	JLE  skip
	OUTROW(Z20, Z21, Z22, Z23, (DI)(R9*1), 64(DI)(R9*1))

skip:
	ADDQ R10, SI
	LEAQ (DI)(R9*2), DI
	SUBQ $2, DX
	DECQ CX
	JNZ  outrow
	VZEROUPPER
	RET

// Store u, u+v, u-v and -v (Z31 holds the sign bit) with STORE4.
#define GRADROW(u, v) \
	VADDPS v, u, Z20; \
	VSUBPS v, u, Z21; \
	VXORPS Z31, v, Z22; \
	STORE4(u, Z20, Z21, Z22)

// func winogradOutputGradAVX512(m *float32, stride int, dy *float32, w, h, tx int, idx *int32, lo, hi, store int)
TEXT ·winogradOutputGradAVX512(SB), NOSPLIT, $0-80
	MOVQ         m+0(FP), DI
	MOVQ         stride+8(FP), R8
	SHLQ         $2, R8
	MOVQ         dy+16(FP), SI
	MOVQ         w+24(FP), R9
	SHLQ         $2, R9
	MOVQ         h+32(FP), DX
	MOVQ         tx+40(FP), R10
	SHLQ         $2, R10
	MOVQ         idx+48(FP), AX
	VMOVDQU32    (AX), Z24
	VMOVDQU32    64(AX), Z25
	MOVQ         lo+56(FP), BX
	KMOVW        BX, K1
	MOVQ         hi+64(FP), BX
	KMOVW        BX, K2
	MOVQ         store+72(FP), BX
	KMOVW        BX, K3
	MOVL         $0x80000000, BX
	VPBROADCASTD BX, Z31

gradrow:
	// p, q: even and odd columns of row 2y; r, s: of row 2y+1, or zeros
	// past the plane's last row.
	VMOVUPS.Z (SI), K1, Z28
	VMOVUPS.Z 64(SI), K2, Z29
	VMOVAPS   Z28, Z0
	VPERMT2PS Z29, Z24, Z0
	VMOVAPS   Z28, Z1
	VPERMT2PS Z29, Z25, Z1
	VXORPS    Z2, Z2, Z2
	VXORPS    Z3, Z3, Z3
	CMPQ      DX, $1
	JLE       rows
	VMOVUPS.Z (SI)(R9*1), K1, Z28
	VMOVUPS.Z 64(SI)(R9*1), K2, Z29
	VMOVAPS   Z28, Z2
	VPERMT2PS Z29, Z24, Z2
	VMOVAPS   Z28, Z3
	VPERMT2PS Z29, Z25, Z3

rows:
	// A dy: rows (p, q), (p+r, q+s), (p-r, q-s), (-r, -s).
	VADDPS Z2, Z0, Z4
	VADDPS Z3, Z1, Z5
	VSUBPS Z2, Z0, Z6
	VSUBPS Z3, Z1, Z7
	VXORPS Z31, Z2, Z8
	VXORPS Z31, Z3, Z9
	MOVQ   DI, BX
	GRADROW(Z0, Z1)
	GRADROW(Z4, Z5)
	GRADROW(Z6, Z7)
	GRADROW(Z8, Z9)
	ADDQ   R10, DI
	LEAQ   (SI)(R9*2), SI
	SUBQ   $2, DX
	JGT    gradrow
	VZEROUPPER
	RET

// The same transforms on 8-lane AVX2 vectors, for planes of any width: a
// tile row is cut into chunks of 8 tiles (lane x holds tile x0+x), taken
// right to left: the rightmost at x0 = max(0, tx-8), then x0 = tx-16, ...,
// and the last at x0 = 0, overlapping its neighbour where tx is not a
// multiple of 8. Every chunk but the rightmost lies inside the row; the
// rightmost loads with lane masks (VMASKMOVPS, zeros in the other lanes).
// Stores are whole vectors: lanes past a row land on values a later chunk
// or tile row writes (a row's first pixels, or the next tile row's
// entries), except in the last tile rows, whose rightmost chunk stores with
// masks: ends counts them (twice, in plane rows, for the transforms whose
// loop counts plane rows). AVX masked stores are slow on AMD; masked loads
// are not.

// Columns 2x+s and 2x+s+1 of the 8 tiles of a row: the 16 floats at
// off(base), the even ones into e and the odd into o; t is scratch. PAIR
// loads quarters 0 and 2, then 1 and 3 into one vector each, so one VSHUFPS
// picks each result in order.
#define PAIR(off, base, e, o, t) \
	VMOVUPS     off(base), t; \
	VINSERTF128 $1, off+32(base), t, t; \
	VMOVUPS     off+16(base), o; \
	VINSERTF128 $1, off+48(base), o, o; \
	VSHUFPS     $0x88, o, t, e; \
	VSHUFPS     $0xDD, o, t, o

// PAIR with the lane masks Y13 (floats 0-7) and Y14 (8-15).
#define PAIRM(off, base, e, o, t) \
	VMASKMOVPS off(base), Y13, e; \
	VMASKMOVPS off+32(base), Y14, o; \
	VPERM2F128 $0x20, o, e, t; \
	VPERM2F128 $0x31, o, e, o; \
	VSHUFPS    $0x88, o, t, e; \
	VSHUFPS    $0xDD, o, t, o

// Store 8 tiles' entry at BX and step BX to the next entry (R8 = stride in
// bytes): whole, or the lanes of the mask Y15.
#define ST(r) \
	VMOVUPS r, (BX); \
	ADDQ    R8, BX

#define STM(r) \
	VMASKMOVPS r, Y15, (BX); \
	ADDQ       R8, BX

// Columns 0-3 of the chunk's tiles in one padded row at base.
#define INROW(LP, base, c0, c1, c2, c3) \
	LP(0, base, c0, c1, Y12); \
	LP(8, base, c2, c3, Y12)

// One row (a, b, c, d) of B^T d times B, stored with S.
#define INHORIZ(S, a, b, c, d) \
	VSUBPS c, a, Y12; \
	S(Y12); \
	VADDPS c, b, Y12; \
	S(Y12); \
	VSUBPS b, c, Y12; \
	S(Y12); \
	VSUBPS d, b, Y12; \
	S(Y12)

// The chunk at tile DX: padded rows 1 and 2 into Y0-Y3 and Y4-Y7, then
// the rows of B^T d (r0-r2, r1+r2, r2-r1, r1-r3) one at a time into Y8-Y11
// (r2-r1 over Y4-Y7), each times B and stored.
#define INCHUNK(LP, S) \
	LEAQ    (SI)(DX*8), AX; \
	LEAQ    (DI)(DX*4), BX; \
	LEAQ    (AX)(R9*1), R13; \
	INROW(LP, R13, Y0, Y1, Y2, Y3); \
	ADDQ    R9, R13; \
	INROW(LP, R13, Y4, Y5, Y6, Y7); \
	INROW(LP, AX, Y8, Y9, Y10, Y11); \
	VSUBPS  Y4, Y8, Y8; \
	VSUBPS  Y5, Y9, Y9; \
	VSUBPS  Y6, Y10, Y10; \
	VSUBPS  Y7, Y11, Y11; \
	INHORIZ(S, Y8, Y9, Y10, Y11); \
	VADDPS  Y4, Y0, Y8; \
	VADDPS  Y5, Y1, Y9; \
	VADDPS  Y6, Y2, Y10; \
	VADDPS  Y7, Y3, Y11; \
	INHORIZ(S, Y8, Y9, Y10, Y11); \
	VSUBPS  Y0, Y4, Y4; \
	VSUBPS  Y1, Y5, Y5; \
	VSUBPS  Y2, Y6, Y6; \
	VSUBPS  Y3, Y7, Y7; \
	INHORIZ(S, Y4, Y5, Y6, Y7); \
	ADDQ    R9, R13; \
	INROW(LP, R13, Y8, Y9, Y10, Y11); \
	VSUBPS  Y8, Y0, Y8; \
	VSUBPS  Y9, Y1, Y9; \
	VSUBPS  Y10, Y2, Y10; \
	VSUBPS  Y11, Y3, Y11; \
	INHORIZ(S, Y8, Y9, Y10, Y11)

// R11 = max(0, R10-8): the rightmost chunk's first tile (AX is scratch).
#define RIGHTMOST \
	MOVQ    R10, R11; \
	SUBQ    $8, R11; \
	XORQ    AX, AX; \
	CMPQ    R11, $0; \
	CMOVQLT AX, R11

// func winogradInputAVX2(dst *float32, stride int, pad *float32, pw, ty, tx, ends int, win, tiles *int32)
TEXT ·winogradInputAVX2(SB), NOSPLIT, $0-72
	MOVQ    dst+0(FP), DI
	MOVQ    stride+8(FP), R8
	SHLQ    $2, R8
	MOVQ    pad+16(FP), SI
	MOVQ    pw+24(FP), R9
	SHLQ    $2, R9
	MOVQ    ty+32(FP), CX
	MOVQ    tx+40(FP), R10
	RIGHTMOST
	SHLQ    $2, R10
	MOVQ    ends+48(FP), R12
	MOVQ    win+56(FP), AX
	VMOVUPS (AX), Y13
	VMOVUPS 32(AX), Y14
	MOVQ    tiles+64(FP), AX
	VMOVUPS (AX), Y15

yinrow:
	MOVQ R11, DX
	CMPQ CX, R12
	JLE  yinend
	INCHUNK(PAIRM, ST)
	JMP  yinleft

yinend:
	INCHUNK(PAIRM, STM)

yinleft:
	TESTQ DX, DX
	JZ    yinnext
	SUBQ  $8, DX
	JGE   yinchunk
	XORQ  DX, DX

yinchunk:
	INCHUNK(PAIR, ST)
	JMP yinleft

yinnext:
	ADDQ R10, DI
	LEAQ (SI)(R9*2), SI
	DECQ CX
	JNZ  yinrow
	VZEROUPPER
	RET

// a = (m[s]+m[4+s])+m[8+s], b = (m[4+s]-m[8+s])-m[12+s] for the 8 tiles at
// AX (m[xi] at AX + xi*R8; R13 = 3*R8), stepping AX to s+1.
#define YATM(a, b) \
	VMOVUPS (AX), a; \
	VADDPS  (AX)(R8*4), a, a; \
	VMOVUPS (AX)(R8*4), b; \
	VADDPS  (AX)(R8*8), a, a; \
	VSUBPS  (AX)(R8*8), b, b; \
	VSUBPS  (AX)(R13*4), b, b; \
	ADDQ    R8, AX

// YATM loading the lanes of the mask Y10.
#define YATMM(a, b) \
	VMASKMOVPS (AX), Y10, a; \
	VMASKMOVPS (AX)(R8*4), Y10, b; \
	VADDPS     b, a, a; \
	VMASKMOVPS (AX)(R8*8), Y10, Y8; \
	VADDPS     Y8, a, a; \
	VSUBPS     Y8, b, b; \
	VMASKMOVPS (AX)(R13*4), Y10, Y8; \
	VSUBPS     Y8, b, b; \
	ADDQ       R8, AX

// A^T M of the chunk at tile DX: rows a into Y0-Y3, b into Y4-Y7.
#define OUTATM(L) \
	LEAQ (SI)(DX*4), AX; \
	L(Y0, Y4); \
	L(Y1, Y5); \
	L(Y2, Y6); \
	L(Y3, Y7)

// A row of 16 output pixels from p0..p3 (a row of A^T M) into p0 (pixels
// 0-7) and p1 (8-15): even ones ((p0+p1)+p2)+bias, odd ones
// ((p1-p2)-p3)+bias, bias in Y9.
#define YOUTROW(p0, p1, p2, p3) \
	VADDPS     p1, p0, p0; \
	VADDPS     p2, p0, p0; \
	VADDPS     Y9, p0, p0; \
	VSUBPS     p2, p1, p1; \
	VSUBPS     p3, p1, p1; \
	VADDPS     Y9, p1, p1; \
	VUNPCKLPS  p1, p0, p2; \
	VUNPCKHPS  p1, p0, p3; \
	VPERM2F128 $0x20, p3, p2, p0; \
	VPERM2F128 $0x31, p3, p2, p1

// func winogradOutputAVX2(plane, m *float32, w, h, stride, tx, ends int, tiles, pix *int32, bias float32)
TEXT ·winogradOutputAVX2(SB), NOSPLIT, $0-76
	MOVQ         plane+0(FP), DI
	MOVQ         m+8(FP), SI
	MOVQ         w+16(FP), R9
	SHLQ         $2, R9
	MOVQ         h+24(FP), CX
	MOVQ         stride+32(FP), R8
	SHLQ         $2, R8
	LEAQ         (R8)(R8*2), R13
	MOVQ         tx+40(FP), R10
	RIGHTMOST
	SHLQ         $2, R10
	MOVQ         ends+48(FP), R12
	MOVQ         tiles+56(FP), AX
	VMOVUPS      (AX), Y10
	MOVQ         pix+64(FP), AX
	VMOVUPS      (AX), Y11
	VMOVUPS      32(AX), Y12
	VBROADCASTSS bias+72(FP), Y9

youtrow:
	// The rightmost chunk; its second pixel row unless the plane ends
	// first.
	MOVQ R11, DX
	OUTATM(YATMM)
	LEAQ (DI)(DX*8), AX
	YOUTROW(Y0, Y1, Y2, Y3)
	CMPQ CX, R12
	JLE  youtend
	VMOVUPS Y0, (AX)
	VMOVUPS Y1, 32(AX)
	CMPQ    CX, $1
	JLE     youtleft
	YOUTROW(Y4, Y5, Y6, Y7)
	VMOVUPS Y4, (AX)(R9*1)
	VMOVUPS Y5, 32(AX)(R9*1)
	JMP     youtleft

youtend:
	VMASKMOVPS Y0, Y11, (AX)
	VMASKMOVPS Y1, Y12, 32(AX)
	CMPQ       CX, $1
	JLE        youtleft
	YOUTROW(Y4, Y5, Y6, Y7)
	VMASKMOVPS Y4, Y11, (AX)(R9*1)
	VMASKMOVPS Y5, Y12, 32(AX)(R9*1)

youtleft:
	TESTQ DX, DX
	JZ    youtnext
	SUBQ  $8, DX
	JGE   youtchunk
	XORQ  DX, DX

youtchunk:
	OUTATM(YATM)
	LEAQ    (DI)(DX*8), AX
	YOUTROW(Y0, Y1, Y2, Y3)
	VMOVUPS Y0, (AX)
	VMOVUPS Y1, 32(AX)
	CMPQ    CX, $1
	JLE     youtleft
	YOUTROW(Y4, Y5, Y6, Y7)
	VMOVUPS Y4, (AX)(R9*1)
	VMOVUPS Y5, 32(AX)(R9*1)
	JMP     youtleft

youtnext:
	ADDQ R10, SI
	LEAQ (DI)(R9*2), DI
	SUBQ $2, CX
	JGT  youtrow
	VZEROUPPER
	RET

// dM of the chunk from p, q (Y0, Y1: even and odd pixels of row 2y) and
// r, s (Y2, Y3: of row 2y+1): A dy's rows (p, q), (p+r, q+s), (p-r, q-s),
// (-r, -s) (Y11 holds the sign bit), each (u, v) stored as u, u+v, u-v,
// -v with S.
#define YGRADROW(S, u, v) \
	S(u); \
	VADDPS v, u, Y10; \
	S(Y10); \
	VSUBPS v, u, Y10; \
	S(Y10); \
	VXORPS Y11, v, Y10; \
	S(Y10)

#define YGRADCHUNK(S) \
	VADDPS Y2, Y0, Y4; \
	VADDPS Y3, Y1, Y5; \
	VSUBPS Y2, Y0, Y6; \
	VSUBPS Y3, Y1, Y7; \
	VXORPS Y11, Y2, Y8; \
	VXORPS Y11, Y3, Y9; \
	YGRADROW(S, Y0, Y1); \
	YGRADROW(S, Y4, Y5); \
	YGRADROW(S, Y6, Y7); \
	YGRADROW(S, Y8, Y9)

// func winogradOutputGradAVX2(m *float32, stride int, dy *float32, w, h, tx, ends int, tiles, pix *int32)
TEXT ·winogradOutputGradAVX2(SB), NOSPLIT, $0-72
	MOVQ         m+0(FP), DI
	MOVQ         stride+8(FP), R8
	SHLQ         $2, R8
	MOVQ         dy+16(FP), SI
	MOVQ         w+24(FP), R9
	SHLQ         $2, R9
	MOVQ         h+32(FP), CX
	MOVQ         tx+40(FP), R10
	RIGHTMOST
	SHLQ         $2, R10
	MOVQ         ends+48(FP), R12
	MOVQ         tiles+56(FP), AX
	VMOVUPS      (AX), Y15
	MOVQ         pix+64(FP), AX
	VMOVUPS      (AX), Y13
	VMOVUPS      32(AX), Y14
	VPCMPEQD     Y11, Y11, Y11
	VPSLLD       $31, Y11, Y11

ygradrow:
	// The rightmost chunk; rows past the plane's last are zeros.
	MOVQ   R11, DX
	LEAQ   (SI)(DX*8), AX
	LEAQ   (DI)(DX*4), BX
	PAIRM(0, AX, Y0, Y1, Y12)
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $1
	JLE    ygradright
	ADDQ   R9, AX
	PAIRM(0, AX, Y2, Y3, Y12)

ygradright:
	CMPQ CX, R12
	JLE  ygradend
	YGRADCHUNK(ST)
	JMP  ygradleft

ygradend:
	YGRADCHUNK(STM)

ygradleft:
	TESTQ DX, DX
	JZ    ygradnext
	SUBQ  $8, DX
	JGE   ygradchunk
	XORQ  DX, DX

ygradchunk:
	LEAQ   (SI)(DX*8), AX
	LEAQ   (DI)(DX*4), BX
	PAIR(0, AX, Y0, Y1, Y12)
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	CMPQ   CX, $1
	JLE    ygradplain
	ADDQ   R9, AX
	PAIR(0, AX, Y2, Y3, Y12)

ygradplain:
	YGRADCHUNK(ST)
	JMP ygradleft

ygradnext:
	ADDQ R10, DI
	LEAQ (SI)(R9*2), SI
	SUBQ $2, CX
	JGT  ygradrow
	VZEROUPPER
	RET
