#include "textflag.h"

// func im2colStride2AVX512(dst, plane *float32, h, w, ho, wo, iy0 int, idx *int32, lo, hi, valid, store int)
TEXT ·im2colStride2AVX512(SB), NOSPLIT, $0-96
	MOVQ      dst+0(FP), DI
	MOVQ      plane+8(FP), SI
	MOVQ      h+16(FP), DX
	MOVQ      w+24(FP), R9
	SHLQ      $2, R9
	MOVQ      ho+32(FP), CX
	MOVQ      wo+40(FP), R10
	SHLQ      $2, R10
	MOVQ      iy0+48(FP), R8
	MOVQ      idx+56(FP), AX
	VMOVDQU32 (AX), Z3
	MOVQ      lo+64(FP), AX
	KMOVW     AX, K1
	MOVQ      hi+72(FP), AX
	KMOVW     AX, K2
	MOVQ      valid+80(FP), AX
	KMOVW     AX, K3
	MOVQ      store+88(FP), AX
	KMOVW     AX, K4
	VXORPS    Z4, Z4, Z4

row:
	// Source row iy = R8: inside the plane, gather its columns; above or
	// below it, the output row is zeros.
	CMPQ      R8, $0
	JLT       zero
	CMPQ      R8, DX
	JGE       zero
	MOVQ      R8, AX
	IMULQ     R9, AX
	ADDQ      SI, AX
	VMOVUPS.Z (AX), K1, Z0
	VMOVUPS.Z 64(AX), K2, Z1
	VPERMT2PS.Z Z1, Z3, K3, Z0
	VMOVUPS   Z0, K4, (DI)
	JMP       next

zero:
	VMOVUPS Z4, K4, (DI)

next:
	ADDQ R10, DI
	ADDQ $2, R8
	DECQ CX
	JNZ  row
	VZEROUPPER
	RET
