#include "textflag.h"

// Reduce the float64 lanes of Z0 (elements l) and Z1 (elements l+8) in
// reduce16's order into X0: l+8, then l+4, then l+2, then lanes 0 and 1.
#define REDUCE16 \
	VADDPD         Z1, Z0, Z0; \
	VEXTRACTF64X4  $1, Z0, Y1; \
	VADDPD         Y1, Y0, Y0; \
	VEXTRACTF128   $1, Y0, X1; \
	VADDPD         X1, X0, X0; \
	VPERMILPD      $1, X0, X1; \
	VADDSD         X1, X0, X0

// func sumAVX512(x *float32, n int) (sum float64)
TEXT ·sumAVX512(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	XORQ   AX, AX

sloop:
	VCVTPS2PD (SI)(AX*4), Z4
	VCVTPS2PD 32(SI)(AX*4), Z5
	VADDPD    Z4, Z0, Z0
	VADDPD    Z5, Z1, Z1
	ADDQ      $16, AX
	CMPQ      AX, CX
	JLT       sloop

	REDUCE16
	MOVSD X0, sum+16(FP)
	VZEROUPPER
	RET

// func sumSquaresAVX512(x *float32, n int) (sum, sq float64)
TEXT ·sumSquaresAVX512(SB), NOSPLIT, $0-32
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Z0, Z0, Z0
	VXORPD Z1, Z1, Z1
	VXORPD Z2, Z2, Z2
	VXORPD Z3, Z3, Z3
	XORQ   AX, AX

ssloop:
	VCVTPS2PD (SI)(AX*4), Z4
	VCVTPS2PD 32(SI)(AX*4), Z5
	VADDPD    Z4, Z0, Z0
	VADDPD    Z5, Z1, Z1
	VMULPD    Z4, Z4, Z4
	VMULPD    Z5, Z5, Z5
	VADDPD    Z4, Z2, Z2
	VADDPD    Z5, Z3, Z3
	ADDQ      $16, AX
	CMPQ      AX, CX
	JLT       ssloop

	REDUCE16
	MOVSD   X0, sum+16(FP)
	VMOVAPD Z2, Z0
	VMOVAPD Z3, Z1
	REDUCE16
	MOVSD   X0, sq+24(FP)
	VZEROUPPER
	RET

// func sumCenteredAVX512(d, x *float32, n int, m float64) (sd, sdx float64)
TEXT ·sumCenteredAVX512(SB), NOSPLIT, $0-48
	MOVQ         d+0(FP), SI
	MOVQ         x+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSD m+24(FP), Z8
	VXORPD       Z0, Z0, Z0
	VXORPD       Z1, Z1, Z1
	VXORPD       Z2, Z2, Z2
	VXORPD       Z3, Z3, Z3
	XORQ         AX, AX

scloop:
	VCVTPS2PD (SI)(AX*4), Z4
	VCVTPS2PD 32(SI)(AX*4), Z5
	VCVTPS2PD (DI)(AX*4), Z6
	VCVTPS2PD 32(DI)(AX*4), Z7
	VADDPD    Z4, Z0, Z0
	VADDPD    Z5, Z1, Z1
	VSUBPD    Z8, Z6, Z6
	VSUBPD    Z8, Z7, Z7
	VMULPD    Z6, Z4, Z4
	VMULPD    Z7, Z5, Z5
	VADDPD    Z4, Z2, Z2
	VADDPD    Z5, Z3, Z3
	ADDQ      $16, AX
	CMPQ      AX, CX
	JLT       scloop

	REDUCE16
	MOVSD   X0, sd+32(FP)
	VMOVAPD Z2, Z0
	VMOVAPD Z3, Z1
	REDUCE16
	MOVSD   X0, sdx+40(FP)
	VZEROUPPER
	RET

// func affineAVX512(x, y *float32, n int, a, b float32)
TEXT ·affineAVX512(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Z1
	VBROADCASTSS b+28(FP), Z2
	XORQ         AX, AX

afloop:
	VMULPS  (SI)(AX*4), Z1, Z0
	VADDPS  Z2, Z0, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLT     afloop
	VZEROUPPER
	RET

// func normGradAVX512(d, x, dx *float32, n int, a, bx, m, c float32)
TEXT ·normGradAVX512(SB), NOSPLIT, $0-48
	MOVQ         d+0(FP), SI
	MOVQ         x+8(FP), DI
	MOVQ         dx+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS a+32(FP), Z4
	VBROADCASTSS bx+36(FP), Z5
	VBROADCASTSS m+40(FP), Z6
	VBROADCASTSS c+44(FP), Z7
	XORQ         AX, AX

ngloop:
	VMULPS  (SI)(AX*4), Z4, Z0
	VMOVUPS (DI)(AX*4), Z1
	VSUBPS  Z6, Z1, Z1
	VMULPS  Z5, Z1, Z1
	VADDPS  Z1, Z0, Z0
	VADDPS  Z7, Z0, Z0
	VMOVUPS Z0, (DX)(AX*4)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLT     ngloop
	VZEROUPPER
	RET

// The same kernels on 4-lane float64 (8-lane float32) AVX2 vectors: the 16
// float64 lanes are Y0 (elements l = 0-3), Y1 (4-7), Y2 (8-11) and Y3
// (12-15) for the sums, a second set Y4-Y7 for the second sums.

// Reduce the lanes of Y0-Y3 in reduce16's order into X0: l+8 (Y0+Y2,
// Y1+Y3), then l+4, then l+2, then lanes 0 and 1.
#define REDUCE16Y \
	VADDPD       Y2, Y0, Y0; \
	VADDPD       Y3, Y1, Y1; \
	VADDPD       Y1, Y0, Y0; \
	VEXTRACTF128 $1, Y0, X1; \
	VADDPD       X1, X0, X0; \
	VPERMILPD    $1, X0, X1; \
	VADDSD       X1, X0, X0

// func sumAVX2(x *float32, n int) (sum float64)
TEXT ·sumAVX2(SB), NOSPLIT, $0-24
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ   AX, AX

ysloop:
	VCVTPS2PD (SI)(AX*4), Y8
	VCVTPS2PD 16(SI)(AX*4), Y9
	VCVTPS2PD 32(SI)(AX*4), Y10
	VCVTPS2PD 48(SI)(AX*4), Y11
	VADDPD    Y8, Y0, Y0
	VADDPD    Y9, Y1, Y1
	VADDPD    Y10, Y2, Y2
	VADDPD    Y11, Y3, Y3
	ADDQ      $16, AX
	CMPQ      AX, CX
	JLT       ysloop

	REDUCE16Y
	VMOVSD X0, sum+16(FP)
	VZEROUPPER
	RET

// func sumSquaresAVX2(x *float32, n int) (sum, sq float64)
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-32
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ   AX, AX

yssloop:
	VCVTPS2PD (SI)(AX*4), Y8
	VCVTPS2PD 16(SI)(AX*4), Y9
	VCVTPS2PD 32(SI)(AX*4), Y10
	VCVTPS2PD 48(SI)(AX*4), Y11
	VADDPD    Y8, Y0, Y0
	VADDPD    Y9, Y1, Y1
	VADDPD    Y10, Y2, Y2
	VADDPD    Y11, Y3, Y3
	VMULPD    Y8, Y8, Y8
	VMULPD    Y9, Y9, Y9
	VMULPD    Y10, Y10, Y10
	VMULPD    Y11, Y11, Y11
	VADDPD    Y8, Y4, Y4
	VADDPD    Y9, Y5, Y5
	VADDPD    Y10, Y6, Y6
	VADDPD    Y11, Y7, Y7
	ADDQ      $16, AX
	CMPQ      AX, CX
	JLT       yssloop

	REDUCE16Y
	VMOVSD  X0, sum+16(FP)
	VMOVAPD Y4, Y0
	VMOVAPD Y5, Y1
	VMOVAPD Y6, Y2
	VMOVAPD Y7, Y3
	REDUCE16Y
	VMOVSD  X0, sq+24(FP)
	VZEROUPPER
	RET

// One quarter (4 elements at byte offset off) of sumCenteredAVX2's loop:
// s += d, q += d*(x-m), m in Y12.
#define CENTERED4(off, s, q, td, tx) \
	VCVTPS2PD off(SI)(AX*4), td; \
	VCVTPS2PD off(DI)(AX*4), tx; \
	VADDPD    td, s, s; \
	VSUBPD    Y12, tx, tx; \
	VMULPD    tx, td, td; \
	VADDPD    td, q, q

// func sumCenteredAVX2(d, x *float32, n int, m float64) (sd, sdx float64)
TEXT ·sumCenteredAVX2(SB), NOSPLIT, $0-48
	MOVQ         d+0(FP), SI
	MOVQ         x+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSD m+24(FP), Y12
	VXORPD       Y0, Y0, Y0
	VXORPD       Y1, Y1, Y1
	VXORPD       Y2, Y2, Y2
	VXORPD       Y3, Y3, Y3
	VXORPD       Y4, Y4, Y4
	VXORPD       Y5, Y5, Y5
	VXORPD       Y6, Y6, Y6
	VXORPD       Y7, Y7, Y7
	XORQ         AX, AX

yscloop:
	CENTERED4(0, Y0, Y4, Y8, Y9)
	CENTERED4(16, Y1, Y5, Y10, Y11)
	CENTERED4(32, Y2, Y6, Y13, Y14)
	CENTERED4(48, Y3, Y7, Y8, Y9)
	ADDQ $16, AX
	CMPQ AX, CX
	JLT  yscloop

	REDUCE16Y
	VMOVSD  X0, sd+32(FP)
	VMOVAPD Y4, Y0
	VMOVAPD Y5, Y1
	VMOVAPD Y6, Y2
	VMOVAPD Y7, Y3
	REDUCE16Y
	VMOVSD  X0, sdx+40(FP)
	VZEROUPPER
	RET

// func affineAVX2(x, y *float32, n int, a, b float32)
TEXT ·affineAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y1
	VBROADCASTSS b+28(FP), Y2
	XORQ         AX, AX

yafloop:
	VMULPS  (SI)(AX*4), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     yafloop
	VZEROUPPER
	RET

// func normGradAVX2(d, x, dx *float32, n int, a, bx, m, c float32)
TEXT ·normGradAVX2(SB), NOSPLIT, $0-48
	MOVQ         d+0(FP), SI
	MOVQ         x+8(FP), DI
	MOVQ         dx+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS a+32(FP), Y4
	VBROADCASTSS bx+36(FP), Y5
	VBROADCASTSS m+40(FP), Y6
	VBROADCASTSS c+44(FP), Y7
	XORQ         AX, AX

yngloop:
	VMULPS  (SI)(AX*4), Y4, Y0
	VMOVUPS (DI)(AX*4), Y1
	VSUBPS  Y6, Y1, Y1
	VMULPS  Y5, Y1, Y1
	VADDPS  Y1, Y0, Y0
	VADDPS  Y7, Y0, Y0
	VMOVUPS Y0, (DX)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     yngloop
	VZEROUPPER
	RET
