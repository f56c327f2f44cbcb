#include "textflag.h"

DATA leakyone<>+0(SB)/4, $1.0
GLOBL leakyone<>(SB), RODATA|NOPTR, $4

// func leakyAVX2(x, in, out *float32, n int, slope float32)
// Per lane: f = x > 0 ? 1 : slope (an ordered compare: false for 0, -0
// and NaN), out = in * f, as leakyGo.
TEXT ·leakyAVX2(SB), NOSPLIT, $0-36
	MOVQ         x+0(FP), SI
	MOVQ         in+8(FP), DI
	MOVQ         out+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS slope+32(FP), Y1
	VBROADCASTSS leakyone<>(SB), Y2
	VXORPS       Y3, Y3, Y3
	XORQ         AX, AX

loop:
	CMPQ      AX, CX
	JGE       done
	VMOVUPS   (SI)(AX*4), Y0
	VCMPPS    $0x1e, Y3, Y0, Y4 // x > 0 (GT_OQ)
	VBLENDVPS Y4, Y2, Y1, Y5    // 1 where x > 0, slope elsewhere
	VMULPS    (DI)(AX*4), Y5, Y5
	VMOVUPS   Y5, (DX)(AX*4)
	ADDQ      $8, AX
	JMP       loop

done:
	VZEROUPPER
	RET

// func leakyAVX512(x, in, out *float32, n int, slope float32)
TEXT ·leakyAVX512(SB), NOSPLIT, $0-36
	MOVQ         x+0(FP), SI
	MOVQ         in+8(FP), DI
	MOVQ         out+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS slope+32(FP), Z1
	VBROADCASTSS leakyone<>(SB), Z2
	VXORPS       Z3, Z3, Z3
	XORQ         AX, AX

loop:
	CMPQ      AX, CX
	JGE       done
	VMOVUPS   (SI)(AX*4), Z0
	VCMPPS    $0x1e, Z3, Z0, K1 // x > 0 (GT_OQ)
	VBLENDMPS Z2, Z1, K1, Z5    // 1 where x > 0, slope elsewhere
	VMULPS    (DI)(AX*4), Z5, Z5
	VMOVUPS   Z5, (DX)(AX*4)
	ADDQ      $16, AX
	JMP       loop

done:
	VZEROUPPER
	RET

// func affineReLUAVX2(x, y *float32, n int, a, b float32)
// Per lane: v = x*a + b, then v &^ (v >> 31 arithmetic): +0 where the sign
// bit is set, as affineReLUGo.
TEXT ·affineReLUAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y1
	VBROADCASTSS b+28(FP), Y2
	XORQ         AX, AX

arloop:
	VMULPS  (SI)(AX*4), Y1, Y0
	VADDPS  Y2, Y0, Y0
	VPSRAD  $31, Y0, Y3
	VPANDN  Y0, Y3, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     arloop
	VZEROUPPER
	RET

// func affineReLUAVX512(x, y *float32, n int, a, b float32)
TEXT ·affineReLUAVX512(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         y+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Z1
	VBROADCASTSS b+28(FP), Z2
	XORQ         AX, AX

zarloop:
	VMULPS  (SI)(AX*4), Z1, Z0
	VADDPS  Z2, Z0, Z0
	VPSRAD  $31, Z0, Z3
	VPANDND Z0, Z3, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLT     zarloop
	VZEROUPPER
	RET

// func reluGradAVX2(y, dy, dx *float32, n int, s float32)
// Per lane: dx = (dy*s) & ((0 - y) >> 31 arithmetic), as reluGradGo.
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-36
	MOVQ         y+0(FP), SI
	MOVQ         dy+8(FP), DI
	MOVQ         dx+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS s+32(FP), Y1
	VPXOR        Y4, Y4, Y4
	XORQ         AX, AX

rgloop:
	VMOVUPS (SI)(AX*4), Y0
	VPSUBD  Y0, Y4, Y3
	VPSRAD  $31, Y3, Y3
	VMULPS  (DI)(AX*4), Y1, Y5
	VPAND   Y3, Y5, Y5
	VMOVUPS Y5, (DX)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     rgloop
	VZEROUPPER
	RET

// func reluGradAVX512(y, dy, dx *float32, n int, s float32)
TEXT ·reluGradAVX512(SB), NOSPLIT, $0-36
	MOVQ         y+0(FP), SI
	MOVQ         dy+8(FP), DI
	MOVQ         dx+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS s+32(FP), Z1
	VPXORD       Z4, Z4, Z4
	XORQ         AX, AX

zrgloop:
	VMOVUPS (SI)(AX*4), Z0
	VPSUBD  Z0, Z4, Z3
	VPSRAD  $31, Z3, Z3
	VMULPS  (DI)(AX*4), Z1, Z5
	VPANDD  Z3, Z5, Z5
	VMOVUPS Z5, (DX)(AX*4)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLT     zrgloop
	VZEROUPPER
	RET
