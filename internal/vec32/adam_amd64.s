#include "textflag.h"

// func adamAVX2(w, grad, m, v *float32, n int, b1, omb1, b2, omb2, scale, step, sqrtBC2, eps float32)
// Eight weights per iteration, each operation as in adamGo:
//   G = g*scale; M = b1*m + omb1*G; V = b2*v + (omb2*G)*G
//   w -= (step*M) / (sqrt(V)/sqrtBC2 + eps)
TEXT ·adamAVX2(SB), NOSPLIT, $0-72
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS b1+40(FP), Y8
	VBROADCASTSS omb1+44(FP), Y9
	VBROADCASTSS b2+48(FP), Y10
	VBROADCASTSS omb2+52(FP), Y11
	VBROADCASTSS scale+56(FP), Y12
	VBROADCASTSS step+60(FP), Y13
	VBROADCASTSS sqrtBC2+64(FP), Y14
	VBROADCASTSS eps+68(FP), Y15
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE done
	VMOVUPS (SI)(AX*4), Y0
	VMULPS Y12, Y0, Y0        // G = g*scale
	VMOVUPS (R8)(AX*4), Y1
	VMULPS Y8, Y1, Y1         // b1*m
	VMULPS Y9, Y0, Y2         // omb1*G
	VADDPS Y2, Y1, Y1         // M
	VMOVUPS Y1, (R8)(AX*4)
	VMOVUPS (R9)(AX*4), Y3
	VMULPS Y10, Y3, Y3        // b2*v
	VMULPS Y11, Y0, Y4        // omb2*G
	VMULPS Y0, Y4, Y4         // (omb2*G)*G
	VADDPS Y4, Y3, Y3         // V
	VMOVUPS Y3, (R9)(AX*4)
	VSQRTPS Y3, Y5
	VDIVPS Y14, Y5, Y5        // sqrt(V)/sqrtBC2
	VADDPS Y15, Y5, Y5        // + eps
	VMULPS Y13, Y1, Y6        // step*M
	VDIVPS Y5, Y6, Y6
	VMOVUPS (DI)(AX*4), Y7
	VSUBPS Y6, Y7, Y7
	VMOVUPS Y7, (DI)(AX*4)
	ADDQ $8, AX
	JMP loop

done:
	VZEROUPPER
	RET
