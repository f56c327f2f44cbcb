#include "textflag.h"

// Exp's constants, each broadcast from one float32.
DATA expconst<>+0(SB)/4, $88.0
DATA expconst<>+4(SB)/4, $-87.0
DATA expconst<>+8(SB)/4, $1.44269504088896341
DATA expconst<>+12(SB)/4, $12582912.0
DATA expconst<>+16(SB)/4, $0.693359375
DATA expconst<>+20(SB)/4, $-2.12194440e-4
DATA expconst<>+24(SB)/4, $1.9875691500e-4
DATA expconst<>+28(SB)/4, $1.3981999507e-3
DATA expconst<>+32(SB)/4, $8.3334519073e-3
DATA expconst<>+36(SB)/4, $4.1665795894e-2
DATA expconst<>+40(SB)/4, $1.6666665459e-1
DATA expconst<>+44(SB)/4, $5.0000001201e-1
DATA expconst<>+48(SB)/4, $1.0
DATA expconst<>+52(SB)/4, $-0.0
GLOBL expconst<>(SB), RODATA|NOPTR, $56

// func siluAVX2(x, s, y *float32, n int)
// Per lane, the operations of siluGo and Exp in order:
//   u = max(min(-x, 88), -87); k = (u*log2e + R) - R
//   r = (u - k*ln2Hi) - k*ln2Lo; p = ((((c0 r + c1) r + c2) r + c3) r + c4) r + c5
//   e = ((p r) r + r) + 1, scaled by 2^k; s = 1/(1+e); y = x*s
TEXT ·siluAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS expconst<>+0(SB), Y8   // hi
	VBROADCASTSS expconst<>+4(SB), Y9   // lo
	VBROADCASTSS expconst<>+8(SB), Y10  // log2e
	VBROADCASTSS expconst<>+12(SB), Y11 // round magic
	VBROADCASTSS expconst<>+16(SB), Y12 // ln2Hi
	VBROADCASTSS expconst<>+20(SB), Y13 // ln2Lo
	VBROADCASTSS expconst<>+48(SB), Y14 // 1
	VBROADCASTSS expconst<>+52(SB), Y15 // sign bit
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE done
	VMOVUPS (SI)(AX*4), Y0              // x
	VXORPS Y15, Y0, Y1                  // u = -x
	VMINPS Y8, Y1, Y1                   // min(u, 88)
	VMAXPS Y9, Y1, Y1                   // max(., -87)
	VMULPS Y10, Y1, Y2                  // u*log2e
	VADDPS Y11, Y2, Y2                  // + R
	VSUBPS Y11, Y2, Y2                  // - R: k
	VMULPS Y12, Y2, Y3                  // k*ln2Hi
	VSUBPS Y3, Y1, Y3                   // r = u - k*ln2Hi
	VMULPS Y13, Y2, Y4                  // k*ln2Lo
	VSUBPS Y4, Y3, Y3                   // r -= k*ln2Lo
	VBROADCASTSS expconst<>+24(SB), Y4  // p = c0
	VBROADCASTSS expconst<>+28(SB), Y5
	VMULPS Y3, Y4, Y4
	VADDPS Y5, Y4, Y4                   // p*r + c1
	VBROADCASTSS expconst<>+32(SB), Y5
	VMULPS Y3, Y4, Y4
	VADDPS Y5, Y4, Y4                   // + c2
	VBROADCASTSS expconst<>+36(SB), Y5
	VMULPS Y3, Y4, Y4
	VADDPS Y5, Y4, Y4                   // + c3
	VBROADCASTSS expconst<>+40(SB), Y5
	VMULPS Y3, Y4, Y4
	VADDPS Y5, Y4, Y4                   // + c4
	VBROADCASTSS expconst<>+44(SB), Y5
	VMULPS Y3, Y4, Y4
	VADDPS Y5, Y4, Y4                   // + c5
	VMULPS Y3, Y4, Y4                   // p*r
	VMULPS Y3, Y4, Y4                   // *r
	VADDPS Y3, Y4, Y4                   // + r
	VADDPS Y14, Y4, Y4                  // + 1: e
	VCVTTPS2DQ Y2, Y2                   // int32(k)
	VPSLLD $23, Y2, Y2
	VPADDD Y2, Y4, Y4                   // e * 2^k
	VADDPS Y14, Y4, Y4                  // 1 + e
	VDIVPS Y4, Y14, Y4                  // s = 1/(1+e)
	VMOVUPS Y4, (DI)(AX*4)
	VMULPS Y4, Y0, Y0                   // y = x*s
	VMOVUPS Y0, (DX)(AX*4)
	ADDQ $8, AX
	JMP loop

done:
	VZEROUPPER
	RET

// func siluGradAVX2(x, s, dy, dx *float32, n int)
// dx = ((dy*s) * (1 + x*(1-s))), as siluGradGo.
TEXT ·siluGradAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ dy+16(FP), DX
	MOVQ dx+24(FP), R8
	MOVQ n+32(FP), CX
	VBROADCASTSS expconst<>+48(SB), Y14 // 1
	XORQ AX, AX

gloop:
	CMPQ AX, CX
	JGE gdone
	VMOVUPS (SI)(AX*4), Y0              // x
	VMOVUPS (DI)(AX*4), Y1              // s
	VMOVUPS (DX)(AX*4), Y2              // dy
	VSUBPS Y1, Y14, Y3                  // 1-s
	VMULPS Y3, Y0, Y3                   // x*(1-s)
	VADDPS Y3, Y14, Y3                  // 1 + x*(1-s)
	VMULPS Y1, Y2, Y2                   // dy*s
	VMULPS Y3, Y2, Y2
	VMOVUPS Y2, (R8)(AX*4)
	ADDQ $8, AX
	JMP gloop

gdone:
	VZEROUPPER
	RET

// The same two kernels on 16-lane vectors, for machines with AVX-512.

// func siluAVX512(x, s, y *float32, n int)
// Per lane, the operations of siluGo and Exp in order:
//   u = max(min(-x, 88), -87); k = (u*log2e + R) - R
//   r = (u - k*ln2Hi) - k*ln2Lo; p = ((((c0 r + c1) r + c2) r + c3) r + c4) r + c5
//   e = ((p r) r + r) + 1, scaled by 2^k; s = 1/(1+e); y = x*s
TEXT ·siluAVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS expconst<>+0(SB), Z8   // hi
	VBROADCASTSS expconst<>+4(SB), Z9   // lo
	VBROADCASTSS expconst<>+8(SB), Z10  // log2e
	VBROADCASTSS expconst<>+12(SB), Z11 // round magic
	VBROADCASTSS expconst<>+16(SB), Z12 // ln2Hi
	VBROADCASTSS expconst<>+20(SB), Z13 // ln2Lo
	VBROADCASTSS expconst<>+48(SB), Z14 // 1
	VBROADCASTSS expconst<>+52(SB), Z15 // sign bit
	XORQ AX, AX

zloop:
	CMPQ AX, CX
	JGE zdone
	VMOVUPS (SI)(AX*4), Z0              // x
	VXORPS Z15, Z0, Z1                  // u = -x
	VMINPS Z8, Z1, Z1                   // min(u, 88)
	VMAXPS Z9, Z1, Z1                   // max(., -87)
	VMULPS Z10, Z1, Z2                  // u*log2e
	VADDPS Z11, Z2, Z2                  // + R
	VSUBPS Z11, Z2, Z2                  // - R: k
	VMULPS Z12, Z2, Z3                  // k*ln2Hi
	VSUBPS Z3, Z1, Z3                   // r = u - k*ln2Hi
	VMULPS Z13, Z2, Z4                  // k*ln2Lo
	VSUBPS Z4, Z3, Z3                   // r -= k*ln2Lo
	VBROADCASTSS expconst<>+24(SB), Z4  // p = c0
	VBROADCASTSS expconst<>+28(SB), Z5
	VMULPS Z3, Z4, Z4
	VADDPS Z5, Z4, Z4                   // p*r + c1
	VBROADCASTSS expconst<>+32(SB), Z5
	VMULPS Z3, Z4, Z4
	VADDPS Z5, Z4, Z4                   // + c2
	VBROADCASTSS expconst<>+36(SB), Z5
	VMULPS Z3, Z4, Z4
	VADDPS Z5, Z4, Z4                   // + c3
	VBROADCASTSS expconst<>+40(SB), Z5
	VMULPS Z3, Z4, Z4
	VADDPS Z5, Z4, Z4                   // + c4
	VBROADCASTSS expconst<>+44(SB), Z5
	VMULPS Z3, Z4, Z4
	VADDPS Z5, Z4, Z4                   // + c5
	VMULPS Z3, Z4, Z4                   // p*r
	VMULPS Z3, Z4, Z4                   // *r
	VADDPS Z3, Z4, Z4                   // + r
	VADDPS Z14, Z4, Z4                  // + 1: e
	VCVTTPS2DQ Z2, Z2                   // int32(k)
	VPSLLD $23, Z2, Z2
	VPADDD Z2, Z4, Z4                   // e * 2^k
	VADDPS Z14, Z4, Z4                  // 1 + e
	VDIVPS Z4, Z14, Z4                  // s = 1/(1+e)
	VMOVUPS Z4, (DI)(AX*4)
	VMULPS Z4, Z0, Z0                   // y = x*s
	VMOVUPS Z0, (DX)(AX*4)
	ADDQ $16, AX
	JMP zloop

zdone:
	VZEROUPPER
	RET

// func siluGradAVX512(x, s, dy, dx *float32, n int)
// dx = ((dy*s) * (1 + x*(1-s))), as siluGradGo.
TEXT ·siluGradAVX512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ dy+16(FP), DX
	MOVQ dx+24(FP), R8
	MOVQ n+32(FP), CX
	VBROADCASTSS expconst<>+48(SB), Z14 // 1
	XORQ AX, AX

zgloop:
	CMPQ AX, CX
	JGE zgdone
	VMOVUPS (SI)(AX*4), Z0              // x
	VMOVUPS (DI)(AX*4), Z1              // s
	VMOVUPS (DX)(AX*4), Z2              // dy
	VSUBPS Z1, Z14, Z3                  // 1-s
	VMULPS Z3, Z0, Z3                   // x*(1-s)
	VADDPS Z3, Z14, Z3                  // 1 + x*(1-s)
	VMULPS Z1, Z2, Z2                   // dy*s
	VMULPS Z3, Z2, Z2
	VMOVUPS Z2, (R8)(AX*4)
	ADDQ $16, AX
	JMP zgloop

zgdone:
	VZEROUPPER
	RET
