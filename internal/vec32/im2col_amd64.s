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

// The AVX2 gather, for wo <= 16 and any w: SI points at column off = kx - p
// of row 0, and each source row's 32 values from there load with the lane
// masks Y8-Y11 (the columns inside the row; the others read as zeros), so
// output column ox is the window's value 2*ox: one VSHUFPS and one VPERMPD
// per 8 outputs. Rows store whole vectors (8 values for wo <= 8, else 16)
// while a later row overwrites what passes the end of this one, the last
// rows with the masks Y12 and Y13 (AVX masked stores are slow on AMD).

// func im2colStride2AVX2(dst, plane *float32, h, w, ho, wo, iy0, off int, from, first, out *int32)
TEXT ·im2colStride2AVX2(SB), NOSPLIT, $0-88
	MOVQ    dst+0(FP), DI
	MOVQ    plane+8(FP), SI
	MOVQ    h+16(FP), DX
	MOVQ    w+24(FP), R9
	SHLQ    $2, R9
	MOVQ    ho+32(FP), CX
	MOVQ    wo+40(FP), R10
	SHLQ    $2, R10
	MOVQ    iy0+48(FP), R8
	MOVQ    off+56(FP), AX
	LEAQ    (SI)(AX*4), SI
	MOVQ    from+64(FP), AX
	MOVQ    first+72(FP), BX
	VMOVUPS (AX), Y8
	VANDPS  (BX), Y8, Y8
	VMOVUPS 32(AX), Y9
	VANDPS  32(BX), Y9, Y9
	VMOVUPS 64(AX), Y10
	VANDPS  64(BX), Y10, Y10
	VMOVUPS 96(AX), Y11
	VANDPS  96(BX), Y11, Y11
	MOVQ    out+80(FP), AX
	VMOVUPS (AX), Y12
	VMOVUPS 32(AX), Y13

	// R11: bytes of dst from this row's start to its end.
	MOVQ  CX, R11
	IMULQ R10, R11
	CMPQ  R10, $32
	JGT   ywide

ynarrow:
	// Source row iy = R8: inside the plane, gather its columns; above or
	// below it, the output row is zeros.
	VXORPS Y0, Y0, Y0
	CMPQ   R8, $0
	JLT    ynstore
	CMPQ   R8, DX
	JGE    ynstore
	MOVQ   R8, AX
	IMULQ  R9, AX
	ADDQ   SI, AX
	VMASKMOVPS (AX), Y8, Y0
	VMASKMOVPS 32(AX), Y9, Y1
	VSHUFPS    $0x88, Y1, Y0, Y0
	VPERMPD    $0xD8, Y0, Y0

ynstore:
	CMPQ       R11, $32
	JLT        ynmasked
	VMOVUPS    Y0, (DI)
	JMP        ynnext

ynmasked:
	VMASKMOVPS Y0, Y12, (DI)

ynnext:
	ADDQ R10, DI
	SUBQ R10, R11
	ADDQ $2, R8
	DECQ CX
	JNZ  ynarrow
	VZEROUPPER
	RET

ywide:
	VXORPS Y0, Y0, Y0
	VXORPS Y2, Y2, Y2
	CMPQ   R8, $0
	JLT    ywstore
	CMPQ   R8, DX
	JGE    ywstore
	MOVQ   R8, AX
	IMULQ  R9, AX
	ADDQ   SI, AX
	VMASKMOVPS (AX), Y8, Y0
	VMASKMOVPS 32(AX), Y9, Y1
	VSHUFPS    $0x88, Y1, Y0, Y0
	VPERMPD    $0xD8, Y0, Y0
	VMASKMOVPS 64(AX), Y10, Y2
	VMASKMOVPS 96(AX), Y11, Y3
	VSHUFPS    $0x88, Y3, Y2, Y2
	VPERMPD    $0xD8, Y2, Y2

ywstore:
	CMPQ       R11, $64
	JLT        ywmasked
	VMOVUPS    Y0, (DI)
	VMOVUPS    Y2, 32(DI)
	JMP        ywnext

ywmasked:
	VMASKMOVPS Y0, Y12, (DI)
	VMASKMOVPS Y2, Y13, 32(DI)

ywnext:
	ADDQ R10, DI
	SUBQ R10, R11
	ADDQ $2, R8
	DECQ CX
	JNZ  ywide
	VZEROUPPER
	RET
