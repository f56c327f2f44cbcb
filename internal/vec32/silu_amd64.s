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

// The constants of Exp that the loop keeps in registers.
#define SILU_CONSTS(hi, lo, log2e, magic, ln2hi, ln2lo, one, sign) \
	VBROADCASTSS expconst<>+0(SB), hi; \
	VBROADCASTSS expconst<>+4(SB), lo; \
	VBROADCASTSS expconst<>+8(SB), log2e; \
	VBROADCASTSS expconst<>+12(SB), magic; \
	VBROADCASTSS expconst<>+16(SB), ln2hi; \
	VBROADCASTSS expconst<>+20(SB), ln2lo; \
	VBROADCASTSS expconst<>+48(SB), one; \
	VBROADCASTSS expconst<>+52(SB), sign

// One vector of siluGo at element AX: x from (SI), s to (DI), y to (DX).
// Per lane, the operations of siluGo and Exp in order:
//   u = max(min(-x, 88), -87); k = (u*log2e + R) - R (R the round magic)
//   r = (u - k*ln2Hi) - k*ln2Lo; p = ((((c0 r + c1) r + c2) r + c3) r + c4) r + c5
//   e = ((p r) r + r) + 1, scaled by 2^k (k added to the exponent field);
//   s = 1/(1+e); y = x*s
// x, u, k, r, p and c are scratch registers; the others hold SILU_CONSTS.
#define SILU_STEP(x, u, k, r, p, c, hi, lo, log2e, magic, ln2hi, ln2lo, one, sign) \
	VMOVUPS      (SI)(AX*4), x; \
	VXORPS       sign, x, u; \
	VMINPS       hi, u, u; \
	VMAXPS       lo, u, u; \
	VMULPS       log2e, u, k; \
	VADDPS       magic, k, k; \
	VSUBPS       magic, k, k; \
	VMULPS       ln2hi, k, r; \
	VSUBPS       r, u, r; \
	VMULPS       ln2lo, k, p; \
	VSUBPS       p, r, r; \
	VBROADCASTSS expconst<>+24(SB), p; \
	VBROADCASTSS expconst<>+28(SB), c; \
	VMULPS       r, p, p; \
	VADDPS       c, p, p; \
	VBROADCASTSS expconst<>+32(SB), c; \
	VMULPS       r, p, p; \
	VADDPS       c, p, p; \
	VBROADCASTSS expconst<>+36(SB), c; \
	VMULPS       r, p, p; \
	VADDPS       c, p, p; \
	VBROADCASTSS expconst<>+40(SB), c; \
	VMULPS       r, p, p; \
	VADDPS       c, p, p; \
	VBROADCASTSS expconst<>+44(SB), c; \
	VMULPS       r, p, p; \
	VADDPS       c, p, p; \
	VMULPS       r, p, p; \
	VMULPS       r, p, p; \
	VADDPS       r, p, p; \
	VADDPS       one, p, p; \
	VCVTTPS2DQ   k, k; \
	VPSLLD       $23, k, k; \
	VPADDD       k, p, p; \
	VADDPS       one, p, p; \
	VDIVPS       p, one, p; \
	VMOVUPS      p, (DI)(AX*4); \
	VMULPS       p, x, x; \
	VMOVUPS      x, (DX)(AX*4)

// One vector of siluGradGo at element AX: x from (SI), s from (DI), dy
// from (DX), dx = ((dy*s) * (1 + x*(1-s))) to (R8).
#define SILU_GRAD_STEP(x, s, dy, t, one) \
	VMOVUPS (SI)(AX*4), x; \
	VMOVUPS (DI)(AX*4), s; \
	VMOVUPS (DX)(AX*4), dy; \
	VSUBPS  s, one, t; \
	VMULPS  t, x, t; \
	VADDPS  t, one, t; \
	VMULPS  s, dy, dy; \
	VMULPS  t, dy, dy; \
	VMOVUPS dy, (R8)(AX*4)

// func siluAVX2(x, s, y *float32, n int)
TEXT ·siluAVX2(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SILU_CONSTS(Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15)
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	SILU_STEP(Y0, Y1, Y2, Y3, Y4, Y5, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15)
	ADDQ $8, AX
	JMP  loop

done:
	VZEROUPPER
	RET

// func siluGradAVX2(x, s, dy, dx *float32, n int)
TEXT ·siluGradAVX2(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         s+8(FP), DI
	MOVQ         dy+16(FP), DX
	MOVQ         dx+24(FP), R8
	MOVQ         n+32(FP), CX
	VBROADCASTSS expconst<>+48(SB), Y14
	XORQ         AX, AX

gloop:
	CMPQ AX, CX
	JGE  gdone
	SILU_GRAD_STEP(Y0, Y1, Y2, Y3, Y14)
	ADDQ $8, AX
	JMP  gloop

gdone:
	VZEROUPPER
	RET

// The same two kernels on 16-lane vectors, for machines with AVX-512.

// func siluAVX512(x, s, y *float32, n int)
TEXT ·siluAVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ s+8(FP), DI
	MOVQ y+16(FP), DX
	MOVQ n+24(FP), CX
	SILU_CONSTS(Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	XORQ AX, AX

zloop:
	CMPQ AX, CX
	JGE  zdone
	SILU_STEP(Z0, Z1, Z2, Z3, Z4, Z5, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15)
	ADDQ $16, AX
	JMP  zloop

zdone:
	VZEROUPPER
	RET

// func siluGradAVX512(x, s, dy, dx *float32, n int)
TEXT ·siluGradAVX512(SB), NOSPLIT, $0-40
	MOVQ         x+0(FP), SI
	MOVQ         s+8(FP), DI
	MOVQ         dy+16(FP), DX
	MOVQ         dx+24(FP), R8
	MOVQ         n+32(FP), CX
	VBROADCASTSS expconst<>+48(SB), Z14
	XORQ         AX, AX

zgloop:
	CMPQ AX, CX
	JGE  zgdone
	SILU_GRAD_STEP(Z0, Z1, Z2, Z3, Z14)
	ADDQ $16, AX
	JMP  zgloop

zgdone:
	VZEROUPPER
	RET
