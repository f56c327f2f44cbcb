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
