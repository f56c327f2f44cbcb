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
